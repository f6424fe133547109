package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// maxMessage bounds a server message; a larger one is malformed.
const maxMessage = 1 << 20

var endMessage = []byte(`{"type":"end"}`)

// phase is where a session is in its protocol.
type phase uint8

const (
	phaseReady     phase = iota // start sent, waiting for ready
	phaseStreaming              // sending chunks on schedule
	phaseDraining               // end sent, waiting for the acks and the inference
	phaseClosing                // close frame sent, waiting for the server's
	phaseDone                   // the connection is closed
)

// session is one stream session on a Driver's loop: an evloop.Handler. Every method runs
// on the loop goroutine, except newSession; Run reads the Result once done is closed.
type session struct {
	l   *evloop.Loop
	c   *evloop.Conn
	cfg Config
	obs Observer
	res *Result

	phase phase
	err   *sessionError // the first failure
	done  chan struct{} // closed when the connection is closed and res is final

	rd   wsframe.Reader
	keys *wsframe.KeySource
	in   []byte // received bytes not yet parsed (a partial frame)
	out  []byte // the frame being written

	base    time.Time     // the monotonic origin of the offsets below
	start   time.Duration // the stream's start (on the pacing grid)
	sched   Schedule
	timer   *evloop.Timer // pacing, then the ready, ack and close waits: one at a time
	session *evloop.Timer // SessionTimeout

	next       int             // the next chunk to send
	sentAt     []time.Duration // per chunk: offset+1 when sent, 0 before
	ackedFlag  []bool
	oldest     int // the oldest chunk that may be unacked
	nextFIFO   int // ack matching without client_seq: the oldest unacked chunk
	msgsSent   int
	chunksSent int
	msgsRecv   int
	acked      int
	maxLag     time.Duration
	endAt      time.Duration
	latencies  []time.Duration
	inference  []byte
	inferAt    time.Duration
	startAt    time.Duration // start written
	readyAt    time.Duration // ready read
	published  bool          // the result is final and done is closed
	closeWait  time.Duration // how long the server may take to answer our close frame
}

func newSession(l *evloop.Loop, cfg Config, obs Observer, res *Result) *session {
	n := len(cfg.Chunks)
	return &session{
		l: l, cfg: cfg, obs: obs, res: res,
		done:      make(chan struct{}),
		rd:        wsframe.Reader{MaxMessage: maxMessage},
		keys:      wsframe.NewKeySource(),
		base:      time.Now(),
		sched:     Schedule{Interval: cfg.Interval, Count: n},
		sentAt:    make([]time.Duration, n),
		ackedFlag: make([]bool, n),
		latencies: make([]time.Duration, 0, n),
	}
}

func (s *session) since() time.Duration { return time.Since(s.base) }

// Opened starts the session: the start message, or the stream at once.
func (s *session) Opened(c *evloop.Conn) {
	s.c = c
	// Acks are timed by their arrival, not by when the loop got to them: a busy client
	// does not add its own delay to the server's.
	c.StampReads()
	s.session = s.l.AfterFunc(s.cfg.SessionTimeout-time.Since(s.res.Start), func() {
		s.fail(fail(ErrSessionTimeout, fmt.Errorf("session on %q not finished within %v: %w", s.cfg.URL, s.cfg.SessionTimeout, errSessionTimeout)))
	})
	if s.cfg.Start != nil {
		s.startAt = s.since()
		if !s.write(wsframe.OpText, s.cfg.Start, false) {
			return
		}
		if s.cfg.Acks {
			s.phase = phaseReady
			s.timer = s.l.AfterFunc(s.cfg.AckTimeout, func() {
				s.fail(fail(ErrReadyTimeout, fmt.Errorf("no ready message within %v of start", s.cfg.AckTimeout)))
			})
			return
		}
	}
	s.beginStream()
}

// beginStream starts the chunks on the pacing grid, so that sessions share wake-ups.
func (s *session) beginStream() {
	s.phase = phaseStreaming
	s.start = AlignUp(time.Now(), gridOrigin, PacingGrid).Sub(s.base)
	s.setTimer(s.pace)
	s.pace()
}

