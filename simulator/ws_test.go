package simulator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/internal/wsframe"
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
			select {
			case <-pinged: // the ping came, then the session ended (a pong late on a busy machine)
			default:
				t.Fatalf("connection ended before a ping: %v", err)
			}
			return
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

// clientFrame is a frame as a client sends it: b0 is the first byte (FIN, reserved bits,
// opcode), the payload is masked unless unmasked is set. It builds frames wsframe will
// not (fragments, broken ones).
func clientFrame(b0 byte, payload []byte, unmasked bool) []byte {
	b := []byte{b0}
	var m byte = 0x80
	if unmasked {
		m = 0
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if unmasked {
		return append(b, payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// writeRaw writes bytes to the client's socket, bypassing gorilla's writer.
func writeRaw(t *testing.T, c *websocket.Conn, frames ...[]byte) {
	t.Helper()
	if _, err := c.NetConn().Write(bytes.Join(frames, nil)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestWSOrderAfterEnd: messages pipelined after "end" are handled after the inference is
// sent (the session stops reading while it is pending), and each inference judges only
// the text before its end.
func TestWSOrderAfterEnd(t *testing.T) {
	s, base := startServer(t, Config{Latency: FixedLatency(30 * time.Millisecond)})
	c := dialWS(t, base)
	var frames [][]byte
	for _, m := range []string{
		`{"type":"chunk","seq":1,"data":"I feel hopeless"}`, `{"type":"end"}`,
		`{"type":"chunk","seq":2,"data":"hello"}`, `{"type":"end"}`,
		`{"type":"chunk","seq":3,"data":"again"}`,
	} {
		frames = append(frames, clientFrame(0x81, []byte(m), false))
	}
	writeRaw(t, c, frames...) // in one write: the server reads them together
	want := []string{"chunk_ack 1", "inference medium", "chunk_ack 2", "inference none", "chunk_ack 3"}
	for i, w := range want {
		m := readMsg(t, c)
		got := m.Type
		switch m.Type {
		case "chunk_ack":
			got += " " + strconv.FormatInt(*m.ClientSeq, 10)
		case "inference":
			got += " " + m.Crisis.RiskLevel
		}
		if got != w {
			t.Fatalf("message %d = %q (%+v), want %q", i, got, m, w)
		}
	}
	if st := s.Stats(); st.WSInferences != 2 || st.WSChunksAcked != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// TestWSBackpressure: a client that sends without reading gets its session paused once
// the output waiting for it passes the send limit, instead of the server buffering acks
// without bound; once it reads, every chunk is acknowledged in order.
func TestWSBackpressure(t *testing.T) {
	s, base := startServer(t, Config{WS: WSConfig{SendQueue: 4}}) // a limit of 1 KiB
	c := dialWS(t, base)

	// 1.6 MB of tiny binary chunks, 9 MB of acks: over what the kernel's socket buffers
	// hold (4 MiB at most on the server's side, as tcp_wmem allows by default).
	const total = 200_000
	frame := clientFrame(0x82, []byte{1, 2}, false)
	sent := make(chan error, 1)
	go func() {
		buf := bytes.Repeat(frame, 1000)
		for range total / 1000 {
			if _, err := c.NetConn().Write(buf); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()

	// The acks stop growing once the server has paused.
	var acked uint64
	eventually(t, "the session to pause", func() bool {
		before := s.Stats().WSChunksAcked
		time.Sleep(100 * time.Millisecond)
		acked = s.Stats().WSChunksAcked
		return acked == before && acked > 0
	})
	if acked >= total {
		t.Fatalf("all %d chunks acked without the client reading", acked)
	}
	type probe struct {
		pending    int
		backlogged bool
	}
	got := make(chan probe, 1)
	s.mu.Lock()
	for ss := range s.sessions {
		ss.loop.Do(func() { got <- probe{ss.c.Pending(), ss.backlogged} })
	}
	s.mu.Unlock()
	p := <-got
	if limit := s.cfg.WS.sendLimit() + flushBytes + sendMsgBytes; !p.backlogged || p.pending > limit {
		t.Errorf("paused session: backlogged %v, %d bytes pending (limit %d)", p.backlogged, p.pending, limit)
	}
	t.Logf("%d chunks acked before the pause, %d bytes pending", acked, p.pending)

	// Read the acks straight off the socket: megabytes of them wait in the kernel's
	// buffers, and the session is dropped if they are not taken within writeWait.
	rd := wsframe.Reader{}
	var buf, want []byte
	tmp := make([]byte, 64<<10)
	c.NetConn().SetReadDeadline(time.Now().Add(writeWait))
	for i := 1; i <= total; {
		m, n, ok, err := rd.Next(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			buf = append(buf[:copy(buf, buf[n:])], tmp[:readSome(t, c.NetConn(), tmp)]...)
			continue
		}
		want = strconv.AppendInt(append(want[:0], `{"type":"chunk_ack","seq":`...), int64(i), 10)
		want = strconv.AppendInt(append(want, `,"client_seq":`...), int64(i), 10)
		if want = append(want, '}'); m.Op != wsframe.OpText || !bytes.Equal(m.Payload, want) {
			t.Fatalf("message %d = %d %q, want %s", i, m.Op, m.Payload, want)
		}
		buf = buf[n:]
		i++
	}
	if err := <-sent; err != nil {
		t.Fatalf("client write: %v", err)
	}
}

func readSome(t *testing.T, r io.Reader, b []byte) int {
	t.Helper()
	n, err := r.Read(b)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return n
}

// TestWSPingPong: the server answers a ping with a pong of the same payload, and a client
// that answers the server's pings stays connected past PongWait. The test counts the
// server's pings rather than timing a window: after the 4th ping (sent at 3.6 PongWaits,
// one every PongWait*9/10) the session must still be open.
func TestWSPingPong(t *testing.T) {
	// A pong must be back within a tenth of PongWait of its ping: 3 s leaves 300 ms, which a
	// busy machine's scheduling does not eat (the keepalive clock's own arithmetic is tested
	// without a clock).
	s, base := startServer(t, Config{WS: WSConfig{PongWait: 3 * time.Second, IdleTimeout: time.Minute}})
	c := dialWS(t, base)
	pongs := make(chan string, 1)
	c.SetPongHandler(func(data string) error {
		pongs <- data
		return nil
	})
	pings := make(chan struct{}, 16)
	c.SetPingHandler(func(data string) error {
		err := c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		select {
		case pings <- struct{}{}:
		default:
		}
		return err
	})
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { // ends when the test's cleanup closes the connection
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case p := <-pongs:
		if p != "are you there" {
			t.Errorf("pong payload %q", p)
		}
	case err := <-done:
		t.Fatalf("read ended before the pong: %v", err)
	}
	for i := range 2 {
		select {
		case <-pings:
		case err := <-done:
			t.Fatalf("the session ended after %d pings answered: %v", i, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("%d pings in 30 s", i)
		}
	}
	if st := s.Stats(); st.WSSessionsActive != 1 {
		t.Errorf("active sessions %d, want 1", st.WSSessionsActive)
	}
}

// TestWSFragmented: a message sent in fragments, with a ping between them, is assembled;
// the ping is answered at once.
func TestWSFragmented(t *testing.T) {
	_, base := startServer(t, Config{})
	c := dialWS(t, base)
	pongs := make(chan string, 1)
	c.SetPongHandler(func(data string) error {
		pongs <- data
		return nil
	})
	writeRaw(t, c,
		clientFrame(0x01, []byte(`{"type":"chunk",`), false), // text, FIN unset
		clientFrame(0x00, []byte(`"seq":5,`), false),         // continuation
		clientFrame(0x89, []byte("mid"), false),              // a ping between fragments
	)
	writeRaw(t, c, clientFrame(0x80, []byte(`"data":"hi"}`), false)) // the last fragment, later
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 1 || *m.ClientSeq != 5 {
		t.Fatalf("fragmented text → %+v", m)
	}
	select {
	case p := <-pongs:
		if p != "mid" {
			t.Errorf("pong %q", p)
		}
	default:
		t.Error("no pong before the ack")
	}
	writeRaw(t, c, clientFrame(0x02, []byte{1, 2}, false), clientFrame(0x80, []byte{3}, false))
	if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 2 || *m.ClientSeq != 1 {
		t.Fatalf("fragmented binary → %+v", m)
	}
}

// TestWSClientClose: a client's close frame is answered with one echoing its code.
func TestWSClientClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		payload  []byte
		wantCode int
	}{
		{"with a code", websocket.FormatCloseMessage(4001, "bye"), 4001},
		{"normal", websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), websocket.CloseNormalClosure},
		{"without a code", nil, websocket.CloseNoStatusReceived},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startServer(t, Config{})
			c := dialWS(t, base)
			writeRaw(t, c, clientFrame(0x88, tc.payload, false))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			if !websocket.IsCloseError(err, tc.wantCode) {
				t.Fatalf("read error %v, want close %d", err, tc.wantCode)
			}
			eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
		})
	}
}

// TestWSProtocolError: a frame that breaks RFC 6455 is answered with close 1002.
func TestWSProtocolError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"unmasked", clientFrame(0x81, []byte(`{"type":"end"}`), true)},
		{"reserved bit", clientFrame(0xC1, []byte(`{}`), false)},
		{"unknown opcode", clientFrame(0x83, nil, false)},
		{"continuation first", clientFrame(0x80, []byte("x"), false)},
		{"fragmented ping", clientFrame(0x09, nil, false)},
		{"long ping", clientFrame(0x89, bytes.Repeat([]byte("p"), 126), false)},
		{"close code not sendable", clientFrame(0x88, []byte{0x03, 0xed}, false)}, // 1005
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startServer(t, Config{})
			c := dialWS(t, base)
			writeRaw(t, c, tc.frame)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseProtocolError) {
				t.Fatalf("read error %v, want close 1002", err)
			}
			c.Close()
			eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
		})
	}
}

