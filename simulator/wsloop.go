package simulator

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// Timeouts of a session. Pings go out every pongWait*9/10 (pingPeriod), leaving a tenth of
// pongWait (at least, counted from the ping's real departure) for the pong to come back
// before the keepalive clock runs out.
const (
	// writeWait is how long a peer may leave the server's output untaken while its session
	// is paused for backpressure before the server drops it (no close frame: it would
	// queue behind the output the peer does not read).
	writeWait = 10 * time.Second
	// closeGrace bounds how long a closing session waits after sending its close frame:
	// for the peer to close too (draining what it sends, so that the frame is not lost to
	// a TCP reset caused by unread data), or for the frame to be written.
	closeGrace = time.Second
	// sendMsgBytes is the message size WSConfig.SendQueue is counted in: a session paused
	// for backpressure has more than SendQueue×sendMsgBytes bytes of output pending.
	sendMsgBytes = 256
	// flushBytes is how much output a session gathers while handling one read before it
	// hands it to the connection (and checks the backpressure limit).
	flushBytes = 16 << 10
	// keepBytes is the largest input buffer a session keeps once it is empty again (a big
	// message that arrived in pieces should not pin its memory for the session's life).
	keepBytes = 64 << 10
)

func pingPeriod(pongWait time.Duration) time.Duration { return pongWait * 9 / 10 }

// sendLimit is the pending output, in bytes, above which a session stops reading its peer.
func (c *WSConfig) sendLimit() int { return c.SendQueue * sendMsgBytes }

// wsConn is what a session needs of its connection: an *evloop.Conn (a fake in benchmarks).
type wsConn interface {
	Write(b []byte) error
	Pending() int
	PauseReads(p bool)
	Close()
}

var (
	_ wsConn         = (*evloop.Conn)(nil)
	_ evloop.Handler = (*session)(nil)
	_ evloop.Drainer = (*session)(nil)
)

// sessionState is where a session is in its life.
type sessionState uint8

const (
	stateOpen    sessionState = iota // reading and answering messages
	stateClosing                     // our close frame is sent: waiting for the peer, the output or closeGrace
	stateDone                        // the connection is closed (or closing now)
)

// session is one WebSocket connection, driven by the server's event loop: its Handler
// methods, its timer and the functions posted to the loop for it all run on the loop's one
// goroutine, so its state needs no lock. The only other goroutine a session owns is the one
// that runs an inference (finish), which touches none of that state and hands its result
// back with loop.Do.
//
// Messages are handled in the order they arrive. While an inference is pending the
// session reads nothing more (reads are paused), so messages after "end" are handled after
// the inference is sent. While more than WSConfig.SendQueue×sendMsgBytes bytes of its
// output are waiting for a peer that reads slowly, it reads nothing either (backpressure),
// until all of it is written; a peer that takes none of it for writeWait is dropped.
type session struct {
	s    *Server
	loop *evloop.Loop
	c    wsConn // nil until Opened

	state     sessionState
	waitPeer  bool // closing: wait for the peer to close (drain), not only for the output
	inferring bool // an inference is pending: reads paused
	// backlogged: more than the send limit is pending: reads paused.
	backlogged bool
	// shutdownAsked: Close asked to shut the session down before it was opened.
	shutdownAsked bool
	drop          bool // the drop fault: close abruptly at the first data message
	cancelInfer   context.CancelFunc

	rd  wsframe.Reader
	in  []byte    // input not parsed yet: a partial frame, or what arrived during a pause
	out []byte    // frames written while handling the current event, not yet flushed
	ack []byte    // the ack being encoded
	now time.Time // when the input being handled was read

	clock wsClock
	timer *evloop.Timer
	due   time.Time // when timer fires

	text      []byte // text received since the last end
	textHeld  int64  // the share of the server's text budget taken: cap(text), see appendText
	seq       uint64 // chunks acked in this session
	binSeq    int64  // binary frames received
	sessionID string
}

// newSession makes a session of s; register gives it its loop.
func newSession(s *Server) *session {
	return &session{
		s:   s,
		rd:  wsframe.Reader{Masked: true, MaxMessage: int(s.cfg.WS.ReadLimit)},
		out: make([]byte, 0, 1024),
		ack: make([]byte, 0, 64),
		clock: wsClock{
			idle:     s.cfg.WS.IdleTimeout,
			pongWait: s.cfg.WS.PongWait,
		},
	}
}