// setTimer makes f the session's one timer (not armed yet), dropping the previous one.
func (s *session) setTimer(f func()) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = s.l.AfterFunc(time.Hour, f)
	s.timer.Stop()
}

// pace sends every chunk that is due (a late loop catches up rather than skipping), then
// waits for the next one; after the last it sends end.
func (s *session) pace() {
	if s.phase != phaseStreaming {
		return
	}
	for s.next < len(s.cfg.Chunks) {
		now := s.since()
		if d, _ := s.sched.Wait(now-s.start, s.next); d > 0 {
			s.timer.Reset(d)
			return
		}
		if e := s.checkAcks(now); e != nil {
			s.fail(e)
			return
		}
		if lag := s.sched.Lag(now-s.start, s.next); lag > s.maxLag {
			s.maxLag = lag
		}
		ch := &s.cfg.Chunks[s.next]
		s.sentAt[s.next] = now + 1
		op := wsframe.OpText
		if ch.Binary {
			op = wsframe.OpBinary
		}
		if !s.write(op, ch.Payload, true) {
			return
		}
		s.chunksSent++
		s.next++
	}
	s.endAt = s.since()
	if !s.write(wsframe.OpText, endMessage, false) {
		return
	}
	s.res.EndSent = true
	s.phase = phaseDraining
	s.setTimer(s.watchAcks)
	s.watchAcks()
}

// watchAcks, after end, fails the session when a chunk has waited for its ack longer than
// AckTimeout, and otherwise waits until the oldest unacked one would.
func (s *session) watchAcks() {
	if s.phase != phaseDraining {
		return
	}
	now := s.since()
	if e := s.checkAcks(now); e != nil {
		s.fail(e)
		return
	}
	if s.cfg.Acks && s.oldest < len(s.cfg.Chunks) {
		s.timer.Reset(s.sentAt[s.oldest] - 1 + s.cfg.AckTimeout - now)
	}
	s.maybeFinish()
}

// checkAcks fails when the oldest unacked chunk has waited longer than AckTimeout.
func (s *session) checkAcks(now time.Duration) *sessionError {
	if !s.cfg.Acks {
		return nil
	}
	for s.oldest < len(s.cfg.Chunks) && s.ackedFlag[s.oldest] {
		s.oldest++
	}
	if s.oldest >= len(s.cfg.Chunks) {
		return nil
	}
	if sent := s.sentAt[s.oldest]; sent != 0 && now-(sent-1) >= s.cfg.AckTimeout {
		return fail(ErrAckTimeout, fmt.Errorf("chunk %d not acked within %v", s.oldest+1, s.cfg.AckTimeout))
	}
	return nil
}

// maybeFinish starts the close handshake once everything the session waits for is in.
func (s *session) maybeFinish() {
	if s.phase != phaseDraining || s.inference == nil || (s.cfg.Acks && s.acked < len(s.cfg.Chunks)) {
		return
	}
	s.phase = phaseClosing
	s.timer.Stop()
	s.out = wsframe.AppendFrame(s.out[:0], wsframe.OpClose, wsframe.AppendClosePayload(nil, wsframe.CloseNormal, ""), true, s.keys.Next())
	if err := s.c.Write(s.out); err != nil {
		return // the connection is closed; the session has succeeded
	}
	add(s.cfg.Sent, len(s.out))
	// The session's work is done: its result is final and the caller may go on (its next
	// session need not wait a round trip). The loop finishes the close handshake: it
	// gives the server a moment to answer, then drops the connection.
	s.publish()
	s.timer = s.l.AfterFunc(s.closeWait, s.c.Close)
}

