package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
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
// its writer. The reader owns everything but conn writes.
type session struct {
	s    *Server
	conn *websocket.Conn
	out  chan outMsg
	// readerDone is closed when the reader exits; writerDone when the writer exits.
	readerDone chan struct{}
	writerDone chan struct{}

	// reader-owned state
	text      []byte // text received since the last end
	seq       uint64 // chunks acked in this session
	binSeq    int64  // binary frames received
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
	conn, err := s.upgrader.Upgrade(w, r, nil)
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
		return ss.conn.SetReadDeadline(ss.readDeadline())
	})
	for {
		ss.conn.SetReadDeadline(ss.readDeadline())
		kind, data, err := ss.conn.ReadMessage()
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

// send queues m for the writer, blocking while the queue is full (backpressure on the
// peer's reading). It returns false when the session is ending.
func (ss *session) send(m outMsg) bool {
	select {
	case ss.out <- m:
		return true
	case <-ss.writerDone:
		return false
	case <-ss.s.quit:
		return false
	}
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
		msg := append([]byte(`{"type":"ready","session_id":`), appendJSONString(nil, env.SessionID)...)
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
		switch env.Modality {
		case "", "text":
			if len(env.Data) > 0 && string(env.Data) != "null" {
				var text string
				if err := json.Unmarshal(env.Data, &text); err != nil {
					return ss.sendError(CodeBadRequest, "chunk data of modality text must be a string")
				}
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
			return ss.sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", env.Modality))
		}
		return ss.ack(clientSeq, env.Seq != nil)
	case "end":
		return ss.finish()
	default:
		return ss.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q (want start, chunk or end)", env.Type))
	}
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
	b = appendJSONString(b, ss.sessionID)
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
	buf := make([]byte, 0, 128)
	for {
		select {
		case m := <-ss.out:
			payload := m.payload
			if m.ack {
				buf = append(buf[:0], `{"type":"chunk_ack","seq":`...)
				buf = strconv.AppendUint(buf, m.seq, 10)
				buf = append(buf, `,"client_seq":`...)
				if m.hasClient {
					buf = strconv.AppendInt(buf, m.clientSeq, 10)
				} else {
					buf = append(buf, "null"...)
				}
				buf = append(buf, '}')
				payload = buf
			}
			ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := ss.conn.WriteMessage(websocket.TextMessage, payload); err != nil {
				ss.conn.Close() // unblocks the reader
				return
			}
		case <-ticker.C:
			if err := ss.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
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
