package simulator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/jsonenc"
	"github.com/pixelk6/pixelk6/internal/lazyconn"
)

// writeWait bounds every write to a peer. Pings go out every pongWait*9/10 (pingPeriod),
// leaving a tenth of pongWait for the pong to come back before the read deadline.
const writeWait = 10 * time.Second

// closeGrace bounds how long the reader keeps draining the peer after sending a close
// frame of its own, so the frame is not lost to a TCP reset caused by unread data.
const closeGrace = time.Second

func pingPeriod(pongWait time.Duration) time.Duration { return pongWait * 9 / 10 }

// WebSocket close codes used by pixelsim.
const (
	CloseIdle     = websocket.CloseGoingAway     // 1001 "idle timeout" and "server shutting down"
	CloseTooLarge = websocket.CloseMessageTooBig // 1009 message or session text over its limit
)

// newUpgrader returns the server's upgrader; failed handshakes get JSON errors.
func (s *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		// pixelsim is a loopback test target: any origin may connect.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			s.writeError(w, status, CodeBadRequest, "WebSocket handshake: "+reason.Error())
		},
	}
}

// outMsg is one message for the writer. Acks are encoded by the writer itself (no
// allocation per chunk); other kinds carry their payload.
type outMsg struct {
	ack       bool
	seq       uint64 // server's chunk count (ack)
	clientSeq int64  // client's seq (ack)
	hasClient bool
	payload   []byte // complete JSON message (non-ack)
}

// session is one WebSocket connection. The handler goroutine is its reader; writeLoop is
// its writer. The reader owns everything but conn writes. Writes are serialised by wmu:
// the reader writes a message itself when nothing is queued and the writer is idle (most
// acks, saving a goroutine hand-off per chunk), and hands it to the writer otherwise, so
// messages keep their order.
type session struct {
	s    *Server
	conn *websocket.Conn
	out  chan outMsg
	// readerDone is closed when the reader exits; writerDone when the writer exits.
	readerDone chan struct{}
	writerDone chan struct{}

	wmu    sync.Mutex   // held for every conn data or ping write
	queued atomic.Int64 // messages in out or being written by the writer
	// guarded by wmu
	wdeadline time.Time // the write deadline last given to conn
	wbuf      []byte    // ack encoding

	// reader-owned state
	rbuf      []byte    // the message being read (reused)
	rdeadline time.Time // the read deadline last set on conn
	text      []byte    // text received since the last end
	seq       uint64    // chunks acked in this session
	binSeq    int64     // binary frames received
	lastData  time.Time
	lastPong  time.Time
	drop      bool
	sessionID string
}

// wsEnvelope is a client text frame.
type wsEnvelope struct {
	Type       string          `json:"type"`
	Seq        *json.Number    `json:"seq"`
	Modality   string          `json:"modality"`
	Data       json.RawMessage `json:"data"`
	SessionID  string          `json:"session_id"`
	Modalities []string        `json:"modalities"`
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		s.writeError(w, http.StatusBadRequest, CodeBadRequest, "expected a WebSocket upgrade request")
		return
	}
	conn, err := s.upgrader.Upgrade(hijackWrapper{w}, r, nil)
	if err != nil {
		return // the upgrader's Error has answered
	}
	s.c.countStatus(http.StatusSwitchingProtocols)
	now := time.Now()
	ss := &session{
		s:          s,
		conn:       conn,
		out:        make(chan outMsg, s.cfg.WS.SendQueue),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
		lastData:   now,
		lastPong:   now,
		rbuf:       make([]byte, 0, 1024),
	}
	if !s.register(ss) {
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(CloseIdle, "server shutting down"), now.Add(writeWait))
		conn.Close()
		return
	}
	s.c.wsTotal.Add(1)
	s.c.wsActive.Add(1)
	if f := s.cfg.Faults.DropRate; f > 0 {
		rg := s.rng()
		ss.drop = rg.Float64() < f
		s.putRNG(rg)
	}
	go ss.writeLoop()
	ss.readLoop()
}

// shutdown closes the session from the server side (Close).
func (ss *session) shutdown() {
	ss.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(CloseIdle, "server shutting down"), time.Now().Add(writeWait))
	ss.conn.Close()
}

// readDeadline is the earlier of the idle deadline and the keepalive deadline.
func (ss *session) readDeadline() time.Time {
	idle := ss.lastData.Add(ss.s.cfg.WS.IdleTimeout)
	alive := ss.lastPong.Add(ss.s.cfg.WS.PongWait)
	if alive.Before(idle) {
		return alive
	}
	return idle
}

