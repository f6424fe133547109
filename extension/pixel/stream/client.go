package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pixelk6/pixelk6/internal/evloop"
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
	// closeWait is how long a session waits for the server's close frame after sending its
	// own (Driver.closeWait, which tests may lengthen).
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

// Observer receives a session's measurements as they happen. Connected is called on the
// goroutine that called Run; the others on the Driver's event loop, which every session of
// the Driver shares: they must return quickly (a slow Observer delays every session).
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
	// Duration is dial start → the session's end: its close frame sent (the loop finishes
	// the close handshake on its own), or the failure.
	Duration    time.Duration
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
	// ReadyLatency is start sent → ready received (0 without a ready).
	ReadyLatency time.Duration
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
)

// Driver runs sessions: every session's connection, pacing and ack matching run on one of
// the Driver's event loops (internal/evloop), not on goroutines of their own. The caller of
// Run dials and performs the opening handshake, then waits while the loop streams.
type Driver struct {
	active []atomic.Int32 // sessions running per loop (one per loop the Driver may start)
	// closeWait is how long a session gives the server to answer its close frame.
	closeWait time.Duration

	mu     sync.Mutex
	loops  []*evloop.Loop // the loops started so far, in order: a loop starts when first needed
	closed bool
}

// loopFill is how many sessions a loop takes before the next loop gets any: a loop that
// wakes for many sessions at once costs less per chunk than two that wake for half as many
// (at 200 sessions on two cores, one loop cost the runner 0.32-0.41 cores and two
// 0.51-0.57), while at 1000 sessions two loops kept chunk latency lower than one.
const loopFill = 256

// NewDriver makes a Driver of up to loops event loops (0: one per GOMAXPROCS) and starts
// the first; the others start when sessions first need them. Close stops them. A session
// goes to the first loop running fewer than loopFill sessions, else to the least busy.
func NewDriver(loops int) (*Driver, error) {
	n := loops
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	d := &Driver{active: make([]atomic.Int32, n), closeWait: closeWait}
	if _, err := d.loop(0); err != nil {
		return nil, err
	}
	return d, nil
}

// loop returns loop i, starting the loops up to it if they have not started yet.
func (d *Driver) loop(i int) (*evloop.Loop, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("the stream driver is closed")
	}
	for len(d.loops) <= i {
		l, err := evloop.New()
		if err != nil {
			return nil, err
		}
		d.loops = append(d.loops, l)
	}
	return d.loops[i], nil
}

// Close stops the Driver: sessions still running end with ErrCanceled. It waits for the
// loops' goroutines to exit.
func (d *Driver) Close() error {
	d.mu.Lock()
	d.closed = true
	loops := d.loops
	d.mu.Unlock()
	var first error
	for _, l := range loops {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Run runs one session and returns its result; it never panics on a server's behaviour. It
// returns once the session has ended: it failed (its connection is closed then), or it
// succeeded and sent its close frame, after which the Driver's loop completes the close
// handshake (or drops the connection after a second). obs may be nil.
func (d *Driver) Run(ctx context.Context, cfg Config, obs Observer) *Result {
	if obs == nil {
		obs = nopObserver{}
	}
	cfg = cfg.withDefaults()
	res := &Result{Start: time.Now()}
	sctx, cancel := context.WithTimeoutCause(ctx, cfg.SessionTimeout, errSessionTimeout)
	defer cancel()

	hs, serr := dial(sctx, ctx, cfg, res)
	if serr != nil {
		res.Duration = time.Since(res.Start)
		res.Kind, res.Err = serr.kind, serr
		return res
	}
	obs.Connected(res.Start, res.Connecting, res.Status, res.Subprotocol)
	i := d.pick()
	d.active[i].Add(1)
	defer d.active[i].Add(-1)
	l, err := d.loop(i)
	if err != nil {
		_ = hs.conn.Close()
		res.Duration = time.Since(res.Start)
		serr := fail(ErrCanceled, fmt.Errorf("session on %q: %w", cfg.URL, err))
		res.Kind, res.Err = serr.kind, serr
		return res
	}
	s := newSession(l, cfg, obs, res)
	s.closeWait = d.closeWait
	l.Add(hs.conn, hs.buffered, s)
	// The caller's end and the session timeout reach the session through the loop.
	stop := context.AfterFunc(sctx, func() {
		l.Do(func() { s.contextDone(ctx) })
	})
	<-s.done
	stop()
	return res
}

// pick chooses the loop of a new session: the first that has fewer than loopFill sessions,
// else the least busy.
func (d *Driver) pick() int {
	best, bestN := 0, int32(1<<30)
	for i := range d.active {
		n := d.active[i].Load()
		if n < loopFill {
			return i
		}
		if n < bestN {
			best, bestN = i, n
		}
	}
	return best
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

// dial opens the connection and performs the handshake within ConnectTimeout, and
// classifies a failure.
func dial(sctx, parent context.Context, cfg Config, res *Result) (*handshake, *sessionError) {
	dctx, cancel := context.WithTimeoutCause(sctx, cfg.ConnectTimeout, errConnectTimeout)
	defer cancel()
	hs, err := openWebSocket(dctx, cfg.URL, cfg.Header, cfg.Subprotocols, cfg.Sent, cfg.Received)
	res.Connecting = time.Since(res.Start)
	if hs != nil && hs.resp != nil {
		res.Status = hs.resp.StatusCode
		res.Header = hs.resp.Header
		if hs.resp.Body != nil {
			_ = hs.resp.Body.Close()
		}
	}
	if err == nil {
		res.Subprotocol = hs.resp.Header.Get("Sec-WebSocket-Protocol")
		return hs, nil
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
	case errors.Is(err, errBadHandshake) && res.Status != 0:
		return nil, fail(ErrHandshake, fmt.Errorf("upgrade of %q rejected with HTTP %d: %w", cfg.URL, res.Status, err))
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

type nopObserver struct{}

func (nopObserver) Connected(time.Time, time.Duration, int, string) {}
func (nopObserver) Sent(time.Time, bool)                            {}
func (nopObserver) Received(time.Time)                              {}
func (nopObserver) Acked(time.Time, int, time.Duration)             {}
