package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/lazyconn"
)

// ErrorKind names a session failure; it is the value of the `error` tag on the session's
// samples. The empty kind means success.
type ErrorKind string

// The failure kinds of a session.
const (
	ErrNone           ErrorKind = ""
	ErrRefused        ErrorKind = "refused"         // the TCP connection was refused
	ErrDial           ErrorKind = "dial"            // any other dial failure (DNS, bad URL, reset)
	ErrHandshake      ErrorKind = "handshake"       // the server answered the upgrade with a non-101 status
	ErrConnectTimeout ErrorKind = "connect_timeout" // no upgrade within ConnectTimeout
	ErrReadyTimeout   ErrorKind = "ready_timeout"   // no {"type":"ready"} within AckTimeout of start
	ErrAckTimeout     ErrorKind = "ack_timeout"     // a chunk not acked within AckTimeout
	ErrSessionTimeout ErrorKind = "session_timeout" // the whole session exceeded SessionTimeout
	ErrClosed         ErrorKind = "closed"          // the server closed or dropped the connection mid-stream
	ErrWrite          ErrorKind = "write"           // a write failed
	ErrMalformed      ErrorKind = "malformed"       // a server message that is not what the protocol says
	ErrServer         ErrorKind = "server_error"    // the server sent {"type":"error"}
	ErrCanceled       ErrorKind = "canceled"        // the caller's context ended (end of test)
)

// ConnectFailed reports whether k is a failure to establish the connection (the
// ws_connection_failed kinds).
func (k ErrorKind) ConnectFailed() bool {
	switch k {
	case ErrRefused, ErrDial, ErrHandshake, ErrConnectTimeout:
		return true
	}
	return false
}

// Default timeouts; a zero Config field takes these.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultAckTimeout     = 10 * time.Second
	DefaultSessionTimeout = 60 * time.Second
	// closeWait is how long Run waits for the server's close frame after sending its own.
	closeWait = time.Second
)

// Config is one session.
type Config struct {
	URL          string
	Header       http.Header
	Subprotocols []string
	// Timeouts: ConnectTimeout covers the TCP dial and the upgrade; AckTimeout is the
	// longest a chunk may wait for its ack (and start for ready); SessionTimeout caps the
	// whole session, the final inference included.
	ConnectTimeout, AckTimeout, SessionTimeout time.Duration
	// Interval is the pacing: chunk i is sent at stream start + i*Interval.
	Interval time.Duration
	Chunks   []Chunk
	// Start is the start message sent before the chunks (nil: none). When Acks is set the
	// client waits for {"type":"ready"} before streaming.
	Start []byte
	// Acks: the server acks every chunk; the session waits for every ack before it ends.
	Acks bool
	// Sent and Received, when set, count the bytes written to and read from the network.
	Sent, Received *atomic.Int64
}

// Observer receives a session's measurements as they happen. Its methods are called from
// the session's writer and reader goroutines, possibly concurrently, and must not block.
type Observer interface {
	// Connected is called once the upgrade succeeded, before anything is sent.
	Connected(start time.Time, connecting time.Duration, status int, subprotocol string)
	// Sent is called after every message written (start, chunks, end); chunk says which.
	Sent(at time.Time, chunk bool)
	// Received is called for every message read.
	Received(at time.Time)
	// Acked is called for every chunk ack matched to a chunk, with its latency.
	Acked(at time.Time, seq int, latency time.Duration)
}

// Result summarises a finished session.
type Result struct {
	Start       time.Time
	Status      int    // 101 once upgraded; the HTTP status of a rejected upgrade; 0 when none
	Subprotocol string // the negotiated subprotocol
	Header      http.Header
	Kind        ErrorKind // ErrNone on success
	Err         error     // nil on success
	Connecting  time.Duration
	Duration    time.Duration // dial start → connection closed
	ChunksSent  int
	ChunksAcked int
	MsgsSent    int
	MsgsRecv    int
	// MaxLag is how late the latest chunk was sent against its schedule.
	MaxLag time.Duration
	// ChunkLatencies are the acked chunks' latencies, in ack order.
	ChunkLatencies []time.Duration
	// EndSent: the end message was written; MessageLatency is end sent → inference read.
	EndSent        bool
	GotInference   bool
	MessageLatency time.Duration
	// Inference is the final inference message, as received.
	Inference []byte
}

