package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/internal/jsonx"
)

// errClosed is returned by waits interrupted because the server is closing.
var errClosed = errors.New("pixelsim: server closed")

// DefaultAddr is the address pixelsim listens on unless told otherwise.
const DefaultAddr = "127.0.0.1:5173"

// DefaultTextBudget is the default WSConfig.TextBudget: 256 MiB.
const DefaultTextBudget = 256 << 20

// Config configures a Server. The zero value is valid: no model latency, unlimited
// capacity, no faults, default limits. DefaultConfig gives a realistic service.
type Config struct {
	// Latency is the model latency paid by every REST inference and by the final
	// inference of a WebSocket message. The zero value means no delay.
	Latency Latency
	// Seed seeds the random source of latencies and faults (per-request draws are taken
	// from a pool of generators derived from it, so runs are reproducible only serially).
	Seed uint64
	// Capacity is the number of concurrent model workers, at most MaxCapacity (0: unlimited).
	Capacity int
	// QueueLimit is how many inferences may wait for a worker, at most MaxCapacity; one
	// more is refused with RejectStatus. Used only when Capacity > 0.
	QueueLimit int
	// RejectStatus is the HTTP status of a refused request: 429 (the default) or 503.
	RejectStatus int
	// Model is the model name reported in responses (default "pixel-sim-1").
	Model string
	// MaxBodyBytes limits a request body (default 1 MiB, at most MaxBytesLimit); larger
	// bodies get 413.
	MaxBodyBytes int64
	// WS holds the WebSocket limits and timeouts.
	WS WSConfig
	// Faults injects failures.
	Faults Faults
	// ErrorLog receives the HTTP server's internal errors; nil discards them.
	ErrorLog io.Writer
}

// WSConfig holds WebSocket limits and timeouts. Zero fields take their defaults; negative
// ones are refused, and byte limits go up to MaxBytesLimit.
type WSConfig struct {
	// ReadLimit is the largest message accepted, in bytes (default 64 KiB); a larger one
	// closes the connection with status 1009.
	ReadLimit int64
	// MaxSessionText bounds the text accumulated by one message (default 1 MiB); going
	// over it closes the connection with status 1009.
	MaxSessionText int
	// TextBudget bounds the session text buffered by all sessions together, in bytes
	// (default 256 MiB): a text chunk that would take the buffers over it closes its
	// session with status 1013 "try again later". A session's share is the capacity of its
	// text buffer, released when the session ends (and when a buffer over 4 KiB is emptied
	// by an inference); Stats.WSTextBytes is the share in use.
	TextBudget int64
	// IdleTimeout closes a session with status 1001 when no message arrived for this
	// long (default 60 s). Pongs do not count as activity.
	IdleTimeout time.Duration
	// PongWait is how long the server waits for a pong before giving up on a peer
	// (default 60 s); pings are sent every PongWait*9/10.
	PongWait time.Duration
	// SendQueue bounds the output a session buffers for a peer that reads slowly, in
	// messages of 256 bytes (default 256 messages: 64 KiB), beyond what the kernel's socket
	// buffer holds. When more is pending the session stops reading the peer (backpressure)
	// until all of it is written; a peer that takes none of it for 10 s is dropped.
	SendQueue int
	// Loops is the number of event loops that run the sessions (default 1, at most
	// MaxWSLoops()); sessions are spread over them in turn. Each loop is an OS thread.
	Loops int
}

// Faults configures fault injection. Rates are probabilities ∈ [0,1]; durations must not
// be negative.
type Faults struct {
	// ErrorRate is the fraction of REST inferences answered with ErrorStatus.
	ErrorRate float64
	// ErrorStatus is the status of an injected error, 4xx or 5xx (default 500).
	ErrorStatus int
	// SlowRate is the fraction of inferences (REST and WebSocket) that take SlowExtra longer.
	SlowRate  float64
	SlowExtra time.Duration
	// StallRate is the fraction of inferences that stall: no answer for StallFor
	// (0: until the client gives up or the server closes).
	StallRate float64
	StallFor  time.Duration
	// DropRate is the fraction of WebSocket sessions whose TCP connection the server
	// drops abruptly (no close frame) when their first message arrives.
	DropRate float64
}

