package websockets

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/internal/wsframe"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/internal/wsconn"
)

// loopConn runs a socket's connection on one of the test run's event loops
// (internal/evloop) once it is open: the loop reads and parses the frames (internal/wsframe)
// and writes what the VU hands it, so the socket has no goroutine of its own and its
// descriptor leaves Go's poller. It is used for a plain ws:// socket with no extension and
// nothing buffered past the handshake; the others keep gorilla's reader goroutine.
//
// Fields are the loop goroutine's unless their comment says otherwise.
type loopConn struct {
	s       *socket
	l       *evloop.Loop // any goroutine
	release func()       // the pool's count of the loop's connections
	bytes   *modules.ByteCounter

	c         *evloop.Conn
	fr        wsframe.Reader
	in        []byte  // a partial frame, between Data calls
	held      []event // events the full queue could not take, in order
	closeEv   *event  // the event Closed posts (the server's close frame), nil: an abnormal end
	keys      *wsframe.KeySource
	closing   bool        // the loop closed the connection: Closed follows
	sentClose bool        // a close frame went out: the server's is not echoed
	ended     bool        // Closed has run
	pending   int64       // payload bytes the connection still holds (see Drained)
	isPaused  atomic.Bool // reads are paused (set on the loop; the VU's drain reads it)

	// inflight is the payload bytes handed to the loop and not yet taken by the kernel
	// (any goroutine).
	inflight atomic.Int64
}

var _ evloop.Handler = (*loopConn)(nil)
var _ evloop.Drainer = (*loopConn)(nil)

// poolKey is the modules.Run key of a test run's loops for sockets.
type poolKey struct{}

// frameBufs are the buffers sends are framed into, handed from the VU to the loop.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// startLoop moves c onto a loop of the run when it can (see loopConn); nil: it cannot.
func (s *socket) startLoop(c *wsconn.Conn) *loopConn {
	if c.Out == nil {
		return nil
	}
	tail := c.Out.EndRecording()
	if s.st.Run == nil || !s.plain || c.Resp.Header.Get("Sec-WebSocket-Extensions") != "" ||
		!bytes.HasSuffix(tail, []byte("\r\n\r\n")) {
		return nil
	}
	pool, err := modules.RunValue(s.st.Run, poolKey{}, func() (*evloop.Pool, error) { return evloop.NewPool(0), nil })
	if err != nil {
		return nil
	}
	l, release, err := pool.Get()
	if err != nil {
		return nil
	}
	lc := &loopConn{s: s, l: l, release: release, bytes: s.st.Bytes,
		keys: wsframe.NewKeySource()}
	l.Add(c.Out.Conn, nil, lc)
	return lc
}

// Opened implements evloop.Handler.
func (lc *loopConn) Opened(c *evloop.Conn) { lc.c = c }

// Data implements evloop.Handler: it parses the frames and posts their events.
func (lc *loopConn) Data(b []byte) {
	if lc.bytes != nil {
		lc.bytes.Received.Add(int64(len(b)))
	}
	buf := b
	if len(lc.in) > 0 {
		lc.in = append(lc.in, b...)
		buf = lc.in
	}
	off := 0
	for off < len(buf) && !lc.closing {
		m, n, ok, err := lc.fr.Next(buf[off:])
		off += n
		if err != nil {
			var pe *wsframe.ProtocolError
			if errors.As(err, &pe) {
				// As gorilla does: answer with a close frame naming the error, then drop.
				lc.write(wsframe.OpClose, wsframe.AppendClosePayload(nil, pe.Code, pe.Reason))
			}
			lc.closeEv = &event{kind: evClosed, code: 1006, err: err, at: time.Now()}
			lc.closing = true
			lc.c.Close()
			return
		}
		if !ok {
			break
		}
		lc.message(m)
	}
	if lc.closing {
		return
	}
	rest := buf[off:]
	if len(lc.in) > 0 {
		lc.in = lc.in[:copy(lc.in, rest)]
	} else if len(rest) > 0 {
		lc.in = append(lc.in[:0], rest...)
	}
}

