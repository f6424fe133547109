package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/jsonx"
	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// WebSocket close codes used by pixelsim.
const (
	CloseIdle     = wsframe.CloseGoingAway      // 1001 "idle timeout", "keepalive timeout" and "server shutting down"
	CloseBadText  = wsframe.CloseInvalidPayload // 1007 a text message that is not valid UTF-8 (RFC 6455 section 8.1)
	CloseTooLarge = wsframe.CloseTooBig         // 1009 message or session text over its limit
	CloseTryLater = 1013                        // the sessions' text budget (WSConfig.TextBudget) is spent: "try again later"
)

// Session text buffers: a new one holds at least minTextBytes; one that an inference
// empties is kept (with its share of the text budget) only up to keepTextBytes.
const (
	minTextBytes  = 256
	keepTextBytes = 4 << 10
)

// newUpgrader returns the server's upgrader; failed handshakes get JSON errors. Only the
// handshake is gorilla's: the connection is handed to the server's event loop right after.
func (s *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		// 0: gorilla reuses net/http's buffers instead of allocating its own, which
		// would go unused.
		ReadBufferSize:  0,
		WriteBufferSize: 0,
		// pixelsim is a loopback test target: any origin may connect.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			s.writeError(w, status, CodeBadRequest, "WebSocket handshake: "+reason.Error())
		},
	}
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

// serveWS completes the handshake and hands the connection to the event loop; the
// handler goroutine returns at once. The upgrader refuses a client that sends data before
// the handshake is complete, so no bytes read by net/http are left behind.
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
	nc := conn.NetConn() // gorilla's Conn is not used after the handshake
	ss := newSession(s)
	if f := s.cfg.Faults.DropRate; f > 0 {
		rg := s.rng()
		ss.drop = rg.Float64() < f
		s.putRNG(rg)
	}
	if err := s.register(ss); err != nil {
		code, reason := CloseIdle, "server shutting down"
		if !errors.Is(err, errClosed) {
			s.errLog.Printf("WebSocket session: %v", err)
			code, reason = wsframe.CloseInternalError, "no event loop"
		}
		nc.SetWriteDeadline(time.Now().Add(writeWait))
		nc.Write(wsframe.AppendFrame(nil, wsframe.OpClose, wsframe.AppendClosePayload(nil, code, reason), false, [4]byte{}))
		nc.Close()
		return
	}
	s.c.wsTotal.Add(1)
	s.c.wsActive.Add(1)
	nc.SetDeadline(time.Time{}) // the loop keeps time itself
	ss.loop.Add(nc, nil, ss)
}

// ackChunk acknowledges a chunk; the ack is encoded without allocating.
func (ss *session) ackChunk(clientSeq int64, hasClient bool) {
	ss.seq++
	ss.s.c.wsChunks.Add(1)
	b := append(ss.ack[:0], `{"type":"chunk_ack","seq":`...)
	b = strconv.AppendUint(b, ss.seq, 10)
	b = append(b, `,"client_seq":`...)
	if hasClient {
		b = strconv.AppendInt(b, clientSeq, 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, '}')
	ss.ack = b
	ss.writeText(b)
}

// sendError reports a bad frame to the peer and keeps the session open.
func (ss *session) sendError(code, msg string) {
	ss.s.c.wsBadFrames.Add(1)
	ss.writeText(append([]byte(`{"type":"error",`), appendErrorJSON(nil, code, msg)[1:]...))
}

func (ss *session) handleText(data []byte) {
	if c, ok := parseChunkFrame(data); ok {
		ss.chunk(c.seq, c.hasSeq, c.modality, c.data, c.hasData)
		return
	}
	var env wsEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		ss.sendError(CodeBadJSON, fmt.Sprintf("frame is not a JSON object: %v", err))
		return
	}
	switch env.Type {
	case "start":
		for _, m := range env.Modalities {
			if m != "text" && m != "audio" && m != "image" {
				ss.sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", m))
				return
			}
		}
		ss.sessionID = env.SessionID
		msg := append([]byte(`{"type":"ready","session_id":`), jsonx.AppendString(nil, env.SessionID)...)
		ss.writeText(append(msg, '}'))
	case "chunk":
		var clientSeq int64
		if env.Seq != nil {
			n, err := env.Seq.Int64()
			if err != nil {
				ss.sendError(CodeBadRequest, fmt.Sprintf("chunk seq %q is not an integer", env.Seq.String()))
				return
			}
			clientSeq = n
		}
		var text []byte
		hasText := len(env.Data) > 0 && string(env.Data) != "null"
		if hasText && (env.Modality == "" || env.Modality == "text") {
			var t string
			if err := json.Unmarshal(env.Data, &t); err != nil {
				ss.sendError(CodeBadRequest, "chunk data of modality text must be a string")
				return
			}
			text = []byte(t)
		}
		ss.chunk(clientSeq, env.Seq != nil, []byte(env.Modality), text, hasText)
	case "end":
		ss.finish()
	default:
		ss.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q (want start, chunk or end)", env.Type))
	}
}