// DefaultConfig returns a realistic service: log-normal model latency with a 20 ms median
// and a 120 ms p99, 64 workers, a queue of 1024, no faults.
func DefaultConfig() Config {
	return Config{
		Latency:    Latency{Median: 20 * time.Millisecond, P99: 120 * time.Millisecond},
		Seed:       1,
		Capacity:   64,
		QueueLimit: 1024,
	}
}

func (c *Config) fill() {
	if c.RejectStatus == 0 {
		c.RejectStatus = http.StatusTooManyRequests
	}
	if c.Model == "" {
		c.Model = "pixel-sim-1"
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.WS.ReadLimit <= 0 {
		c.WS.ReadLimit = 64 << 10
	}
	if c.WS.MaxSessionText <= 0 {
		c.WS.MaxSessionText = 1 << 20
	}
	if c.WS.TextBudget <= 0 {
		c.WS.TextBudget = DefaultTextBudget
	}
	if c.WS.IdleTimeout <= 0 {
		c.WS.IdleTimeout = 60 * time.Second
	}
	if c.WS.PongWait <= 0 {
		c.WS.PongWait = 60 * time.Second
	}
	if c.WS.SendQueue <= 0 {
		c.WS.SendQueue = 256
	}
	if c.Faults.ErrorStatus == 0 {
		c.Faults.ErrorStatus = http.StatusInternalServerError
	}
}

// Upper limits of Config's fields: New refuses more (they catch a typo's extra digits
// before it becomes threads or allocations).
const (
	// MaxCapacity bounds Config.Capacity and Config.QueueLimit.
	MaxCapacity = 1 << 20
	// MaxBytesLimit bounds Config.MaxBodyBytes, WSConfig.ReadLimit and
	// WSConfig.MaxSessionText: 1 GiB.
	MaxBytesLimit = 1 << 30
	// maxSendQueue bounds WSConfig.SendQueue: 1 GiB of output in sendMsgBytes messages.
	maxSendQueue = MaxBytesLimit / sendMsgBytes
)

// MaxWSLoops returns the largest WSConfig.Loops: max(64, 4×GOMAXPROCS). Each loop is an
// OS thread.
func MaxWSLoops() int { return max(64, 4*runtime.GOMAXPROCS(0)) }

// ConfigError is a Config field whose value New refuses.
type ConfigError struct {
	Field  string // the field's path in Config: "Capacity", "WS.Loops", "Faults.ErrorRate"
	Value  string // the value, formatted as its flag would show it
	Reason string // what is allowed
}

func (e *ConfigError) Error() string { return e.Field + " " + e.Value + ": " + e.Reason }

// validate checks c before fill: every error is a *ConfigError (several are joined). A
// zero in a field that has a default is fine (fill replaces it) when zeroIsDefault says so
// of the field; else it is refused, as on the command line, where the zero was typed.
func (c *Config) validate(zeroIsDefault func(field string) bool) error {
	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, &ConfigError{Field: field, Value: fmt.Sprint(v), Reason: reason})
	}
	// inRange checks lo ≤ v ≤ hi, or 0 for a field with a default.
	inRange := func(field string, v, lo, hi int64, hasDefault bool, note string) {
		if v == 0 && hasDefault && zeroIsDefault(field) {
			return
		}
		if v < lo || v > hi {
			if hasDefault && zeroIsDefault(field) {
				note += ", or 0 for the default"
			}
			bad(field, v, fmt.Sprintf("must be in [%d, %d]%s", lo, hi, note))
		}
	}
	// notNegative checks v ≥ 0, or v > 0 for a field with a default; shown is v as its
	// type prints it (a duration).
	notNegative := func(field string, v int64, shown any, hasDefault bool) {
		switch {
		case v < 0:
			bad(field, shown, "must not be negative")
		case v == 0 && hasDefault && !zeroIsDefault(field):
			bad(field, shown, "must be positive")
		}
	}
	duration := func(field string, d time.Duration, hasDefault bool) { notNegative(field, int64(d), d, hasDefault) }
	if err := c.Latency.Validate(); err != nil {
		bad("Latency", c.Latency, strings.TrimPrefix(err.Error(), "latency "+c.Latency.String()+": "))
	}
	inRange("Capacity", int64(c.Capacity), 0, MaxCapacity, false, " (0: unlimited)")
	inRange("QueueLimit", int64(c.QueueLimit), 0, MaxCapacity, false, "")
	if st := c.RejectStatus; st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable && (st != 0 || !zeroIsDefault("RejectStatus")) {
		bad("RejectStatus", st, "must be 429 or 503")
	}
	if c.Model == "" && !zeroIsDefault("Model") {
		bad("Model", `""`, "must not be empty")
	} else if !utf8.ValidString(c.Model) {
		bad("Model", strconv.Quote(c.Model), "must be valid UTF-8")
	}
	inRange("MaxBodyBytes", c.MaxBodyBytes, 1, MaxBytesLimit, true, " bytes")
	inRange("WS.ReadLimit", c.WS.ReadLimit, 1, MaxBytesLimit, true, " bytes")
	inRange("WS.MaxSessionText", int64(c.WS.MaxSessionText), 1, MaxBytesLimit, true, " bytes")
	notNegative("WS.TextBudget", c.WS.TextBudget, c.WS.TextBudget, true)
	duration("WS.IdleTimeout", c.WS.IdleTimeout, true)
	duration("WS.PongWait", c.WS.PongWait, true)
	inRange("WS.SendQueue", int64(c.WS.SendQueue), 1, maxSendQueue, true, " messages")
	inRange("WS.Loops", int64(c.WS.Loops), 1, int64(MaxWSLoops()), true, " (at most max(64, 4×GOMAXPROCS))")
	for _, r := range []struct {
		field string
		v     float64
	}{{"Faults.ErrorRate", c.Faults.ErrorRate}, {"Faults.SlowRate", c.Faults.SlowRate},
		{"Faults.StallRate", c.Faults.StallRate}, {"Faults.DropRate", c.Faults.DropRate}} {
		if !(r.v >= 0 && r.v <= 1) { // NaN too
			bad(r.field, r.v, "must be in [0,1]")
		}
	}
	if st := c.Faults.ErrorStatus; (st < 400 || st > 599) && (st != 0 || !zeroIsDefault("Faults.ErrorStatus")) {
		bad("Faults.ErrorStatus", st, "must be a 4xx or 5xx status")
	}
	duration("Faults.SlowExtra", c.Faults.SlowExtra, false)
	duration("Faults.StallFor", c.Faults.StallFor, false)
	return errors.Join(errs...)
}

