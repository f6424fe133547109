// Package push owns what the network outputs (influxdb, experimental-prometheus-rw,
// opentelemetry) share: AddSamples hands samples to the output's Accumulator without I/O
// (the InfluxDB output encodes them there, as the JSON output does, so nothing
// pointer-rich waits for the garbage collector to scan), a flusher takes what accumulated
// every push interval as a Request, at most N requests are in flight, each is retried with
// exponential back-off, and the points that could not be written are counted. Writing never
// blocks the caller: when the server is down or slow, what waits is bounded and the excess
// is dropped and counted, and Stop gives the last writes a bounded grace.
package push

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Request is one prepared write: the batch converted to what the server takes.
type Request interface {
	// Points is how many points of the request are not sent yet (the unit the server
	// counts: a line of line protocol, a sample of a time series).
	Points() int
	// Send sends what is not sent yet. It is called again after a retryable error, and
	// must then send only what the failed call did not.
	Send(ctx context.Context) error
}

// Releaser is a Request that wants to know when the Pusher is done with it (to reuse its
// buffers).
type Releaser interface{ Release() }

func release(req Request) {
	if r, ok := req.(Releaser); ok {
		r.Release()
	}
}

// Accumulator gathers samples between pushes. The Pusher calls Add and Take under its
// lock, never concurrently, in the order the samples arrived.
type Accumulator interface {
	// Add takes samples (it must not keep the slice) and returns how many units (points)
	// now wait for the next Take.
	Add(samples []metrics.Sample) (pending int)
	// Take returns the request of what accumulated since the last Take (nil: nothing).
	Take() Request
}

// permanent marks an error that no retry can fix (a 4xx answer).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the batch is dropped without retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Config configures a Pusher.
type Config struct {
	// Name names the output in messages ("influxdb").
	Name string
	// Interval is the push interval (> 0).
	Interval time.Duration
	// Concurrency is the number of writes in flight at most (>= 1).
	Concurrency int
	// Attempts is how many times a batch is tried (0 means 4).
	Attempts int
	// Backoff is the wait before the first retry, doubled for each next (0 means 250 ms);
	// it is capped at MaxBackoff (0 means 4 s).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (0 means 10 s).
	Timeout time.Duration
	// StopGrace bounds how long Stop waits for the last writes (0 means 10 s); writes
	// still running then are cancelled and their points counted as dropped.
	StopGrace time.Duration
	// MaxPending is how many points wait at most for a writer (0 means 1,000,000; < 0:
	// no limit, for an accumulator whose state is bounded by itself); the samples of a
	// batch that finds it full are dropped and counted.
	MaxPending int
	// Acc accumulates the samples.
	Acc Accumulator
	// Warn receives warnings (a failing server, dropped points); nil discards them.
	Warn func(msg string)
}

// Stats counts what a Pusher did.
type Stats struct {
	// Samples is how many samples AddSamples received.
	Samples int64
	// Written and Dropped count points written and points given up on.
	Written, Dropped int64
	// DroppedSamples counts samples dropped before conversion (too much waiting).
	DroppedSamples int64
	// LastErr is the last write error ("" when none).
	LastErr string
}

// Pusher buffers samples and writes them periodically with Config.Write.
type Pusher struct {
	cfg Config

	mu      sync.Mutex
	pending int

	sem      chan struct{}
	ctx      context.Context // cancelled when Stop's grace ends
	cancel   context.CancelFunc
	done     chan struct{}
	loopDone chan struct{}
	writes   sync.WaitGroup
	started  atomic.Bool
	stopOnce sync.Once

	samples, written, dropped, droppedSamples atomic.Int64
	errMu                                     sync.Mutex
	lastErr                                   error
	lastWarn                                  time.Time
}

// New returns a Pusher; Start starts it.
func New(cfg Config) *Pusher {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 4 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 1_000_000
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pusher{cfg: cfg, sem: make(chan struct{}, cfg.Concurrency), ctx: ctx, cancel: cancel,
		done: make(chan struct{}), loopDone: make(chan struct{})}
}

// Start starts the flusher.
func (p *Pusher) Start() {
	p.started.Store(true)
	go p.loop()
}

// AddSamples gives samples to the accumulator; it never does I/O. When MaxPending points
// already wait, the samples are dropped and counted.
func (p *Pusher) AddSamples(samples []metrics.Sample) {
	if len(samples) == 0 {
		return
	}
	p.samples.Add(int64(len(samples)))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.MaxPending > 0 && p.pending >= p.cfg.MaxPending {
		p.droppedSamples.Add(int64(len(samples)))
		return
	}
	p.pending = p.cfg.Acc.Add(samples)
}