// TestWSClock: a session's clock pings every PongWait*9/10, times out an idle or silent
// peer while reading, only pings while an inference is pending, and gives up on a peer
// that takes none of the pending output for writeWait.
func TestWSClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const idle, pongWait = 60 * time.Second, 10 * time.Second
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name       string
		lastData   time.Duration // since t0
		lastPong   time.Duration
		pingSent   time.Duration // the last ping's departure (0: none since t0)
		mode       clockMode
		stallAt    time.Duration
		stallBytes int
		now        time.Duration
		pending    int
		want       clockEvent
		wantNext   time.Duration
	}{
		{"nothing due", 0, 0, 0, clockReading, 0, 0, 5 * time.Second, 0, clockNothing, 9 * time.Second},
		{"ping due", 0, 0, 0, clockReading, 0, 0, 9 * time.Second, 0, clockPing, 10 * time.Second},
		{"pong late", 9 * time.Second, 0, 9 * time.Second, clockReading, 0, 0, 10 * time.Second, 0, clockKeepaliveTimeout, 0},
		{"pong came", 9 * time.Second, 9 * time.Second, 0, clockReading, 0, 0, 9 * time.Second, 0, clockPing, 18 * time.Second},
		{"idle", 0, 59 * time.Second, 0, clockReading, 0, 0, 60 * time.Second, 0, clockIdleTimeout, 0},
		{"idle wins over keepalive", 0, 0, 0, clockReading, 0, 0, 61 * time.Second, 0, clockIdleTimeout, 0},
		{"busy: pings only", 0, 0, 0, clockBusy, 0, 0, 61 * time.Second, 0, clockPing, 61*time.Second + 9*time.Second},
		{"busy: nothing due", 0, 0, 0, clockBusy, 0, 0, 5 * time.Second, 0, clockNothing, 9 * time.Second},
		{"stalled: no pings", 0, 0, 0, clockStalled, 2 * time.Second, 5000, 9 * time.Second, 5000, clockNothing, 12 * time.Second},
		{"stalled: stuck", 0, 0, 0, clockStalled, 2 * time.Second, 5000, 12 * time.Second, 5000, clockStuck, 0},
		{"stalled: progress", 0, 0, 0, clockStalled, 2 * time.Second, 5000, 12 * time.Second, 4000, clockNothing, 22 * time.Second},
		// A loop that wakes late sends the ping first and gives the peer a tenth of PongWait
		// from then: lateness is never taken as the peer's silence.
		{"late loop: ping first", 0, 0, 0, clockReading, 0, 0, 25 * time.Second, 0, clockPing, 26 * time.Second},
		{"late ping unanswered", 0, 0, 25 * time.Second, clockReading, 0, 0, 26 * time.Second, 0, clockKeepaliveTimeout, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := wsClock{idle: idle, pongWait: pongWait}
			k.start(t0)
			k.lastData, k.lastPong, k.pingSent = at(tc.lastData), at(tc.lastPong), at(tc.pingSent)
			k.stalled(at(tc.stallAt), tc.stallBytes)
			ev := k.check(at(tc.now), tc.mode, tc.pending)
			if ev != tc.want {
				t.Fatalf("check = %d, want %d", ev, tc.want)
			}
			if tc.wantNext == 0 {
				return // the session closes
			}
			if next := k.next(tc.mode); !next.Equal(at(tc.wantNext)) {
				t.Errorf("next = t0+%v, want t0+%v", next.Sub(t0), tc.wantNext)
			}
		})
	}
}