// armReadDeadline keeps conn's read deadline within slack after readDeadline. Setting a
// deadline costs a runtime timer update, so it is moved only when the wanted one has
// passed it (about once per slack while data flows, instead of once per message): a
// timeout fires at most slack late, never early.
func (ss *session) armReadDeadline() error {
	slack := deadlineSlack(min(ss.s.cfg.WS.IdleTimeout, ss.s.cfg.WS.PongWait))
	d, move := nextDeadline(ss.rdeadline, ss.readDeadline(), slack)
	if !move {
		return nil
	}
	ss.rdeadline = d
	return ss.conn.SetReadDeadline(d)
}

// nextDeadline decides a lazily kept deadline: with cur set (zero: none) and want wanted,
// it keeps cur while cur is in [want, want+slack], and otherwise moves it to want+slack.
func nextDeadline(cur, want time.Time, slack time.Duration) (d time.Time, move bool) {
	if !cur.IsZero() && !want.After(cur) && cur.Sub(want) <= slack {
		return cur, false
	}
	return want.Add(slack), true
}

// deadlineSlack is how late a timeout of d may fire: 1/64 of it.
func deadlineSlack(d time.Duration) time.Duration { return d / 64 }

func (ss *session) readLoop() {
	s := ss.s
	defer func() {
		close(ss.readerDone)
		<-ss.writerDone
		ss.conn.Close()
		s.unregister(ss)
		s.c.wsActive.Add(-1)
		s.wg.Done()
	}()
	ss.conn.SetReadLimit(s.cfg.WS.ReadLimit)
	ss.conn.SetPongHandler(func(string) error {
		ss.lastPong = time.Now()
		return ss.armReadDeadline()
	})
	for {
		ss.armReadDeadline()
		kind, data, err := ss.readMessage()
		if err != nil {
			ss.readFailed(err)
			return
		}
		ss.lastData = time.Now()
		if ss.drop {
			s.c.wsDropped.Add(1)
			ss.conn.NetConn().Close() // abrupt: no close frame
			return
		}
		var ok bool
		switch kind {
		case websocket.BinaryMessage:
			ss.binSeq++
			ok = ss.ack(ss.binSeq, true)
		case websocket.TextMessage:
			ok = ss.handleText(data)
		}
		if !ok {
			return
		}
	}
}

// readMessage reads the next message into the session's reusable buffer; data is valid
// until the next call.
func (ss *session) readMessage() (kind int, data []byte, err error) {
	kind, rd, err := ss.conn.NextReader()
	if err != nil {
		return kind, nil, err
	}
	b := ss.rbuf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			ss.rbuf = b
			return kind, b, nil
		}
		if err != nil {
			return kind, nil, err
		}
	}
}

// readFailed explains a read error to the peer when it is ours to explain.
func (ss *session) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		reason := "keepalive timeout"
		if !time.Now().Before(ss.lastData.Add(ss.s.cfg.WS.IdleTimeout)) {
			reason = "idle timeout"
		}
		ss.closeWith(CloseIdle, reason)
	case errors.Is(err, websocket.ErrReadLimit):
		ss.drain() // gorilla has already sent 1009
	}
	// Peer close or reset: nothing to say.
}

// closeWith sends a close frame and drains the peer until it closes too (or closeGrace).
func (ss *session) closeWith(code int, reason string) {
	ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
	ss.drain()
}

func (ss *session) drain() {
	nc := ss.conn.NetConn()
	nc.SetReadDeadline(time.Now().Add(closeGrace))
	io.Copy(io.Discard, nc)
}

// send writes m at once when nothing is queued and the writer is idle; otherwise it
// queues m for the writer, blocking while the queue is full (backpressure on the peer's
// reading). It returns false when the session is ending. Called by the reader only (the
// only goroutine that raises queued, so queued == 0 means every queued message is out).
func (ss *session) send(m outMsg) bool {
	if ss.queued.Load() == 0 && ss.wmu.TryLock() {
		err := ss.writeLocked(m)
		ss.wmu.Unlock()
		if err != nil {
			ss.conn.Close() // the writer notices through readerDone once the reader returns
			return false
		}
		return true
	}
	ss.queued.Add(1)
	select {
	case ss.out <- m:
		return true
	case <-ss.writerDone:
		return false
	case <-ss.s.quit:
		return false
	}
}