// sessionError is a failure with its kind.
type sessionError struct {
	kind ErrorKind
	err  error
}

func (e *sessionError) Error() string { return string(e.kind) + ": " + e.err.Error() }
func (e *sessionError) Unwrap() error { return e.err }

func fail(kind ErrorKind, err error) *sessionError { return &sessionError{kind, err} }

var (
	errConnectTimeout = errors.New("connect timeout")
	errSessionTimeout = errors.New("session timeout")
	endMessage        = []byte(`{"type":"end"}`)
)

// Run runs one session and returns its result; it never panics on a server's behaviour and
// returns only after its reader goroutine has exited. obs may be nil.
func Run(ctx context.Context, cfg Config, obs Observer) *Result {
	if obs == nil {
		obs = nopObserver{}
	}
	cfg = cfg.withDefaults()
	res := &Result{Start: time.Now()}
	sctx, cancel := context.WithTimeoutCause(ctx, cfg.SessionTimeout, errSessionTimeout)
	defer cancel()

	conn, serr := dial(sctx, ctx, cfg, res)
	if serr == nil {
		obs.Connected(res.Start, res.Connecting, res.Status, res.Subprotocol)
		serr = session(sctx, ctx, cfg, conn, obs, res)
	}
	res.Duration = time.Since(res.Start)
	if serr != nil {
		res.Kind, res.Err = serr.kind, serr
	}
	return res
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.Interval < 0 {
		c.Interval = 0
	}
	return c
}

func dial(sctx, parent context.Context, cfg Config, res *Result) (*websocket.Conn, *sessionError) {
	dctx, cancel := context.WithTimeoutCause(sctx, cfg.ConnectTimeout, errConnectTimeout)
	defer cancel()
	// No TCP keep-alive: a session is short, and enabling it costs four system calls per
	// connection.
	nd := &net.Dialer{KeepAlive: -1}
	d := websocket.Dialer{
		Subprotocols:     cfg.Subprotocols,
		HandshakeTimeout: cfg.ConnectTimeout,
		ReadBufferSize:   2048,
		WriteBufferSize:  2048,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return c, err
			}
			return lazyconn.New(c, cfg.Sent, cfg.Received), nil
		},
	}
	conn, resp, err := d.DialContext(dctx, cfg.URL, cfg.Header)
	res.Connecting = time.Since(res.Start)
	if resp != nil {
		res.Status = resp.StatusCode
		res.Header = resp.Header
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
	}
	if err == nil {
		res.Subprotocol = conn.Subprotocol()
		return conn, nil
	}
	switch {
	case parent.Err() != nil || pastDeadline(parent):
		cause := context.Cause(parent)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return nil, fail(ErrCanceled, fmt.Errorf("connecting to %q: %w", cfg.URL, cause))
	case errors.Is(context.Cause(sctx), errSessionTimeout):
		return nil, fail(ErrSessionTimeout, fmt.Errorf("connecting to %q: %w", cfg.URL, errSessionTimeout))
	case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
		return nil, fail(ErrHandshake, fmt.Errorf("upgrade of %q rejected with HTTP %d: %w", cfg.URL, resp.StatusCode, err))
	case errors.Is(context.Cause(dctx), errConnectTimeout) || isTimeout(err):
		return nil, fail(ErrConnectTimeout, fmt.Errorf("connecting to %q: no upgrade within %v: %w", cfg.URL, cfg.ConnectTimeout, err))
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fail(ErrRefused, fmt.Errorf("connecting to %q: %w", cfg.URL, err))
	}
	return nil, fail(ErrDial, fmt.Errorf("connecting to %q: %w", cfg.URL, err))
}