// message posts one message's event; it answers pings and the server's close frame.
func (lc *loopConn) message(m wsframe.Message) {
	now := lc.c.ReadTime()
	switch m.Op {
	case wsframe.OpText:
		lc.post(event{kind: evText, text: string(m.Payload), at: now})
	case wsframe.OpBinary:
		lc.post(event{kind: evBinary, data: bytes.Clone(m.Payload), at: now})
	case wsframe.OpPing:
		lc.write(wsframe.OpPong, m.Payload)
		lc.post(event{kind: evPing, data: bytes.Clone(m.Payload), at: now})
	case wsframe.OpPong:
		lc.post(event{kind: evPong, data: bytes.Clone(m.Payload), at: now})
	case wsframe.OpClose:
		code, reason, err := wsframe.ParseClosePayload(m.Payload)
		if err != nil {
			var pe *wsframe.ProtocolError
			errors.As(err, &pe)
			lc.write(wsframe.OpClose, wsframe.AppendClosePayload(nil, pe.Code, pe.Reason))
			lc.closeEv = &event{kind: evClosed, code: 1006, err: err, at: now}
		} else {
			// As gorilla's close handler: echo the code (no payload for "no status").
			if !lc.sentClose {
				var echo []byte
				if code != wsframe.CloseNoStatus {
					echo = wsframe.AppendClosePayload(nil, code, "")
				}
				lc.write(wsframe.OpClose, echo)
			}
			lc.closeEv = &event{kind: evClosed, code: code, reason: reason, clean: true, at: now}
		}
		lc.closing = true
		lc.c.Close()
	}
}

// write writes a control frame (loop goroutine).
func (lc *loopConn) write(op byte, payload []byte) {
	if lc.sentClose {
		return // nothing may follow a close frame
	}
	lc.sentClose = op == wsframe.OpClose
	b := wsframe.AppendFrame(nil, op, payload, true, lc.keys.Next())
	if lc.bytes != nil {
		lc.bytes.Sent.Add(int64(len(b)))
	}
	_ = lc.c.Write(b)
}

// post hands e to the VU; when the queue is full it holds e and pauses the reads until the
// VU has drained (resume), so that TCP pushes back on the server.
func (lc *loopConn) post(e event) {
	if len(lc.held) == 0 {
		select {
		case lc.s.events <- e:
			lc.s.drainSlot.Wake()
			return
		default:
		}
	}
	lc.held = append(lc.held, e)
	if !lc.isPaused.Load() {
		lc.isPaused.Store(true)
		lc.c.PauseReads(true)
	}
}

// resume is called by the VU after a drain: a paused connection posts what it holds and
// reads again.
func (lc *loopConn) resume() {
	if !lc.isPaused.Load() {
		return
	}
	lc.l.Do(func() {
		for len(lc.held) > 0 {
			select {
			case lc.s.events <- lc.held[0]:
				lc.held[0] = event{}
				lc.held = lc.held[1:]
				lc.s.drainSlot.Wake()
				continue
			default:
			}
			return // still full: the next drain resumes again
		}
		lc.held = nil
		if lc.isPaused.Load() && !lc.ended {
			lc.isPaused.Store(false)
			lc.c.PauseReads(false)
		}
	})
}

// Closed implements evloop.Handler: the last event, after those held back.
func (lc *loopConn) Closed(err error) {
	if lc.ended {
		return
	}
	lc.ended = true
	lc.release()
	lc.inflight.Store(0)
	last := lc.closeEv
	if last == nil {
		if err == nil {
			err = errors.New("websocket: the connection was closed")
		}
		last = &event{kind: evClosed, code: 1006, err: err, at: time.Now()}
	}
	rest := append(lc.held, *last)
	lc.held = nil
	for len(rest) > 0 {
		select {
		case lc.s.events <- rest[0]:
			rest = rest[1:]
			lc.s.drainSlot.Wake()
			continue
		default:
		}
		go lc.s.deliver(rest)
		return
	}
}

// Drained implements evloop.Drainer: the connection's pending output has been written.
func (lc *loopConn) Drained() {
	lc.inflight.Add(-lc.pending)
	lc.pending = 0
}

// send frames the held messages (VU goroutine) and hands them to the loop in one write.
func (lc *loopConn) send(frames []frame) {
	bp := frameBufs.Get().(*[]byte)
	b := (*bp)[:0]
	var payload int64
	for _, f := range frames {
		b = f.appendTo(b, lc.s.keys) // the socket's keys: no extension, so it frames directly
		payload += f.size()
	}
	lc.inflight.Add(payload)
	if lc.bytes != nil {
		lc.bytes.Sent.Add(int64(len(b)))
	}
	if !lc.l.Do(func() {
		if lc.c != nil && !lc.ended {
			_ = lc.c.Write(b)
			if lc.c.Pending() > 0 {
				lc.pending += payload
			} else {
				lc.inflight.Add(-payload)
			}
		}
		if cap(b) <= 64<<10 {
			*bp = b
			frameBufs.Put(bp)
		}
	}) {
		lc.inflight.Add(-payload)
	}
}

// control hands a control frame from the VU (ping, close) to the loop.
func (lc *loopConn) control(op byte, payload []byte) {
	lc.l.Do(func() {
		if lc.c != nil && !lc.ended {
			lc.write(op, payload)
		}
	})
}

// abort drops the connection (any goroutine): Closed follows on the loop.
func (lc *loopConn) abort() {
	lc.l.Do(func() {
		if lc.c != nil && !lc.ended {
			lc.closing = true
			lc.c.Close()
		}
	})
}