// Opened starts the session's clocks and timer.
func (ss *session) Opened(c *evloop.Conn) {
	ss.open(c, time.Now())
	ss.due = ss.clock.next(ss.mode())
	ss.timer = ss.loop.AfterFunc(time.Until(ss.due), ss.tick)
	if ss.shutdownAsked {
		ss.shutdown()
	}
}

// open attaches c (everything of Opened but the timer, which benchmarks do without).
func (ss *session) open(c wsConn, now time.Time) {
	ss.c = c
	ss.clock.start(now)
}

// Data parses what the peer sent and handles every whole message in it, unless reads are
// paused meanwhile: the rest waits in ss.in.
func (ss *session) Data(b []byte) {
	if ss.state != stateOpen {
		return // closing: the peer's bytes are read and discarded
	}
	ss.now = time.Now()
	if len(ss.in) == 0 {
		n := ss.parse(b)
		if ss.state == stateOpen && n < len(b) {
			ss.in = append(ss.in, b[n:]...)
		}
	} else {
		ss.in = append(ss.in, b...)
		ss.parseHeld()
	}
	ss.flush()
}

// parseHeld handles the messages waiting in ss.in and keeps what is left of it.
func (ss *session) parseHeld() {
	n := ss.parse(ss.in)
	if ss.state != stateOpen {
		ss.in = nil
		return
	}
	ss.in = ss.in[:copy(ss.in, ss.in[n:])]
	if len(ss.in) == 0 && cap(ss.in) > keepBytes {
		ss.in = nil
	}
}

// parse handles the messages in b while the session reads; it returns how many bytes of b
// it consumed (the rest is a partial frame, or was not read because of a pause).
func (ss *session) parse(b []byte) int {
	off := 0
	for ss.reading() {
		m, n, ok, err := ss.rd.Next(b[off:])
		off += n
		if err != nil {
			ss.protocolError(err)
			return len(b)
		}
		if !ok {
			break
		}
		ss.handle(m)
	}
	return off
}

// reading reports whether the session handles messages now.
func (ss *session) reading() bool {
	return ss.state == stateOpen && !ss.inferring && !ss.backlogged
}

// handle handles one message or control frame.
func (ss *session) handle(m wsframe.Message) {
	switch m.Op {
	case wsframe.OpPing:
		ss.writeFrame(wsframe.OpPong, m.Payload)
	case wsframe.OpPong:
		ss.clock.lastPong = ss.now
	case wsframe.OpClose:
		ss.peerClosed(m.Payload)
	default: // OpText, OpBinary
		ss.clock.lastData = ss.now
		if ss.drop {
			ss.s.c.wsDropped.Add(1)
			ss.abort()
			return
		}
		if m.Op == wsframe.OpBinary {
			ss.binSeq++
			ss.ackChunk(ss.binSeq, true)
			return
		}
		// The whole message, fragments joined: a fragment may end inside a character.
		if !utf8.Valid(m.Payload) {
			ss.closeWith(CloseBadText, "text message is not valid UTF-8")
			return
		}
		ss.handleText(m.Payload)
	}
}

// peerClosed answers the peer's close frame with one echoing its code, then closes.
func (ss *session) peerClosed(payload []byte) {
	code, _, err := wsframe.ParseClosePayload(payload)
	if err != nil {
		ss.protocolError(err)
		return
	}
	var p []byte
	if code != wsframe.CloseNoStatus {
		p = wsframe.AppendClosePayload(ss.ack[:0], code, "")
	}
	ss.writeFrame(wsframe.OpClose, p)
	ss.startClosing(false)
}

// protocolError answers a frame that breaks RFC 6455 (or a message over the read limit)
// with a close frame of the error's code, then drains and closes.
func (ss *session) protocolError(err error) {
	pe, ok := errors.AsType[*wsframe.ProtocolError](err)
	if !ok {
		pe = &wsframe.ProtocolError{Code: wsframe.CloseProtocolError, Reason: err.Error()}
	}
	ss.closeWith(pe.Code, pe.Reason)
}

// writeText writes one text message.
func (ss *session) writeText(payload []byte) { ss.writeFrame(wsframe.OpText, payload) }

// writeFrame adds a frame to the output, which is flushed when the current event is
// handled or when it reaches flushBytes.
func (ss *session) writeFrame(op byte, payload []byte) {
	ss.out = wsframe.AppendFrame(ss.out, op, payload, false, [4]byte{})
	if len(ss.out) >= flushBytes {
		ss.flush()
	}
}