// pastDeadline reports whether ctx's deadline has passed: a dial cut short by it fails with
// a timeout a moment before ctx itself reports the end.
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// session runs the writer side of an upgraded connection and joins the reader. It closes
// conn.
func session(sctx, parent context.Context, cfg Config, conn *websocket.Conn, obs Observer, res *Result) *sessionError {
	r := newReader(conn, cfg, obs)
	go r.run()
	// Unblock a write stuck on a full socket buffer when the session ends early (Close is
	// safe to call concurrently with the pumps).
	stop := context.AfterFunc(sctx, func() { _ = conn.Close() })
	defer stop()

	r.w.sctx, r.w.parent = sctx, parent
	serr := r.w.stream()
	if serr == nil {
		// A clean close: tell the server, give it a moment to answer, then drop the
		// connection (which ends the reader if the server did not answer).
		r.closing.Store(true)
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeWait))
		t := time.NewTimer(closeWait)
		select {
		case <-r.done:
		case <-t.C:
		case <-sctx.Done():
		}
		t.Stop()
	}
	r.closing.Store(true)
	_ = conn.Close()
	<-r.done

	res.MsgsSent = r.w.msgsSent
	res.ChunksSent = r.w.chunksSent
	res.MaxLag = r.w.maxLag
	res.EndSent = r.w.endSent
	res.MsgsRecv = r.msgsRecv
	res.ChunksAcked = r.acked
	res.ChunkLatencies = r.latencies
	if r.inference != nil {
		res.GotInference = true
		res.Inference = r.inference
		res.MessageLatency = r.inferenceAt - r.w.endAt
	}
	return serr
}

// reader owns the connection's read side: one goroutine, run, which exits when a read
// fails (the connection closed). It reports to the writer through channels that it writes
// at most once each, so it never blocks on them.
type reader struct {
	conn *websocket.Conn
	cfg  Config
	obs  Observer
	w    *writer
	base time.Time // monotonic origin of sentAt/ackedAt

	closing atomic.Bool // the writer is closing: a read error is expected

	ready     chan struct{}      // closed on {"type":"ready"}
	allAcked  chan struct{}      // closed when every chunk was acked
	gotResult chan struct{}      // closed when the inference was read
	failed    chan *sessionError // the reader's fatal error (cap 1)
	done      chan struct{}      // closed when run returns

	// Owned by run until done is closed, then by the writer.
	msgsRecv    int
	acked       int
	nextFIFO    int // ack matching without client_seq: the oldest unacked chunk
	latencies   []time.Duration
	inference   []byte
	inferenceAt time.Duration
	buf         []byte
}

func newReader(conn *websocket.Conn, cfg Config, obs Observer) *reader {
	r := &reader{
		conn: conn, cfg: cfg, obs: obs, base: time.Now(),
		ready: make(chan struct{}), allAcked: make(chan struct{}), gotResult: make(chan struct{}),
		failed: make(chan *sessionError, 1), done: make(chan struct{}),
		latencies: make([]time.Duration, 0, len(cfg.Chunks)),
		buf:       make([]byte, 0, 512),
	}
	r.w = &writer{r: r, conn: conn, cfg: cfg, obs: obs, sentAt: make([]atomic.Int64, len(cfg.Chunks))}
	r.w.ackedFlag = make([]atomic.Bool, len(cfg.Chunks))
	if len(cfg.Chunks) == 0 {
		close(r.allAcked)
	}
	return r
}

func (r *reader) since() time.Duration { return time.Since(r.base) }

func (r *reader) run() {
	defer close(r.done)
	for {
		mt, rd, err := r.conn.NextReader()
		if err != nil {
			if r.closing.Load() {
				return
			}
			r.fail(r.readError(err))
			return
		}
		r.buf, err = readAll(r.buf[:0], rd)
		if err != nil {
			var se *sessionError
			switch {
			case errors.As(err, &se):
				r.fail(se)
			case !r.closing.Load():
				r.fail(r.readError(err))
			}
			return
		}
		now := time.Now()
		r.msgsRecv++
		r.obs.Received(now)
		if mt != websocket.TextMessage {
			r.fail(fail(ErrMalformed, fmt.Errorf("server sent a binary message of %d bytes", len(r.buf))))
			return
		}
		m, err := parseServerMsg(r.buf)
		if err != nil {
			r.fail(fail(ErrMalformed, fmt.Errorf("server message %q: %w", clip(r.buf), err)))
			return
		}
		switch m.typ {
		case msgReady:
			select {
			case <-r.ready:
			default:
				close(r.ready)
			}
		case msgAck:
			if serr := r.ack(now, m); serr != nil {
				r.fail(serr)
				return
			}
		case msgInference:
			if r.inference == nil {
				r.inferenceAt = r.since()
				r.inference = append([]byte(nil), r.buf...)
				close(r.gotResult)
			}
		case msgError:
			r.fail(fail(ErrServer, fmt.Errorf("server error message %q", clip(r.buf))))
			return
		}
	}
}