// chunk handles a chunk message: text (the decoded data, when hasText) joins the session's
// text; media is acknowledged but not judged.
func (ss *session) chunk(clientSeq int64, hasSeq bool, modality, text []byte, hasText bool) {
	switch string(modality) {
	case "", "text":
		if hasText {
			if len(ss.text)+len(text)+1 > ss.s.cfg.WS.MaxSessionText {
				ss.closeWith(CloseTooLarge, "session text exceeds "+strconv.Itoa(ss.s.cfg.WS.MaxSessionText)+" bytes")
				return
			}
			if !ss.appendText(text) {
				ss.s.c.wsOverBudget.Add(1)
				ss.closeWith(CloseTryLater, "server text budget spent, try again later")
				return
			}
		}
	case "audio", "image":
		// Media is acknowledged but not judged.
	default:
		ss.sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", modality))
		return
	}
	ss.ackChunk(clientSeq, hasSeq)
}

// appendText joins text to the session's text with a space. It grows the buffer itself,
// so that the buffer's capacity, the memory it holds, is what the session has taken from
// the server's text budget (textHeld); it returns false, changing nothing, when the budget
// has no room for the growth. The caller has checked WSConfig.MaxSessionText.
func (ss *session) appendText(text []byte) bool {
	need := len(ss.text) + len(text)
	if len(ss.text) > 0 {
		need++
	}
	if need > cap(ss.text) {
		// Double, as append would, but within the session's limit; when the budget is
		// short of that, take only what is needed.
		grown := max(need, min(max(2*cap(ss.text), minTextBytes), ss.s.cfg.WS.MaxSessionText))
		if !ss.s.reserveText(int64(grown - cap(ss.text))) {
			grown = need
			if !ss.s.reserveText(int64(grown - cap(ss.text))) {
				return false
			}
		}
		ss.textHeld += int64(grown - cap(ss.text))
		b := make([]byte, len(ss.text), grown)
		copy(b, ss.text)
		ss.text = b
	}
	if len(ss.text) > 0 {
		ss.text = append(ss.text, ' ')
	}
	ss.text = append(ss.text, text...)
	return true
}

// dropText frees the session's text and gives its share of the text budget back.
func (ss *session) dropText() {
	ss.s.releaseText(ss.textHeld)
	ss.textHeld = 0
	ss.text = nil
}

// finish answers an end message with the inference on the text received so far. Reads
// stay paused until its result is written (inferred), so the messages after "end" are
// handled after it. When a worker is free at once (and no stall is drawn) the model
// latency is a timer on the loop; otherwise the inference blocks (a worker, the latency,
// a stall), so it runs on a goroutine of the session's, whose context is cancelled when
// the session ends.
func (ss *session) finish() {
	ss.inferring = true
	ss.c.PauseReads(true)
	start := time.Now()
	p := ss.s.draw(false)
	if !p.stall && ss.s.gate.tryAcquire() {
		if p.slow {
			ss.s.c.slow.Add(1)
		}
		released := false
		release := func() {
			if !released {
				released = true
				ss.s.gate.release()
			}
		}
		// A timer even for no latency: inferred must not run inside the parse of the
		// input that holds the end message.
		t := ss.loop.AfterFunc(p.latency, func() {
			release()
			ss.inferred(start, judge(string(ss.text)), nil)
		})
		ss.cancelInfer = func() {
			t.Stop()
			release()
		}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ss.cancelInfer = cancel
	text := string(ss.text)
	ss.s.wg.Add(1) // the session holds the count up, so Close's Wait cannot be past zero
	go func() {
		defer ss.s.wg.Done()
		err := ss.s.infer(ctx, ctx, p)
		var v verdict
		if err == nil {
			v = judge(text)
		}
		ss.loop.Do(func() { ss.inferred(start, v, err) })
	}()
}

// inferred writes an inference's result (or the refusal of an overloaded server) and
// reads again.
func (ss *session) inferred(start time.Time, v verdict, err error) {
	ss.cancelInfer()
	ss.cancelInfer = nil
	if ss.state != stateOpen {
		return
	}
	ss.inferring = false
	switch {
	case errors.Is(err, errOverloaded):
		ss.sendError(CodeOverloaded, err.Error()) // the text stays for the next end
	case err != nil:
		ss.abort() // not expected while open: the wait ends early only as the session or server ends
		return
	default:
		ss.text = ss.text[:0]
		if cap(ss.text) > keepTextBytes {
			ss.dropText()
		}
		s := ss.s
		s.c.record(v)
		s.c.wsInfer.Add(1)
		elapsed := time.Since(start)
		s.latHist.Observe(elapsed.Seconds())
		b := make([]byte, 0, 512)
		b = append(b, `{"type":"inference","session_id":`...)
		b = jsonx.AppendString(b, ss.sessionID)
		b = append(b, `,"response":`...)
		b = append(b, responseText[v.risk]...)
		b = append(b, `,"latency_ms":`...)
		b = appendMillis(b, elapsed)
		b = append(b, `,"model":`...)
		b = append(b, s.modelJSON...)
		b = appendVerdict(b, v)
		b = append(b, '}')
		ss.writeText(b)
	}
	ss.flush()
	ss.resume()
}