// Server is a pixelsim instance. Create it with New; serve it with Start or mount Handler;
// stop it with Close.
type Server struct {
	cfg       Config
	gate      *gate
	c         counters
	started   time.Time
	modelJSON []byte    // the model name as a JSON string
	rngs      sync.Pool // *rand.Rand
	bufs      sync.Pool // *[]byte
	rngSeq    atomic.Uint64
	// textUsed is the share of WSConfig.TextBudget the sessions hold, in bytes.
	textUsed atomic.Int64
	// oversleep is the running estimate of how late the runtime's timers fire (ns), which
	// wait subtracts so that a fixed model latency is paid accurately under load.
	oversleep atomic.Int64
	reg       *prometheus.Registry
	latHist   prometheus.Histogram
	metricsH  http.Handler
	upgrader  *websocket.Upgrader
	errLog    *log.Logger

	quit      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // serve loops, WebSocket sessions and their inferences

	mu          sync.Mutex // guards the fields below
	closed      bool
	servers     []*http.Server
	grpcServers []grpcServing
	sessions    map[*session]struct{}
	loops       []*evloop.Loop // run the WebSocket sessions; made by the first one
	nextLoop    int            // the loop of the next session, guarded by mu
}

// New validates cfg, fills defaults and returns a server that is not yet listening. A
// field's zero takes its default; a field out of its range is a *ConfigError.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(func(string) bool { return true }); err != nil {
		return nil, fmt.Errorf("pixelsim config: %w", err)
	}
	cfg.fill()
	s := &Server{
		cfg:       cfg,
		gate:      newGate(cfg.Capacity, cfg.QueueLimit),
		started:   time.Now(),
		modelJSON: jsonx.AppendString(nil, cfg.Model),
		quit:      make(chan struct{}),
		sessions:  make(map[*session]struct{}),
	}
	w := cfg.ErrorLog
	if w == nil {
		w = io.Discard
	}
	s.errLog = log.New(w, "pixelsim: ", log.LstdFlags)
	s.rngs.New = func() any {
		return rand.New(rand.NewPCG(s.cfg.Seed, s.rngSeq.Add(1)))
	}
	s.initMetrics()
	s.upgrader = s.newUpgrader()
	return s, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// Handler returns the server's HTTP handler, for mounting in httptest or another server.