// write sends one message and reports it; false when the connection failed (the session
// has failed then).
func (s *session) write(op byte, payload []byte, chunk bool) bool {
	s.out = wsframe.AppendFrame(s.out[:0], op, payload, true, s.keys.Next())
	if err := s.c.Write(s.out); err != nil {
		s.fail(s.writeError(err))
		return false
	}
	add(s.cfg.Sent, len(s.out))
	s.msgsSent++
	s.obs.Sent(time.Now(), chunk)
	return true
}

// writeError classifies a failed write: one that fails because the server closed or
// dropped the connection is ErrClosed, as the reader side would have reported it.
func (s *session) writeError(err error) *sessionError {
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return fail(ErrClosed, fmt.Errorf("connection lost mid-session: writing to %q: %w", s.cfg.URL, err))
	}
	return fail(ErrWrite, fmt.Errorf("writing to %q: %w", s.cfg.URL, err))
}

// Data parses the server's frames.
func (s *session) Data(b []byte) {
	add(s.cfg.Received, len(b))
	buf := b
	if len(s.in) > 0 {
		s.in = append(s.in, b...)
		buf = s.in
	}
	for s.phase != phaseDone {
		m, n, ok, err := s.rd.Next(buf)
		buf = buf[n:]
		if err != nil {
			s.fail(fail(ErrMalformed, fmt.Errorf("server frame: %w", err)))
			return
		}
		if !ok {
			break
		}
		s.message(m)
	}
	// Keep the partial frame for the next call (buf may alias s.in).
	s.in = append(s.in[:0:0], buf...)
}

// message handles one server message or control frame.
func (s *session) message(m wsframe.Message) {
	switch m.Op {
	case wsframe.OpPing:
		s.out = wsframe.AppendFrame(s.out[:0], wsframe.OpPong, m.Payload, true, s.keys.Next())
		if err := s.c.Write(s.out); err != nil {
			s.fail(s.writeError(err))
		}
		add(s.cfg.Sent, len(s.out))
		return
	case wsframe.OpPong:
		return
	case wsframe.OpClose:
		s.closeFrame(m.Payload)
		return
	}
	now := s.c.ReadTime()
	s.msgsRecv++
	s.obs.Received(now)
	if m.Op != wsframe.OpText {
		s.fail(fail(ErrMalformed, fmt.Errorf("server sent a binary message of %d bytes", len(m.Payload))))
		return
	}
	sm, err := parseServerMsg(m.Payload)
	if err != nil {
		s.fail(fail(ErrMalformed, fmt.Errorf("server message %q: %w", clip(m.Payload), err)))
		return
	}
	switch sm.typ {
	case msgReady:
		if s.phase == phaseReady {
			s.readyAt = now.Sub(s.base)
			s.beginStream()
		}
	case msgAck:
		if e := s.ack(now, sm); e != nil {
			s.fail(e)
			return
		}
		if s.phase == phaseDraining && s.acked == len(s.cfg.Chunks) {
			s.maybeFinish()
		}
	case msgInference:
		if s.inference == nil {
			s.inferAt = now.Sub(s.base)
			s.inference = append([]byte(nil), m.Payload...)
			s.maybeFinish()
		}
	case msgError:
		s.fail(fail(ErrServer, fmt.Errorf("server error message %q", clip(m.Payload))))
	}
}

// closeFrame handles the server's close frame: the answer to ours, or a close mid-session.
func (s *session) closeFrame(p []byte) {
	if s.phase == phaseClosing {
		s.c.Close()
		return
	}
	code, reason, err := wsframe.ParseClosePayload(p)
	if err != nil {
		s.fail(fail(ErrMalformed, fmt.Errorf("server close frame: %w", err)))
		return
	}
	// Answer the close as the protocol asks, then drop the connection.
	s.out = wsframe.AppendFrame(s.out[:0], wsframe.OpClose, wsframe.AppendClosePayload(nil, code, ""), true, s.keys.Next())
	_ = s.c.Write(s.out)
	s.fail(fail(ErrClosed, fmt.Errorf("server closed the connection mid-session (code %d %q)", code, reason)))
}

