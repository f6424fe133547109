package simulator

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
)

func dialWS(t *testing.T, base string) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+PathWS, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if res.StatusCode != 101 {
		t.Fatalf("dial status %d", res.StatusCode)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wsMsg is any server message.
type wsMsg struct {
	Type      string   `json:"type"`
	Seq       uint64   `json:"seq"`
	ClientSeq *int64   `json:"client_seq"`
	SessionID string   `json:"session_id"`
	Response  string   `json:"response"`
	LatencyMS *float64 `json:"latency_ms"`
	Crisis    *Crisis  `json:"crisis"`
	Bias      *Bias    `json:"bias"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func readMsg(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("message kind %d", kind)
	}
	var m wsMsg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("server sent %q: %v", data, err)
	}
	return m
}

func sendJSON(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	if err := c.WriteJSON(v); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestWSProtocol runs a full session: start/ready, text and binary chunks, a bad frame,
// end → inference with the labels of the text sent, then a second message.
func TestWSProtocol(t *testing.T) {
	s, base := startServer(t, Config{Latency: FixedLatency(time.Millisecond)})
	c := dialWS(t, base)

	sendJSON(t, c, map[string]any{"type": "start", "session_id": "s-1", "modalities": []string{"text", "audio"}})
	if m := readMsg(t, c); m.Type != "ready" || m.SessionID != "s-1" {
		t.Fatalf("start → %+v", m)
	}
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": 7, "modality": "text", "data": "I feel"})
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 1 || m.ClientSeq == nil || *m.ClientSeq != 7 {
		t.Fatalf("chunk → %+v", m)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2, 0xff}); err != nil {
		t.Fatal(err)
	}
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 2 || m.ClientSeq == nil || *m.ClientSeq != 1 {
		t.Fatalf("binary → %+v", m)
	}
	for _, bad := range []string{`{"type":`, `"just a string"`, `{"type":"dance"}`, `{"type":"chunk","seq":1.5,"data":"x"}`, `{"type":"chunk","data":5}`} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if m := readMsg(t, c); m.Type != "error" || m.Error == nil || m.Error.Code == "" || m.Error.Message == "" {
			t.Fatalf("bad frame %s → %+v", bad, m)
		}
	}
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": 8, "modality": "audio", "data": "aGVsbG8="})
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 3 || *m.ClientSeq != 8 {
		t.Fatalf("audio chunk → %+v", m)
	}
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": 9, "data": "HOPELESS. Man up"})
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 4 || *m.ClientSeq != 9 {
		t.Fatalf("chunk → %+v", m)
	}
	sendJSON(t, c, map[string]any{"type": "end"})
	m := readMsg(t, c)
	if m.Type != "inference" || m.Response == "" || m.LatencyMS == nil || *m.LatencyMS < 1 || m.SessionID != "s-1" {
		t.Fatalf("end → %+v", m)
	}
	if diff := cmp.Diff(&Crisis{true, RiskMedium, 0.7}, m.Crisis); diff != "" {
		t.Errorf("crisis (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&Bias{true, []string{BiasGender}, 0.6}, m.Bias); diff != "" {
		t.Errorf("bias (-want +got):\n%s", diff)
	}

	// The next message is judged on its own text.
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": 10, "data": "hello"})
	readMsg(t, c)
	sendJSON(t, c, map[string]any{"type": "end"})
	if m := readMsg(t, c); m.Crisis == nil || m.Crisis.Detected || m.Bias.Detected {
		t.Errorf("second message labels = %+v %+v", m.Crisis, m.Bias)
	}

	st := s.Stats()
	if st.WSSessionsActive != 1 || st.WSChunksAcked != 5 || st.WSInferences != 2 || st.WSBadFrames != 5 ||
		st.Crisis[RiskMedium] != 1 || st.Bias[BiasGender] != 1 || st.InFlight != 0 {
		t.Errorf("stats = %+v", st)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
}

// TestWSK6Script mimics scripts/ws.js of the k6 reference: chunks without a start
// message, all sent before reading, then end.
func TestWSK6Script(t *testing.T) {
	_, base := startServer(t, DefaultConfig())
	c := dialWS(t, base)
	for i := 1; i <= 5; i++ {
		sendJSON(t, c, map[string]any{"type": "chunk", "seq": i, "data": strings.Repeat("x", 64)})
	}
	sendJSON(t, c, map[string]any{"type": "end"})
	for i := 1; i <= 5; i++ {
		if m := readMsg(t, c); m.Type != "chunk_ack" || *m.ClientSeq != int64(i) {
			t.Fatalf("ack %d = %+v", i, m)
		}
	}
	if m := readMsg(t, c); m.Type != "inference" {
		t.Fatalf("after end: %+v", m)
	}
}

func TestWSOversize(t *testing.T) {
	tests := []struct {
		name string
		send func(c *websocket.Conn) error
	}{
		{"one message over the read limit", func(c *websocket.Conn) error {
			return c.WriteMessage(websocket.TextMessage, []byte(`{"type":"chunk","data":"`+strings.Repeat("a", 2000)+`"}`))
		}},
		{"session text over its limit", func(c *websocket.Conn) error {
			for i := range 10 {
				if err := c.WriteJSON(map[string]any{"type": "chunk", "seq": i, "data": strings.Repeat("b", 400)}); err != nil {
					return nil // the server may have closed already
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := startServer(t, Config{WS: WSConfig{ReadLimit: 1024, MaxSessionText: 1000}})
			c := dialWS(t, base)
			if err := tt.send(c); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var err error
			for err == nil {
				_, _, err = c.ReadMessage() // acks, then the close
			}
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Errorf("read error %v, want close 1009", err)
			}
			c.Close()
			eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
		})
	}
}

func TestWSIdleTimeout(t *testing.T) {
	s, base := startServer(t, Config{WS: WSConfig{IdleTimeout: 50 * time.Millisecond}})
	c := dialWS(t, base)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "idle timeout" {
		t.Fatalf("read error %v, want close 1001 idle timeout", err)
	}
	c.Close()
	eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
}

// TestWSKeepalive: the server pings every PongWait*9/10, and a peer that never answers
// is closed with 1001 "keepalive timeout" after PongWait.
func TestWSKeepalive(t *testing.T) {
	t.Run("pings arrive", func(t *testing.T) {
		_, base := startServer(t, Config{WS: WSConfig{PongWait: time.Second, IdleTimeout: time.Minute}})
		c := dialWS(t, base)
		pinged := make(chan struct{}, 1)
		c.SetPingHandler(func(data string) error {
			select {
			case pinged <- struct{}{}:
			default:
			}
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		done := make(chan error, 1)
		go func() {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			done <- err
		}()
		select {
		case <-pinged:
		case err := <-done:
			t.Fatalf("connection ended before a ping: %v", err)
		}
		c.Close()
		<-done
	})
	t.Run("silent peer is closed", func(t *testing.T) {
		s, base := startServer(t, Config{WS: WSConfig{PongWait: 100 * time.Millisecond, IdleTimeout: time.Minute}})
		c := dialWS(t, base)
		c.SetPingHandler(func(string) error { return nil }) // never pong
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "keepalive timeout" {
			t.Fatalf("read error %v, want close 1001 keepalive timeout", err)
		}
		c.Close()
		eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
	})
}

// TestWSAbruptClose closes client TCP connections without a close frame, mid-message,
// and checks that sessions end and goroutines do not leak.
func TestWSAbruptClose(t *testing.T) {
	s, base := startServer(t, Config{Latency: FixedLatency(20 * time.Millisecond)})
	c0 := dialWS(t, base) // warm up the client and server machinery
	c0.Close()
	eventually(t, "warm-up session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
	before := runtime.NumGoroutine()
	for i := range 20 {
		c := dialWS(t, base)
		sendJSON(t, c, map[string]any{"type": "chunk", "seq": 1, "data": "hello"})
		if i%2 == 0 {
			sendJSON(t, c, map[string]any{"type": "end"}) // close while the inference is pending
		}
		c.NetConn().Close()
	}
	eventually(t, "sessions to end", func() bool {
		st := s.Stats()
		return st.WSSessionsActive == 0 && st.WSSessionsTotal == 21
	})
	eventually(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestWSDropFault(t *testing.T) {
	s, base := startServer(t, Config{Faults: Faults{DropRate: 1}})
	c := dialWS(t, base)
	sendJSON(t, c, map[string]any{"type": "chunk", "seq": 1, "data": "x"})
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	var ne net.Error
	if err == nil || (errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure) || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("read error %v, want an abrupt close (no close frame)", err)
	}
	eventually(t, "the drop to be counted", func() bool {
		st := s.Stats()
		return st.WSDropped == 1 && st.WSSessionsActive == 0 && st.WSChunksAcked == 0
	})
}

// TestWSCloseServer checks that Close ends open sessions with 1001 and returns.
func TestWSCloseServer(t *testing.T) {
	s, err := New(Config{Faults: Faults{StallRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	idle := dialWS(t, base)
	busy := dialWS(t, base)
	sendJSON(t, busy, map[string]any{"type": "end"}) // stalls in the inference
	eventually(t, "the stall", func() bool { return s.Stats().Stalled == 1 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, c := range []*websocket.Conn{idle, busy} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("read error %v, want close 1001", err)
		}
	}
	if st := s.Stats(); st.WSSessionsActive != 0 {
		t.Errorf("active sessions after Close: %d", st.WSSessionsActive)
	}
}

// TestWSHandshakeError checks that a failed upgrade gets a JSON error, not plain text.
func TestWSHandshakeError(t *testing.T) {
	_, base := startServer(t, Config{})
	req, _ := http.NewRequest("GET", base+PathWS, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-Websocket-Version", "7")
	req.Header.Set("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e ErrorResponse
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || res.StatusCode != 400 || e.Error.Code != CodeBadRequest {
		t.Errorf("handshake error: %d %+v %v", res.StatusCode, e, err)
	}
}

// TestParseChunkFrame: the fast path takes the common chunk shape and declines everything
// it cannot decode exactly as encoding/json would.
func TestParseChunkFrame(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     chunkFrame
		ok       bool
	}{
		{"audio", `{"type":"chunk","seq":12,"modality":"audio","data":"aGVsbG8="}`,
			chunkFrame{seq: 12, hasSeq: true, modality: []byte("audio"), data: []byte("aGVsbG8="), hasData: true}, true},
		{"any order and spaces", " {\n\"data\" : \"I feel\", \"seq\":-3 ,\"type\":\"chunk\"}\t",
			chunkFrame{seq: -3, hasSeq: true, data: []byte("I feel"), hasData: true}, true},
		{"no seq no data", `{"type":"chunk"}`, chunkFrame{}, true},
		{"empty data", `{"type":"chunk","data":""}`, chunkFrame{data: []byte{}, hasData: true}, true},
		{"not a chunk", `{"type":"end"}`, chunkFrame{}, false},
		{"no type", `{"seq":1,"data":"x"}`, chunkFrame{}, false},
		{"fractional seq", `{"type":"chunk","seq":1.5}`, chunkFrame{}, false},
		{"exponent seq", `{"type":"chunk","seq":1e3}`, chunkFrame{}, false},
		{"leading zero", `{"type":"chunk","seq":01}`, chunkFrame{}, false},
		{"huge seq", `{"type":"chunk","seq":12345678901234567890}`, chunkFrame{}, false},
		{"null data", `{"type":"chunk","data":null}`, chunkFrame{}, false},
		{"number data", `{"type":"chunk","data":5}`, chunkFrame{}, false},
		{"escaped data", `{"type":"chunk","data":"a\nb"}`, chunkFrame{}, false},
		{"non-ASCII data", `{"type":"chunk","data":"café"}`, chunkFrame{}, false},
		{"upper-case key", `{"TYPE":"chunk"}`, chunkFrame{}, false},
		{"unknown key", `{"type":"chunk","extra":1}`, chunkFrame{}, false},
		{"duplicate key", `{"type":"chunk","seq":1,"seq":2}`, chunkFrame{}, false},
		{"trailing garbage", `{"type":"chunk"}x`, chunkFrame{}, false},
		{"trailing comma", `{"type":"chunk",}`, chunkFrame{}, false},
		{"truncated", `{"type":"chunk","data":"ab`, chunkFrame{}, false},
		{"empty object", `{}`, chunkFrame{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseChunkFrame([]byte(tc.in))
			if ok != tc.ok {
				t.Fatalf("parseChunkFrame(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			}
			if ok {
				if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(chunkFrame{})); diff != "" {
					t.Errorf("parseChunkFrame(%q) (-want +got):\n%s", tc.in, diff)
				}
			}
		})
	}
}

// FuzzParseChunkFrame: whatever the fast path accepts, encoding/json decodes to the same
// chunk.
func FuzzParseChunkFrame(f *testing.F) {
	for _, s := range []string{`{"type":"chunk","seq":1,"modality":"audio","data":"aGk="}`, `{"type":"chunk"}`,
		`{"type":"chunk","seq":-0,"data":""}`, `{"type":"end"}`, ` {"data":"x","type":"chunk"} `, `{"type":"chunk","seq":1.0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := parseChunkFrame(b)
		if !ok {
			return
		}
		var env wsEnvelope
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json rejects it: %v", b, err)
		}
		if env.Type != "chunk" || env.Modality != string(c.modality) || (env.Seq != nil) != c.hasSeq {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, c, env)
		}
		if c.hasSeq {
			if n, err := env.Seq.Int64(); err != nil || n != c.seq {
				t.Fatalf("%q: seq fast %d, encoding/json %v (%v)", b, c.seq, env.Seq, err)
			}
		}
		if c.hasData {
			var s string
			if err := json.Unmarshal(env.Data, &s); err != nil || s != string(c.data) {
				t.Fatalf("%q: data fast %q, encoding/json %q (%v)", b, c.data, s, err)
			}
		} else if len(env.Data) != 0 {
			t.Fatalf("%q: fast path saw no data, encoding/json %s", b, env.Data)
		}
	})
}

// BenchmarkWSChunkFrame is the server's per-chunk parse of the client's JSON audio chunk.
func BenchmarkWSChunkFrame(b *testing.B) {
	data := `{"type":"chunk","seq":17,"modality":"audio","data":"` + strings.Repeat("QUJD", 214) + `"}`
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := parseChunkFrame([]byte(data)); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var env wsEnvelope
			if err := json.Unmarshal([]byte(data), &env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestNextDeadline: a lazily kept read deadline moves only when the wanted one passes it,
// and is never earlier than wanted nor later than wanted + slack.
func TestNextDeadline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const slack = time.Second
	for _, tc := range []struct {
		name      string
		cur, want time.Time
		wantD     time.Time
		wantMove  bool
	}{
		{"none set yet", time.Time{}, t0, t0.Add(slack), true},
		{"wanted moved a little", t0.Add(slack), t0.Add(slack / 2), t0.Add(slack), false},
		{"wanted reaches the deadline", t0.Add(slack), t0.Add(slack), t0.Add(slack), false},
		{"wanted passed the deadline", t0.Add(slack), t0.Add(slack + 1), t0.Add(2*slack + 1), true},
		{"wanted moved earlier than the slack allows", t0.Add(slack), t0.Add(-time.Millisecond), t0.Add(slack - time.Millisecond), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, move := nextDeadline(tc.cur, tc.want, slack)
			if !d.Equal(tc.wantD) || move != tc.wantMove {
				t.Errorf("nextDeadline(%v, %v) = %v, %v; want %v, %v", tc.cur, tc.want, d, move, tc.wantD, tc.wantMove)
			}
			if d.Before(tc.want) || d.After(tc.want.Add(slack)) {
				t.Errorf("deadline %v outside [%v, %v]", d, tc.want, tc.want.Add(slack))
			}
		})
	}
}