// ack matches an ack to its chunk: by client_seq (1-based) when present, else the oldest
// unacked chunk. A duplicate ack is ignored; an ack for a chunk never sent is malformed.
func (r *reader) ack(now time.Time, m serverMsg) *sessionError {
	n := len(r.cfg.Chunks)
	i := -1
	if m.hasClientSeq {
		if m.clientSeq < 1 || m.clientSeq > int64(n) {
			return fail(ErrMalformed, fmt.Errorf("ack for client_seq %d: the session has chunks 1..%d", m.clientSeq, n))
		}
		i = int(m.clientSeq - 1)
	} else {
		for r.nextFIFO < n && r.w.ackedFlag[r.nextFIFO].Load() {
			r.nextFIFO++
		}
		if r.nextFIFO >= n {
			return fail(ErrMalformed, fmt.Errorf("ack (seq %d) with every chunk already acked", m.seq))
		}
		i = r.nextFIFO
	}
	sent := r.w.sentAt[i].Load()
	if sent == 0 {
		return fail(ErrMalformed, fmt.Errorf("ack for chunk %d, which was not sent yet", i+1))
	}
	if r.w.ackedFlag[i].Swap(true) {
		return nil // duplicate
	}
	lat := r.since() - time.Duration(sent-1)
	r.latencies = append(r.latencies, lat)
	r.acked++
	r.obs.Acked(now, i+1, lat)
	if r.acked == n {
		close(r.allAcked)
	}
	return nil
}

func (r *reader) fail(e *sessionError) {
	select {
	case r.failed <- e:
	default:
	}
}

func (r *reader) readError(err error) *sessionError {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fail(ErrClosed, fmt.Errorf("server closed the connection mid-session (code %d %q): %w", ce.Code, ce.Text, err))
	}
	return fail(ErrClosed, fmt.Errorf("connection lost mid-session: %w", err))
}

// maxMessage bounds a server message; a larger one is malformed.
const maxMessage = 1 << 20