// recordConn is a connection that takes all output at once and keeps it.
type recordConn struct {
	out    []byte
	closed bool
}

func (c *recordConn) Write(b []byte) error {
	if c.closed {
		return evloop.ErrClosed
	}
	c.out = append(c.out, b...)
	return nil
}
func (c *recordConn) Pending() int    { return 0 }
func (c *recordConn) PauseReads(bool) {}
func (c *recordConn) Close()          { c.closed = true }

// onLoop runs f on the loop's goroutine and waits for it.
func onLoop(t testing.TB, l *evloop.Loop, f func()) {
	done := make(chan struct{})
	if !l.Do(func() { f(); close(done) }) {
		t.Fatal("loop closed")
	}
	<-done
}

// FuzzWSSession feeds a session arbitrary client bytes, in one read and cut in two: it
// never panics, writes well-formed frames with nothing after a close frame, and, unless
// an inference ran (its latency_ms differs), answers the same however the bytes are cut.
func FuzzWSSession(f *testing.F) {
	frame := func(b0 byte, p string) []byte { return clientFrame(b0, []byte(p), false) }
	for _, seed := range [][]byte{
		frame(0x81, `{"type":"chunk","seq":1,"data":"I feel hopeless"}`),
		bytes.Join([][]byte{frame(0x82, "abc"), frame(0x89, "hi"), frame(0x81, `{"type":"end"}`), frame(0x81, `{"type":"chunk"}`)}, nil),
		bytes.Join([][]byte{frame(0x01, `{"type":`), frame(0x8A, ""), frame(0x80, `"chunk"}`), frame(0x88, "\x03\xe8bye")}, nil),
		frame(0x81, `{"type":"chunk","data":"`+strings.Repeat("a", 300)+`"}`),
		clientFrame(0x81, []byte(`{}`), true),
		frame(0x81, `{"type":"dance"}`),
		frame(0x81, `{"type":"chunk","seq":1,"data":"caf`+"\xff"+`"}`),
		bytes.Join([][]byte{frame(0x01, `{"type":"chunk","data":"caf`+"\xc3"), frame(0x80, "\xa9"+`"}`), frame(0x81, `{"type":"end"}`)}, nil),
	} {
		f.Add(seed, uint(len(seed)/2))
	}
	s, err := New(Config{WS: WSConfig{ReadLimit: 512, MaxSessionText: 256}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	loop, err := evloop.New()
	if err != nil {
		f.Fatal(err)
	}
	defer loop.Close()
	f.Fuzz(func(t *testing.T, in []byte, cut uint) {
		feed := func(reads ...[]byte) []byte {
			ss := newSession(s)
			ss.loop = loop
			c := &recordConn{}
			onLoop(t, loop, func() { ss.open(c, time.Now()) })
			for _, r := range reads {
				r = bytes.Clone(r) // Data unmasks in place
				onLoop(t, loop, func() { ss.Data(r) })
			}
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				busy := true
				onLoop(t, loop, func() { busy = ss.inferring && ss.state == stateOpen })
				if !busy {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("inference still pending")
				}
			}
			var out []byte
			onLoop(t, loop, func() {
				out = bytes.Clone(c.out)
				ss.dropText() // as Closed does
			})
			if used := s.textUsed.Load(); used != 0 {
				t.Fatalf("%d bytes of the text budget still taken after the session", used)
			}
			return out
		}
		whole := feed(in)
		rd := wsframe.Reader{}
		closed := false
		for b := whole; len(b) > 0; {
			m, n, ok, err := rd.Next(b)
			if err != nil || !ok {
				t.Fatalf("server output %q: ok %v, error %v", b, ok, err)
			}
			if closed {
				t.Fatalf("frame %d %q after the close frame", m.Op, m.Payload)
			}
			closed = m.Op == wsframe.OpClose
			b = b[n:]
		}
		if cut := int(cut); cut < len(in) && !bytes.Contains(whole, []byte(`"inference"`)) {
			if split := feed(in[:cut], in[cut:]); !bytes.Equal(whole, split) {
				t.Fatalf("output for one read:\n%q\ncut at %d:\n%q", whole, cut, split)
			}
		}
	})
}

// TestWSInvalidUTF8: a text message that is not valid UTF-8 closes the connection with
// 1007 (RFC 6455 section 8.1), whether it came in one frame or in fragments; fragments cut
// inside a character are fine when the message they make is valid.
func TestWSInvalidUTF8(t *testing.T) {
	frag := func(parts ...string) [][]byte { // a text message in fragments
		var frames [][]byte
		for i, p := range parts {
			var b0 byte // continuation
			if i == 0 {
				b0 = 0x01
			}
			if i == len(parts)-1 {
				b0 |= 0x80
			}
			frames = append(frames, clientFrame(b0, []byte(p), false))
		}
		return frames
	}
	for _, tc := range []struct {
		name   string
		frames [][]byte
		valid  bool
	}{
		{"one frame, a stray byte", frag(`{"type":"chunk","seq":1,"data":"caf` + "\xff" + `"}`), false},
		{"one frame, a surrogate", frag(`{"type":"chunk","seq":1,"data":"` + "\xed\xa0\x80" + `"}`), false},
		{"one frame, a truncated character", frag(`{"type":"chunk","seq":1,"data":"caf` + "\xc3" + `"}`), false},
		{"outside the JSON string", frag("\xfe" + `{"type":"chunk","seq":1,"data":"x"}`), false},
		{"fragments cut inside a character", frag(`{"type":"chunk","seq":1,"data":"caf`+"\xc3", "\xa9"+`"}`), true},
		{"fragments cut inside a 4-byte character", frag(`{"type":"chunk","seq":1,"data":"`+"\xf0\x9f", "", "\x98\x80"+`"}`), true},
		{"fragments, a character left unfinished", frag(`{"type":"chunk","seq":1,"data":"caf`+"\xc3", `"}`), false},
		{"fragments, a bad byte in the last", frag(`{"type":"chunk",`, `"seq":1,"data":"`+"\x80"+`"}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startServer(t, Config{})
			c := dialWS(t, base)
			writeRaw(t, c, tc.frames...)
			if tc.valid {
				if m := readMsg(t, c); m.Type != "chunk_ack" || *m.ClientSeq != 1 {
					t.Fatalf("valid fragmented text → %+v", m)
				}
				writeRaw(t, c, clientFrame(0x82, []byte{0xff, 0xfe}, false)) // binary: not UTF-8, not checked
				if m := readMsg(t, c); m.Type != "chunk_ack" || m.Seq != 2 {
					t.Fatalf("binary chunk → %+v", m)
				}
				sendJSON(t, c, map[string]any{"type": "end"})
				if m := readMsg(t, c); m.Type != "inference" {
					t.Fatalf("end → %+v", m)
				}
				return
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData || ce.Text != "text message is not valid UTF-8" {
				t.Fatalf("read error %v, want close 1007", err)
			}
			c.Close()
			eventually(t, "the session to end", func() bool { return s.Stats().WSSessionsActive == 0 })
			if st := s.Stats(); st.WSChunksAcked != 0 || st.WSBadFrames != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}