// flush hands the output to the connection and pauses reads when the peer is too far
// behind.
func (ss *session) flush() {
	if len(ss.out) == 0 {
		return
	}
	if ss.state == stateDone {
		ss.out = ss.out[:0]
		return
	}
	err := ss.c.Write(ss.out)
	ss.out = ss.out[:0]
	if err != nil {
		ss.state = stateDone // the loop closes the connection and calls Closed
		return
	}
	if ss.state != stateOpen || ss.backlogged {
		return
	}
	if p := ss.c.Pending(); p > ss.s.cfg.WS.sendLimit() {
		ss.backlogged = true
		ss.clock.stalled(time.Now(), p)
		ss.c.PauseReads(true)
		ss.armBy(ss.clock.next(ss.mode()))
	}
}

// Drained resumes a session paused for backpressure, or ends a closing one.
func (ss *session) Drained() {
	switch {
	case ss.state == stateClosing && !ss.waitPeer:
		ss.state = stateDone
		ss.c.Close()
	case ss.state == stateOpen && ss.backlogged:
		ss.backlogged = false
		ss.resume()
	}
}

// resume reads again after a pause, starting with the input held meanwhile. The session,
// not the peer, was busy: the idle and keepalive clocks start afresh (a pong that arrived
// meanwhile is still unread).
func (ss *session) resume() {
	if !ss.reading() {
		return
	}
	ss.now = time.Now()
	ss.clock.lastData, ss.clock.lastPong = ss.now, ss.now
	ss.c.PauseReads(false)
	if len(ss.in) > 0 {
		ss.parseHeld()
	}
	ss.flush()
	if ss.state == stateOpen {
		ss.armBy(ss.clock.next(ss.mode()))
	}
}

// mode is what the clock should watch.
func (ss *session) mode() clockMode {
	switch {
	case ss.backlogged:
		return clockStalled
	case ss.inferring:
		return clockBusy
	}
	return clockReading
}

// armBy makes the timer fire by t.
func (ss *session) armBy(t time.Time) {
	if ss.timer == nil || !t.Before(ss.due) {
		return
	}
	ss.due = t
	ss.timer.Reset(time.Until(t))
}

// tick runs when the session's timer fires: it pings, times the peer out, or ends a close
// that took closeGrace. The timer is not moved as data arrives; tick re-arms it for the
// next deadline.
func (ss *session) tick() {
	switch ss.state {
	case stateClosing:
		ss.state = stateDone
		ss.c.Close()
		return
	case stateDone:
		return
	}
	now := time.Now()
	switch ss.clock.check(now, ss.mode(), ss.c.Pending()) {
	case clockIdleTimeout:
		ss.closeWith(CloseIdle, "idle timeout")
		return
	case clockKeepaliveTimeout:
		ss.closeWith(CloseIdle, "keepalive timeout")
		return
	case clockStuck:
		ss.abort()
		return
	case clockPing:
		ss.writeFrame(wsframe.OpPing, nil)
		ss.flush()
		if ss.state != stateOpen {
			return
		}
	}
	ss.due = ss.clock.next(ss.mode())
	ss.timer.Reset(ss.due.Sub(now))
}

// closeWith sends a close frame, then drains the peer until it closes too (or closeGrace).
func (ss *session) closeWith(code int, reason string) {
	if ss.state != stateOpen {
		return
	}
	ss.writeFrame(wsframe.OpClose, wsframe.AppendClosePayload(nil, code, reason))
	ss.startClosing(true)
}

// startClosing follows a close frame of ours: it flushes it, stops the inference, reads
// and discards whatever the peer sends, and closes when the peer closes (waitPeer), else
// when the output is written, or after closeGrace.
func (ss *session) startClosing(waitPeer bool) {
	ss.state, ss.waitPeer = stateClosing, waitPeer
	ss.in = nil
	ss.dropText()
	if ss.cancelInfer != nil {
		ss.cancelInfer()
	}
	ss.flush()
	if ss.state != stateClosing {
		return
	}
	if !waitPeer && ss.c.Pending() == 0 {
		ss.state = stateDone
		ss.c.Close()
		return
	}
	ss.c.PauseReads(false)
	if ss.timer != nil {
		ss.due = time.Now().Add(closeGrace)
		ss.timer.Reset(closeGrace)
	}
}

// abort closes the connection without a close frame.
func (ss *session) abort() {
	ss.state = stateDone
	ss.out = ss.out[:0]
	ss.dropText()
	ss.c.Close()
}