// ack matches an ack to its chunk: by client_seq (1-based) when present, else the oldest
// unacked chunk. A duplicate ack is ignored; an ack for a chunk never sent is malformed.
func (s *session) ack(now time.Time, m serverMsg) *sessionError {
	n := len(s.cfg.Chunks)
	i := -1
	if m.hasClientSeq {
		if m.clientSeq < 1 || m.clientSeq > int64(n) {
			return fail(ErrMalformed, fmt.Errorf("ack for client_seq %d: the session has chunks 1..%d", m.clientSeq, n))
		}
		i = int(m.clientSeq - 1)
	} else {
		for s.nextFIFO < n && s.ackedFlag[s.nextFIFO] {
			s.nextFIFO++
		}
		if s.nextFIFO >= n {
			return fail(ErrMalformed, fmt.Errorf("ack (seq %d) with every chunk already acked", m.seq))
		}
		i = s.nextFIFO
	}
	sent := s.sentAt[i]
	if sent == 0 {
		return fail(ErrMalformed, fmt.Errorf("ack for chunk %d, which was not sent yet", i+1))
	}
	if s.ackedFlag[i] {
		return nil // duplicate
	}
	s.ackedFlag[i] = true
	lat := now.Sub(s.base) - (sent - 1)
	s.latencies = append(s.latencies, lat)
	s.acked++
	s.obs.Acked(now, i+1, lat)
	return nil
}

// fail ends the session with e (the first failure wins) and closes the connection.
func (s *session) fail(e *sessionError) {
	if s.err == nil && s.phase != phaseDone && !s.published {
		s.err = e
	}
	if s.c != nil {
		s.c.Close()
	}
}

// contextDone runs when the caller's context or the session timeout ended the session
// before its connection closed.
func (s *session) contextDone(parent context.Context) {
	if s.phase == phaseDone || s.published {
		return
	}
	if parent.Err() != nil {
		s.fail(fail(ErrCanceled, fmt.Errorf("session on %q: %w", s.cfg.URL, context.Cause(parent))))
		return
	}
	s.fail(fail(ErrSessionTimeout, fmt.Errorf("session on %q not finished within %v: %w", s.cfg.URL, s.cfg.SessionTimeout, errSessionTimeout)))
}

// Closed ends the session: it settles the outcome and publishes the result, unless the
// close handshake had begun (the result was published then).
func (s *session) Closed(err error) {
	closing := s.phase == phaseClosing
	s.phase = phaseDone
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.session != nil {
		s.session.Stop()
	}
	if s.published {
		return
	}
	if s.err == nil && !closing {
		switch {
		case errors.Is(err, evloop.ErrLoopClosed):
			s.err = fail(ErrCanceled, fmt.Errorf("session on %q: the stream driver closed", s.cfg.URL))
		case err == nil:
			// Closed by the session itself without a failure: cannot happen.
		case errors.Is(err, io.EOF):
			s.err = fail(ErrClosed, fmt.Errorf("connection lost mid-session: %w", io.ErrUnexpectedEOF))
		default:
			s.err = fail(ErrClosed, fmt.Errorf("connection lost mid-session: %w", err))
		}
	}
	s.publish()
}

// publish makes the result final and wakes Run.
func (s *session) publish() {
	s.published = true
	if s.session != nil {
		s.session.Stop()
	}
	r := s.res
	if s.err != nil {
		r.Kind, r.Err = s.err.kind, s.err
	}
	r.MsgsSent, r.ChunksSent, r.MaxLag = s.msgsSent, s.chunksSent, s.maxLag
	r.MsgsRecv, r.ChunksAcked, r.ChunkLatencies = s.msgsRecv, s.acked, s.latencies
	if s.readyAt > 0 {
		r.ReadyLatency = s.readyAt - s.startAt
	}
	if s.inference != nil {
		r.GotInference = true
		r.Inference = s.inference
		r.MessageLatency = s.inferAt - s.endAt
	}
	r.Duration = time.Since(r.Start)
	close(s.done)
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return strings.ToValidUTF8(string(b), "?")
}