func (s *Server) Handler() http.Handler { return s }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in its own goroutine until Close.
// It returns the base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("pixelsim: listen on %q: %w", addr, err)
	}
	return s.Serve(ln)
}

// Serve serves on ln in its own goroutine until Close and returns the base URL.
func (s *Server) Serve(ln net.Listener) (string, error) {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a WebSocket leaves net/http at the upgrade
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.errLog,
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", errClosed
	}
	s.servers = append(s.servers, hs)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errLog.Printf("serve %s: %v", ln.Addr(), err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server gracefully: it stops accepting, lets in-flight HTTP requests
// finish (waits are cut short), closes WebSocket sessions with status 1001 and waits for
// every goroutine it started. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		servers := s.servers
		grpcServers := s.grpcServers
		sessions := make([]*session, 0, len(s.sessions))
		for ss := range s.sessions {
			sessions = append(sessions, ss)
		}
		loops := s.loops
		s.mu.Unlock()
		// Posted before quit closes, so that the close frames go out before the pending
		// inferences fail and their sessions see it.
		for _, ss := range sessions {
			ss.loop.Do(ss.shutdown)
		}
		close(s.quit)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, hs := range servers {
			if err := hs.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("pixelsim: shutdown: %w", err))
				hs.Close()
			}
		}
		stopGRPC(grpcServers)
		s.wg.Wait() // every session has ended
		for _, l := range loops {
			if err := l.Close(); err != nil {
				errs = append(errs, fmt.Errorf("pixelsim: close a WebSocket event loop: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// register adds a WebSocket session and gives it one of the server's event loops, which
// the first session starts. It fails with errClosed when the server is closing. The session
// counts in wg until endSession, so Close waits for it.
func (s *Server) register(ss *session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if s.loops == nil {
		for range max(s.cfg.WS.Loops, 1) {
			l, err := evloop.New()
			if err != nil {
				for _, l := range s.loops {
					_ = l.Close()
				}
				s.loops = nil
				return fmt.Errorf("start a WebSocket event loop: %w", err)
			}
			s.loops = append(s.loops, l)
		}
	}
	ss.loop = s.loops[s.nextLoop%len(s.loops)]
	s.nextLoop++
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	return nil
}

// endSession removes an ended session (its Closed).
func (s *Server) endSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
	s.c.wsActive.Add(-1)
	s.wg.Done()
}

// reserveText takes n bytes of the sessions' text budget; it takes nothing and returns
// false when that would pass WSConfig.TextBudget. Give them back with releaseText.
func (s *Server) reserveText(n int64) bool {
	for {
		used := s.textUsed.Load()
		if used+n > s.cfg.WS.TextBudget {
			return false
		}
		if s.textUsed.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// releaseText gives back n bytes taken by reserveText.
func (s *Server) releaseText(n int64) { s.textUsed.Add(-n) }

// rng borrows a random generator; return it with putRNG.
func (s *Server) rng() *rand.Rand     { return s.rngs.Get().(*rand.Rand) }
func (s *Server) putRNG(r *rand.Rand) { s.rngs.Put(r) }

// wait sleeps for d unless ctx is done or the server closes first. Go's timers fire late
// by a fraction of a millisecond, more so with hundreds of them pending; wait asks for d less
// the lateness it has observed so far, so that a fixed latency of 50 ms is paid as 50 ms (a
// load generator's accuracy is measured against it).
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	ask := compensate(d, time.Duration(s.oversleep.Load()))
	start := time.Now()
	t := time.NewTimer(ask)
	defer t.Stop()
	select {
	case <-t.C:
		late := time.Since(start) - ask
		s.oversleep.Store(int64(nextOversleep(time.Duration(s.oversleep.Load()), late)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return errClosed
	}
}

// Oversleep estimation: an exponentially weighted mean of observed lateness, weight 1/16,
// capped so that a stall of the whole process (a GC pause, a descheduled VM) cannot make
// later waits much shorter than asked.
const (
	oversleepWeight = 16
	maxOversleep    = 2 * time.Millisecond
)

// nextOversleep folds one observed lateness into the running estimate.
func nextOversleep(est, late time.Duration) time.Duration {
	late = min(max(late, 0), maxOversleep)
	return est + (late-est)/oversleepWeight
}

// compensate returns how long to ask the timer for to wait d given the estimated lateness:
// d less the lateness, never less than three quarters of d.
func compensate(d, est time.Duration) time.Duration {
	return max(d-min(max(est, 0), maxOversleep), d*3/4)
}

// plan is the outcome of the per-inference random draws.
type plan struct {
	latency time.Duration
	fail    bool
	slow    bool
	stall   bool
}

// draw decides one inference's latency and faults. REST inferences may fail; WebSocket
// inferences never draw the error fault.
func (s *Server) draw(rest bool) plan {
	f := &s.cfg.Faults
	if s.cfg.Latency.IsZero() && f.ErrorRate == 0 && f.SlowRate == 0 && f.StallRate == 0 {
		return plan{}
	}
	r := s.rng()
	p := plan{latency: s.cfg.Latency.Sample(r)}
	p.fail = rest && f.ErrorRate > 0 && r.Float64() < f.ErrorRate
	p.slow = f.SlowRate > 0 && r.Float64() < f.SlowRate
	p.stall = f.StallRate > 0 && r.Float64() < f.StallRate
	s.putRNG(r)
	if p.slow {
		p.latency += f.SlowExtra
	}
	return p
}

// infer runs one inference: it takes a worker, pays the model latency and stalls if told
// to. It returns nil, or an error from the gate or a wait. ctx cuts any wait short (the
// WebSocket session that asked has ended). gone ends only a stall without end
// (Faults.StallFor 0), the one wait that has no end of its own: a REST request passes its
// request's context there and nothing as ctx, because net/http also cancels that context
// when a client merely half-closes its connection after the request (golang/go#18527),
// and such a client still reads the answer.
func (s *Server) infer(ctx, gone context.Context, p plan) error {
	if err := s.gate.acquire(ctx, s.quit); err != nil {
		if errors.Is(err, errOverloaded) {
			s.c.rejected.Add(1)
		}
		return err
	}
	defer s.gate.release()
	if p.slow {
		s.c.slow.Add(1)
	}
	if err := s.wait(ctx, p.latency); err != nil {
		return err
	}
	if p.stall {
		s.c.stalled.Add(1)
		if s.cfg.Faults.StallFor == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-gone.Done():
				return gone.Err()
			case <-s.quit:
				return errClosed
			}
		}
		return s.wait(ctx, s.cfg.Faults.StallFor)
	}
	return nil
}