func (p *Pusher) loop() {
	defer close(p.loopDone)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.flush(false)
		}
	}
}

// flush takes what accumulated and gives it to a writer. When every writer is busy it
// leaves it accumulating for the next tick, unless final, when it waits for a writer
// (bounded by the stop grace).
func (p *Pusher) flush(final bool) {
	if final {
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			p.mu.Lock()
			if req := p.cfg.Acc.Take(); req != nil {
				p.dropped.Add(int64(req.Points()))
				release(req)
			}
			p.pending = 0
			p.mu.Unlock()
			return
		}
	} else {
		select {
		case p.sem <- struct{}{}:
		default:
			return // all writers busy: the points wait, bounded by MaxPending
		}
	}
	p.mu.Lock()
	req := p.cfg.Acc.Take()
	p.pending = 0
	p.mu.Unlock()
	if req == nil || req.Points() == 0 {
		if req != nil {
			release(req)
		}
		<-p.sem
		return
	}
	p.writes.Add(1)
	go func() {
		defer func() { <-p.sem; p.writes.Done() }()
		p.write(req)
		release(req)
	}()
}

// write tries a request up to Attempts times with exponential back-off.
func (p *Pusher) write(req Request) {
	wait := p.cfg.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		before := req.Points()
		actx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
		err = req.Send(actx)
		cancel()
		p.written.Add(int64(before - req.Points()))
		if err == nil {
			return
		}
		var perm permanent
		if errors.As(err, &perm) || attempt >= p.cfg.Attempts || p.ctx.Err() != nil {
			break
		}
		p.warn(fmt.Sprintf("%s: write failed (attempt %d of %d, retrying in %s): %v", p.cfg.Name, attempt, p.cfg.Attempts, wait, err))
		select {
		case <-time.After(wait):
		case <-p.ctx.Done():
		}
		wait = min(2*wait, p.cfg.MaxBackoff)
	}
	points := req.Points()
	p.dropped.Add(int64(points))
	p.errMu.Lock()
	p.lastErr = err
	p.errMu.Unlock()
	p.warn(fmt.Sprintf("%s: %d points dropped: %v", p.cfg.Name, points, err))
}

// warn passes msg on, at most one every 5 s so a dead server does not flood the log.
func (p *Pusher) warn(msg string) {
	p.errMu.Lock()
	now := time.Now()
	if now.Sub(p.lastWarn) < 5*time.Second {
		p.errMu.Unlock()
		return
	}
	p.lastWarn = now
	p.errMu.Unlock()
	p.cfg.Warn(msg)
}

// Stop writes what is buffered, waits up to StopGrace for the writes in flight, cancels
// the rest and returns the counts. Calling it again returns the counts again.
func (p *Pusher) Stop() Stats {
	p.stopOnce.Do(func() {
		if !p.started.Load() { // stopped before it was started (a later --out was invalid)
			p.cancel()
			return
		}
		close(p.done)
		<-p.loopDone
		timer := time.AfterFunc(p.cfg.StopGrace, p.cancel)
		p.flush(true)
		p.writes.Wait()
		timer.Stop()
		p.cancel()
	})
	return p.Stats()
}

// Stats returns the counts so far.
func (p *Pusher) Stats() Stats {
	s := Stats{Samples: p.samples.Load(), Written: p.written.Load(), Dropped: p.dropped.Load(), DroppedSamples: p.droppedSamples.Load()}
	p.errMu.Lock()
	if p.lastErr != nil {
		s.LastErr = p.lastErr.Error()
	}
	p.errMu.Unlock()
	return s
}

// Report is the end-of-run sentence about s, "" when nothing was lost.
func (s Stats) Report(name string) string {
	if s.Dropped == 0 && s.DroppedSamples == 0 {
		return ""
	}
	msg := fmt.Sprintf("%s: %d points could not be written and were dropped", name, s.Dropped)
	if s.DroppedSamples > 0 {
		msg += fmt.Sprintf(", and %d samples were dropped unsent because the server fell behind", s.DroppedSamples)
	}
	msg += fmt.Sprintf(" (%d points written)", s.Written)
	if s.LastErr != "" {
		msg += "; last error: " + s.LastErr
	}
	return msg
}
