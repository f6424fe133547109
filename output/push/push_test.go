package push

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// server is a loopback HTTP server whose answers a test scripts: status codes in turn
// (the last one repeats), or a hang until the client gives up.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	hang     bool
	requests atomic.Int64
	points   atomic.Int64 // points of the requests answered 2xx
}

func newServer(t *testing.T, statuses ...int) *server {
	s := &server{statuses: statuses}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		st, hang := s.statuses[0], s.hang
		if len(s.statuses) > 1 {
			s.statuses = s.statuses[1:]
		}
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		if st/100 == 2 {
			n, _ := strconv.Atoi(r.Header.Get("X-Points"))
			s.points.Add(int64(n))
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(s.Close)
	return s
}

// httpRequest posts a batch's size to the server: a real HTTP write.
type httpRequest struct {
	url    string
	points int
}

func (r *httpRequest) Points() int { return r.points }

func (r *httpRequest) Send(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(nil))
	if err != nil {
		return err
	}
	req.Header.Set("X-Points", strconv.Itoa(r.points))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		r.points = 0
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("status %d", resp.StatusCode))
	}
	return fmt.Errorf("status %d", resp.StatusCode)
}

// counter accumulates samples as a count of points for an httpRequest.
type counter struct {
	url string
	n   int
}

func (c *counter) Add(s []metrics.Sample) int { c.n += len(s); return c.n }

func (c *counter) Take() Request {
	if c.n == 0 {
		return nil
	}
	r := &httpRequest{url: c.url, points: c.n}
	c.n = 0
	return r
}

func samples(n int) []metrics.Sample {
	m := metrics.NewRegistry().MustNewMetric("x", metrics.Counter, metrics.Default)
	out := make([]metrics.Sample, n)
	for i := range out {
		out[i] = metrics.Sample{Metric: m, Value: 1}
	}
	return out
}

func newPusher(srv *server, mod func(*Config)) (*Pusher, *[]string) {
	var warnings []string
	var mu sync.Mutex
	cfg := Config{Name: "test", Interval: time.Hour, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Acc:  &counter{url: srv.URL},
		Warn: func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() }}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg), &warnings
}

func TestPusher(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		statuses                []int
		mod                     func(*Config)
		written, dropped, reqs  int64
		droppedSamples, tooMany int64
		report                  bool
	}{
		{name: "ok", statuses: []int{204}, written: 10, reqs: 1},
		{name: "5xx retried until it works", statuses: []int{500, 503, 204}, written: 10, reqs: 3},
		{name: "429 retried", statuses: []int{429, 200}, written: 10, reqs: 2},
		{name: "5xx given up after the attempts", statuses: []int{500}, dropped: 10, reqs: 4, report: true},
		{name: "4xx dropped at once", statuses: []int{400}, dropped: 10, reqs: 1, report: true},
		{name: "too much waiting", statuses: []int{204}, mod: func(c *Config) { c.MaxPending = 6 }, written: 6, droppedSamples: 4, reqs: 1, report: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.statuses...)
			p, _ := newPusher(srv, tc.mod)
			p.Start()
			p.AddSamples(samples(6))
			p.AddSamples(samples(4))
			st := p.Stop()
			if st.Written != tc.written || st.Dropped != tc.dropped || st.DroppedSamples != tc.droppedSamples || srv.requests.Load() != tc.reqs {
				t.Fatalf("stats %+v after %d requests, want written %d dropped %d droppedSamples %d after %d",
					st, srv.requests.Load(), tc.written, tc.dropped, tc.droppedSamples, tc.reqs)
			}
			if srv.points.Load() != tc.written {
				t.Fatalf("server took %d points, pusher says %d", srv.points.Load(), tc.written)
			}
			if (st.Report("test") != "") != tc.report {
				t.Fatalf("report %q", st.Report("test"))
			}
		})
	}
}

// TestPusherHangingServer: a server that never answers costs at most the stop grace,
// and its points are counted as dropped.
func TestPusherHangingServer(t *testing.T) {
	srv := newServer(t, 204)
	srv.mu.Lock()
	srv.hang = true
	srv.mu.Unlock()
	p, _ := newPusher(srv, func(c *Config) { c.Timeout = time.Hour; c.StopGrace = 50 * time.Millisecond })
	p.Start()
	p.AddSamples(samples(7))
	st := p.Stop()
	if st.Dropped != 7 || st.Written != 0 {
		t.Fatalf("stats %+v, want 7 dropped", st)
	}
}

// TestPusherPeriodic: samples are written by the flusher while the run goes on, and the
// writers busy with a slow server leave later samples buffered, not blocked.
func TestPusherPeriodic(t *testing.T) {
	srv := newServer(t, 204)
	p, _ := newPusher(srv, func(c *Config) { c.Interval = time.Millisecond })
	p.Start()
	p.AddSamples(samples(3))
	for srv.points.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	p.AddSamples(samples(2))
	if st := p.Stop(); st.Written != 5 || st.Samples != 5 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPusherWarnings: a failing server is said while the run goes on, at most once per
// 5 s, not once per attempt.
func TestPusherWarnings(t *testing.T) {
	srv := newServer(t, 500)
	p, warnings := newPusher(srv, nil)
	p.Start()
	p.AddSamples(samples(1))
	p.Stop()
	if len(*warnings) != 1 {
		t.Fatalf("warnings: %q", *warnings)
	}
}

// TestPusherStopWithoutStart: the command line stops the outputs it built when a later
// --out is invalid, before any was started; Stop must return.
func TestPusherStopWithoutStart(t *testing.T) {
	srv := newServer(t, 204)
	p, _ := newPusher(srv, nil)
	if st := p.Stop(); st.Written != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}