// writeLocked writes m; wmu is held. The write deadline is kept between 0.9 and 1 times
// writeWait ahead, moved only when it has fallen behind (gorilla hands the same deadline
// to the connection on every write, which hijackWrapper's conn then skips).
func (ss *session) writeLocked(m outMsg) error {
	payload := m.payload
	if m.ack {
		b := append(ss.wbuf[:0], `{"type":"chunk_ack","seq":`...)
		b = strconv.AppendUint(b, m.seq, 10)
		b = append(b, `,"client_seq":`...)
		if m.hasClient {
			b = strconv.AppendInt(b, m.clientSeq, 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
		ss.wbuf = b
		payload = b
	}
	if now := time.Now(); ss.wdeadline.Sub(now) < writeWait-writeWait/10 {
		ss.wdeadline = now.Add(writeWait)
		ss.conn.SetWriteDeadline(ss.wdeadline)
	}
	return ss.conn.WriteMessage(websocket.TextMessage, payload)
}

func (ss *session) ack(clientSeq int64, hasClient bool) bool {
	ss.seq++
	ss.s.c.wsChunks.Add(1)
	return ss.send(outMsg{ack: true, seq: ss.seq, clientSeq: clientSeq, hasClient: hasClient})
}

// sendError reports a bad frame to the peer and keeps the session open.
func (ss *session) sendError(code, msg string) bool {
	ss.s.c.wsBadFrames.Add(1)
	b := append([]byte(`{"type":"error",`), appendErrorJSON(nil, code, msg)[1:]...)
	return ss.send(outMsg{payload: b})
}

func (ss *session) handleText(data []byte) bool {
	if c, ok := parseChunkFrame(data); ok {
		return ss.chunk(c.seq, c.hasSeq, c.modality, c.data, c.hasData)
	}
	var env wsEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return ss.sendError(CodeBadJSON, fmt.Sprintf("frame is not a JSON object: %v", err))
	}
	switch env.Type {
	case "start":
		for _, m := range env.Modalities {
			if m != "text" && m != "audio" && m != "image" {
				return ss.sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", m))
			}
		}
		ss.sessionID = env.SessionID
		msg := append([]byte(`{"type":"ready","session_id":`), jsonenc.AppendString(nil, env.SessionID)...)
		return ss.send(outMsg{payload: append(msg, '}')})
	case "chunk":
		var clientSeq int64
		if env.Seq != nil {
			n, err := env.Seq.Int64()
			if err != nil {
				return ss.sendError(CodeBadRequest, fmt.Sprintf("chunk seq %q is not an integer", env.Seq.String()))
			}
			clientSeq = n
		}
		var text []byte
		hasText := len(env.Data) > 0 && string(env.Data) != "null"
		if hasText && (env.Modality == "" || env.Modality == "text") {
			var t string
			if err := json.Unmarshal(env.Data, &t); err != nil {
				return ss.sendError(CodeBadRequest, "chunk data of modality text must be a string")
			}
			text = []byte(t)
		}
		return ss.chunk(clientSeq, env.Seq != nil, []byte(env.Modality), text, hasText)
	case "end":
		return ss.finish()
	default:
		return ss.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q (want start, chunk or end)", env.Type))
	}
}

// chunk handles a chunk message: text (the decoded data, when hasText) joins the session's
// text; media is acknowledged but not judged.
func (ss *session) chunk(clientSeq int64, hasSeq bool, modality, text []byte, hasText bool) bool {
	switch string(modality) {
	case "", "text":
		if hasText {
			if len(ss.text)+len(text)+1 > ss.s.cfg.WS.MaxSessionText {
				ss.closeWith(CloseTooLarge, "session text exceeds "+strconv.Itoa(ss.s.cfg.WS.MaxSessionText)+" bytes")
				return false
			}
			if len(ss.text) > 0 {
				ss.text = append(ss.text, ' ')
			}
			ss.text = append(ss.text, text...)
		}
	case "audio", "image":
		// Media is acknowledged but not judged.
	default:
		return ss.sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", modality))
	}
	return ss.ack(clientSeq, hasSeq)
}

// chunkFrame is a chunk message read by parseChunkFrame. Its slices alias the frame.
type chunkFrame struct {
	seq      int64
	hasSeq   bool
	modality []byte
	data     []byte // the string's content (no escapes in it)
	hasData  bool
}

// parseChunkFrame is the per-chunk fast path of handleText: it reads the common shape
// {"type":"chunk","seq":N,"modality":"…","data":"…"} (members in any order, each at most
// once, seq/modality/data optional) without encoding/json and without allocating. It
// accepts only what encoding/json would decode identically into wsEnvelope — exact
// lower-case member names, integer seq without a fraction or exponent, strings of
// printable ASCII without escapes — and returns ok = false for anything else, which
// handleText then decodes (and diagnoses) the general way.
func parseChunkFrame(b []byte) (c chunkFrame, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	var seen uint8
	isChunk := false
	for {
		i = skipWS(b, i+1)
		key, j, ok := plainString(b, i)
		if !ok {
			return c, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = skipWS(b, i+1)
		var bit uint8
		switch string(key) {
		case "type":
			bit = 1
			v, j, ok := plainString(b, i)
			if !ok || string(v) != "chunk" {
				return c, false
			}
			isChunk, i = true, j
		case "seq":
			bit = 2
			n, j, ok := plainInt(b, i)
			if !ok {
				return c, false
			}
			c.seq, c.hasSeq, i = n, true, j
		case "modality":
			bit = 4
			v, j, ok := plainString(b, i)
			if !ok {
				return c, false
			}
			c.modality, i = v, j
		case "data":
			bit = 8
			v, j, ok := plainString(b, i)
			if !ok {
				return c, false
			}
			c.data, c.hasData, i = v, true, j
		default:
			return c, false
		}
		if seen&bit != 0 {
			return c, false // a duplicate member: encoding/json keeps the last one
		}
		seen |= bit
		i = skipWS(b, i)
		if i >= len(b) {
			return c, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return c, false
		}
	}
	if skipWS(b, i+1) != len(b) {
		return c, false
	}
	return c, isChunk
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] made of printable ASCII without escapes; it
// returns its content and the index after the closing quote.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, i, false
		}
	}
	return nil, i, false
}