// shutdown closes the session from the server side (Close): a close frame 1001 "server
// shutting down", then the connection once the frame is written.
func (ss *session) shutdown() {
	switch {
	case ss.c == nil:
		ss.shutdownAsked = true // Opened shuts it down
	case ss.state == stateOpen:
		ss.writeFrame(wsframe.OpClose, wsframe.AppendClosePayload(nil, CloseIdle, "server shutting down"))
		ss.startClosing(false)
	}
}

// Closed ends the session: its timer, its inference and its place in the server.
func (ss *session) Closed(error) {
	ss.state = stateDone
	if ss.timer != nil {
		ss.timer.Stop()
	}
	if ss.cancelInfer != nil {
		ss.cancelInfer()
	}
	ss.in, ss.out = nil, nil
	ss.dropText()
	ss.s.endSession(ss)
}

// clockMode is what a session's clock watches.
type clockMode uint8

const (
	// clockReading: the session reads; the peer must send a message within the idle
	// timeout and a pong within PongWait.
	clockReading clockMode = iota
	// clockBusy: an inference is pending and the session does not read: only pings.
	clockBusy
	// clockStalled: the session is paused for backpressure: the peer must take some of
	// the pending output within writeWait.
	clockStalled
)

// clockEvent is what a session's clock asks of it.
type clockEvent uint8

const (
	clockNothing          clockEvent = iota
	clockPing                        // send a ping
	clockIdleTimeout                 // no message for the idle timeout: close 1001 "idle timeout"
	clockKeepaliveTimeout            // no pong for PongWait: close 1001 "keepalive timeout"
	clockStuck                       // no output taken for writeWait: drop the connection
)

// wsClock is a session's timekeeping, pure arithmetic on times given to it: when the peer
// last sent a message and a pong, when the next ping is due, and while the session is
// stalled, when the peer last took some of the pending output.
type wsClock struct {
	idle, pongWait time.Duration
	lastData       time.Time
	lastPong       time.Time
	nextPing       time.Time
	pingSent       time.Time // when the last ping went out

	stallAt      time.Time // when the pending output last shrank (clockStalled)
	stallPending int       // the pending output then, in bytes
}

// start starts the clocks at now.
func (k *wsClock) start(now time.Time) {
	k.lastData, k.lastPong = now, now
	k.nextPing = now.Add(pingPeriod(k.pongWait))
}

// stalled starts the stall clock at now with pending bytes of output.
func (k *wsClock) stalled(now time.Time, pending int) { k.stallAt, k.stallPending = now, pending }

// check returns what is due at now; a ping it asks for is taken as sent. pending is the
// output not yet taken by the peer (watched in clockStalled).
func (k *wsClock) check(now time.Time, m clockMode, pending int) clockEvent {
	switch m {
	case clockStalled:
		if pending < k.stallPending {
			k.stalled(now, pending)
		}
		if !now.Before(k.stallAt.Add(writeWait)) {
			return clockStuck
		}
		return clockNothing // no pings: the peer is not reading
	case clockReading:
		if !now.Before(k.lastData.Add(k.idle)) {
			return clockIdleTimeout
		}
		if d, ok := k.keepaliveDeadline(); ok && !now.Before(d) {
			return clockKeepaliveTimeout
		}
	}
	if !now.Before(k.nextPing) {
		k.nextPing = now.Add(pingPeriod(k.pongWait))
		k.pingSent = now
		return clockPing
	}
	return clockNothing
}

// next returns when check has something to do next, given what it watches.
func (k *wsClock) next(m clockMode) time.Time {
	switch m {
	case clockStalled:
		return k.stallAt.Add(writeWait)
	case clockBusy:
		return k.nextPing
	}
	d, ok := k.keepaliveDeadline()
	if !ok {
		d = k.nextPing
	}
	return earliest(k.nextPing, k.lastData.Add(k.idle), d)
}

// keepaliveDeadline is when a peer that has not answered the last ping is given up on: no
// pong for PongWait, and never less than PongWait/10 after the ping actually went out (a
// loop that woke late, on a busy machine, gives the peer its time to answer). ok is false
// while no ping awaits its pong.
func (k *wsClock) keepaliveDeadline() (d time.Time, ok bool) {
	if !k.pingSent.After(k.lastPong) {
		return time.Time{}, false
	}
	d = k.lastPong.Add(k.pongWait)
	if g := k.pingSent.Add(k.pongWait - pingPeriod(k.pongWait)); g.After(d) {
		d = g
	}
	return d, true
}

func earliest(a, b, c time.Time) time.Time {
	if b.Before(a) {
		a = b
	}
	if c.Before(a) {
		a = c
	}
	return a
}
