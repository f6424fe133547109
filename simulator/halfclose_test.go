package simulator

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// halfClosedRequest sends raw HTTP/1.1 request bytes over a fresh TCP connection, shuts
// down its write side (a FIN after the request, as `nc -N` or a shell pipe does) and
// reads the whole answer.
func halfClosedRequest(t *testing.T, base, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return res, body
}

// TestHalfClose: a client that half-closes its connection after its request (shutdown
// SHUT_WR) still gets its full answer, model latency or not; net/http cancels the
// request's context on that EOF (golang/go#18527), which must not cut the inference.
func TestHalfClose(t *testing.T) {
	for _, lat := range []Latency{{}, FixedLatency(50 * time.Millisecond)} {
		t.Run("latency "+lat.String(), func(t *testing.T) {
			s, base := startServer(t, Config{Latency: lat, Capacity: 1})
			res, body := halfClosedRequest(t, base, "GET "+PathHealth+" HTTP/1.1\r\nHost: sim\r\n\r\n")
			var h map[string]any
			if err := json.Unmarshal(body, &h); res.StatusCode != 200 || err != nil || h["status"] != "ok" {
				t.Errorf("health: %d %q (%v)", res.StatusCode, body, err)
			}
			prompt := `{"prompt":"I feel hopeless"}`
			res, body = halfClosedRequest(t, base, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: sim\r\n"+
				"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", PathInfer, len(prompt), prompt))
			var inf InferResponse
			if err := json.Unmarshal(body, &inf); res.StatusCode != 200 || err != nil || inf.Response == "" ||
				inf.Crisis.RiskLevel != RiskMedium || inf.LatencyMS < float64(lat.Median.Milliseconds()) {
				t.Errorf("infer: %d %q (%v)", res.StatusCode, body, err)
			}
			eventually(t, "the worker to be free", func() bool {
				st := s.Stats()
				return st.WorkersBusy == 0 && st.InFlight == 0
			})
			if st := s.Stats(); st.InferTotal != 1 || st.Status["499"] != 0 {
				t.Errorf("stats: %d inferences, %d given up", st.InferTotal, st.Status["499"])
			}
		})
	}
}

// TestHalfCloseStall: a stall with an end is sat out for a half-closed client, which then
// gets its answer; a stall without end (StallFor 0) ends when the client's side of the
// connection ends, half-closed or gone, with no answer at all: never an empty 200.
func TestHalfCloseStall(t *testing.T) {
	prompt := `{"prompt":"hello"}`
	raw := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: sim\r\nContent-Length: %d\r\n\r\n%s", PathInfer, len(prompt), prompt)
	t.Run("stall with an end", func(t *testing.T) {
		s, base := startServer(t, Config{Faults: Faults{StallRate: 1, StallFor: 30 * time.Millisecond}})
		res, body := halfClosedRequest(t, base, raw)
		var inf InferResponse
		if err := json.Unmarshal(body, &inf); res.StatusCode != 200 || err != nil || inf.LatencyMS < 30 {
			t.Errorf("infer: %d %q (%v)", res.StatusCode, body, err)
		}
		if st := s.Stats(); st.Stalled != 1 || st.InferTotal != 1 {
			t.Errorf("stats: %d stalled, %d inferences", st.Stalled, st.InferTotal)
		}
	})
	t.Run("stall without end", func(t *testing.T) {
		s, base := startServer(t, Config{Faults: Faults{StallRate: 1}})
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the stall", func() bool { return s.Stats().Stalled == 1 })
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(c); err != nil || len(got) != 0 {
			t.Errorf("answer %q (%v), want the connection closed without one", got, err)
		}
		eventually(t, "the worker to be free", func() bool {
			st := s.Stats()
			return st.WorkersBusy == 0 && st.InFlight == 0 && st.Status["499"] == 1
		})
		if st := s.Stats(); st.Status["200"] != 0 {
			t.Errorf("a 200 was counted: %v", st.Status)
		}
	})
}