// plainInt reads a JSON integer at b[i] (optional minus, no leading zero, at most 18
// digits so it cannot overflow) followed by a delimiter.
func plainInt(b []byte, i int) (n int64, next int, ok bool) {
	j := i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		n = n*10 + int64(b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, i, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, j, true
}

// hijackWrapper hands gorilla's upgrader a connection wrapped in a lazyconn.Conn.
type hijackWrapper struct{ http.ResponseWriter }

func (h hijackWrapper) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("pixelsim: the response writer cannot be hijacked")
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		return c, brw, err
	}
	return lazyconn.New(c, nil, nil), brw, nil
}

// finish answers an end message with the inference on the text received so far, paying
// the model latency, and resets the text for the next message.
func (ss *session) finish() bool {
	s := ss.s
	start := time.Now()
	p := s.draw(false)
	if err := s.infer(chanContext{context.Background(), ss.writerDone}, p); err != nil {
		if errors.Is(err, errOverloaded) {
			return ss.sendError(CodeOverloaded, err.Error())
		}
		return false
	}
	v := judge(string(ss.text))
	ss.text = ss.text[:0]
	s.c.record(v)
	s.c.wsInfer.Add(1)
	elapsed := time.Since(start)
	s.latHist.Observe(elapsed.Seconds())
	b := make([]byte, 0, 512)
	b = append(b, `{"type":"inference","session_id":`...)
	b = jsonenc.AppendString(b, ss.sessionID)
	b = append(b, `,"response":`...)
	b = append(b, responseText[v.risk]...)
	b = append(b, `,"latency_ms":`...)
	b = appendMillis(b, elapsed)
	b = append(b, `,"model":`...)
	b = append(b, s.modelJSON...)
	b = appendVerdict(b, v)
	b = append(b, '}')
	// The reader was busy, not the peer: restart both the idle and the keepalive clocks
	// (a pong that arrived meanwhile is still unread).
	ss.lastData = time.Now()
	ss.lastPong = ss.lastData
	return ss.send(outMsg{payload: b})
}

func (ss *session) writeLoop() {
	defer func() {
		close(ss.writerDone)
		ss.s.wg.Done()
	}()
	ticker := time.NewTicker(pingPeriod(ss.s.cfg.WS.PongWait))
	defer ticker.Stop()
	for {
		select {
		case m := <-ss.out:
			ss.wmu.Lock()
			err := ss.writeLocked(m)
			ss.queued.Add(-1)
			ss.wmu.Unlock()
			if err != nil {
				ss.conn.Close() // unblocks the reader
				return
			}
		case <-ticker.C:
			ss.wmu.Lock()
			err := ss.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
			ss.wmu.Unlock()
			if err != nil {
				ss.conn.Close()
				return
			}
		case <-ss.readerDone:
			return
		}
	}
}

// chanContext is a context cancelled when done closes: the reader's waits end when the
// writer has given up on the peer, without a goroutine to watch it.
type chanContext struct {
	context.Context
	done <-chan struct{}
}

func (c chanContext) Done() <-chan struct{} { return c.done }

func (c chanContext) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}