func readAll(buf []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxMessage {
				return buf, fail(ErrMalformed, fmt.Errorf("server message larger than %d bytes", maxMessage))
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return strings.ToValidUTF8(string(b), "?")
}

// writer is the session's write side, run on the goroutine that called Run.
type writer struct {
	r      *reader
	sctx   context.Context // the session's context (SessionTimeout)
	parent context.Context // the caller's context
	conn   *websocket.Conn
	cfg    Config
	obs    Observer

	sentAt    []atomic.Int64 // per chunk: since(base)+1 when sent, 0 before
	ackedFlag []atomic.Bool  // per chunk: acked

	msgsSent, chunksSent int
	maxLag               time.Duration
	endSent              bool
	endAt                time.Duration
	oldest               int // the oldest chunk that may be unacked
}

func (w *writer) write(frame int, payload []byte, chunk bool) *sessionError {
	if err := w.conn.WriteMessage(frame, payload); err != nil {
		return fail(ErrWrite, fmt.Errorf("writing to %q: %w", w.cfg.URL, err))
	}
	w.msgsSent++
	w.obs.Sent(time.Now(), chunk)
	return nil
}

// stream writes start, the chunks on schedule and end, then waits for the acks and the
// inference. It returns the first failure, from either side.
func (w *writer) stream() *sessionError {
	r, sctx := w.r, w.sctx
	// wake is the writer's one timer, reset for every wait.
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	defer wake.Stop()
	wait := func(d time.Duration, ch <-chan struct{}, onTimeout func() *sessionError) *sessionError {
		var tc <-chan time.Time
		if d >= 0 {
			wake.Reset(d)
			tc = wake.C
			defer wake.Stop()
		}
		select {
		case <-ch:
			return nil
		case e := <-r.failed:
			return w.settle(e)
		case <-sctx.Done():
			return w.ctxError()
		case <-tc:
			return onTimeout()
		}
	}

	if w.cfg.Start != nil {
		if e := w.write(websocket.TextMessage, w.cfg.Start, false); e != nil {
			return w.settle(e)
		}
		if w.cfg.Acks {
			if e := wait(w.cfg.AckTimeout, r.ready, func() *sessionError {
				return fail(ErrReadyTimeout, fmt.Errorf("no ready message within %v of start", w.cfg.AckTimeout))
			}); e != nil {
				return e
			}
		}
	}

	sched := Schedule{Interval: w.cfg.Interval, Count: len(w.cfg.Chunks)}
	// The stream starts on the pacing grid, so sessions share timer wake-ups.
	start := AlignUp(time.Now(), gridOrigin, PacingGrid).Sub(r.base)
	for i := range w.cfg.Chunks {
		d, _ := sched.Wait(r.since()-start, i)
		if d > 0 {
			if e := wait(d, nil, func() *sessionError { return nil }); e != nil {
				return e
			}
		} else {
			select {
			case e := <-r.failed:
				return w.settle(e)
			case <-sctx.Done():
				return w.ctxError()
			default:
			}
		}
		now := r.since()
		if e := w.checkAcks(now); e != nil {
			return e
		}
		if lag := sched.Lag(now-start, i); lag > w.maxLag {
			w.maxLag = lag
		}
		c := &w.cfg.Chunks[i]
		w.sentAt[i].Store(int64(now) + 1)
		frame := websocket.TextMessage
		if c.Binary {
			frame = websocket.BinaryMessage
		}
		if e := w.write(frame, c.Payload, true); e != nil {
			return w.settle(e)
		}
		w.chunksSent++
	}

	w.endAt = r.since()
	if e := w.write(websocket.TextMessage, endMessage, false); e != nil {
		return w.settle(e)
	}
	w.endSent = true

	if w.cfg.Acks {
		// Every chunk must be acked within AckTimeout of its send; the last was sent just now.
		for {
			if e := w.checkAcks(r.since()); e != nil {
				return e
			}
			if w.oldest >= len(w.cfg.Chunks) {
				break
			}
			due := time.Duration(w.sentAt[w.oldest].Load()-1) + w.cfg.AckTimeout - r.since()
			if e := wait(max(due, 0), r.allAcked, func() *sessionError { return nil }); e != nil {
				return e
			}
			select {
			case <-r.allAcked:
				w.oldest = len(w.cfg.Chunks)
			default:
			}
		}
	}
	return wait(-1, r.gotResult, nil)
}

// checkAcks fails when the oldest unacked chunk has waited longer than AckTimeout.
func (w *writer) checkAcks(now time.Duration) *sessionError {
	if !w.cfg.Acks {
		return nil
	}
	for w.oldest < len(w.cfg.Chunks) && w.ackedFlag[w.oldest].Load() {
		w.oldest++
	}
	if w.oldest >= len(w.cfg.Chunks) {
		return nil
	}
	sent := w.sentAt[w.oldest].Load()
	if sent != 0 && now-time.Duration(sent-1) >= w.cfg.AckTimeout {
		return fail(ErrAckTimeout, fmt.Errorf("chunk %d not acked within %v", w.oldest+1, w.cfg.AckTimeout))
	}
	return nil
}

// settle prefers the reader's account of a failure: a write usually fails because the
// server closed the connection, which the reader reports with the close code.
func (w *writer) settle(e *sessionError) *sessionError {
	if w.sctx.Err() != nil {
		// The context closed the connection: the read or write error is its consequence.
		return w.ctxError()
	}
	if e.kind != ErrWrite {
		return e
	}
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	select {
	case re := <-w.r.failed:
		return re
	case <-t.C:
		return e
	}
}

func (w *writer) ctxError() *sessionError {
	if w.parent.Err() != nil {
		return fail(ErrCanceled, fmt.Errorf("session on %q: %w", w.cfg.URL, context.Cause(w.parent)))
	}
	return fail(ErrSessionTimeout, fmt.Errorf("session on %q not finished within %v: %w", w.cfg.URL, w.cfg.SessionTimeout, context.Cause(w.sctx)))
}

type nopObserver struct{}

func (nopObserver) Connected(time.Time, time.Duration, int, string) {}
func (nopObserver) Sent(time.Time, bool)                            {}
func (nopObserver) Received(time.Time)                              {}
func (nopObserver) Acked(time.Time, int, time.Duration)             {}
