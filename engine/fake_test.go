package engine

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// fakeRunner is a Runner whose VUs run iter.
type fakeRunner struct {
	exports map[string]bool
	initErr error // returned by NewVU for VU 2
	// initDelay is how long NewVU takes (busy, as a script's init context would be).
	initDelay time.Duration
	setupErr  error
	// teardownErr is returned by Teardown.
	teardownErr error
	// blockSetup and blockTeardown make setup and teardown run until their context ends.
	blockSetup, blockTeardown bool
	// iter runs one iteration; nil pushes one iterations sample and returns.
	iter     func(ctx context.Context, v *fakeVU) error
	setups   atomic.Int64
	teardown atomic.Int64
	gotData  atomic.Value // json.RawMessage passed to iterations
	reg      *metrics.Registry
	builtin  *metrics.Builtin
	// vus are the VUs NewVU made, by ID.
	vusMu sync.Mutex
	vus   map[uint64]*fakeVU
}

var _ Runner = (*fakeRunner)(nil)

func (f *fakeRunner) HasExport(name string) bool {
	if f.exports == nil {
		return name == "default"
	}
	return f.exports[name]
}
func (f *fakeRunner) NewVU(_ context.Context, spec VUSpec) (VU, error) {
	if f.initErr != nil && spec.ID == 2 {
		return nil, f.initErr
	}
	for t0 := time.Now(); time.Since(t0) < f.initDelay; {
	}
	v := &fakeVU{r: f, spec: spec, builtin: f.builtin}
	f.vusMu.Lock()
	if f.vus == nil {
		f.vus = map[uint64]*fakeVU{}
	}
	f.vus[spec.ID] = v
	f.vusMu.Unlock()
	return v, nil
}
func (f *fakeRunner) Setup(ctx context.Context, _ VUSpec) (json.RawMessage, error) {
	f.setups.Add(1)
	if f.blockSetup {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.setupErr != nil {
		return nil, f.setupErr
	}
	return json.RawMessage(`{"token":"x"}`), nil
}
func (f *fakeRunner) Teardown(ctx context.Context, _ VUSpec, _ json.RawMessage) error {
	f.teardown.Add(1)
	if f.blockTeardown {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.teardownErr
}

// fakeVU records its spec and its last iteration.
type fakeVU struct {
	r       *fakeRunner
	spec    VUSpec
	builtin *metrics.Builtin
	it      Iteration // the current (then last) iteration
}

func (v *fakeVU) Close() {}
func (v *fakeVU) RunIteration(ctx context.Context, it Iteration) error {
	v.it = it
	v.r.gotData.Store(it.Data)
	var err error
	if v.r.iter != nil {
		err = v.r.iter(ctx, v)
	}
	if ctx.Err() == nil && err == nil {
		v.spec.Samples.Push(ctx, []metrics.Sample{{Metric: v.builtin.Iterations, Tags: metrics.TagsFromPairs("scenario", it.Scenario.Name), Time: time.Now(), Value: 1}})
	}
	return err
}

// sleepIter waits d or ctx.
func sleepIter(d time.Duration) func(ctx context.Context, v *fakeVU) error {
	return func(ctx context.Context, _ *fakeVU) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fakeOutput records what it gets.
type fakeOutput struct {
	mu        sync.Mutex
	started   bool
	stopped   bool
	samples   []metrics.Sample
	afterStop int
}

func (o *fakeOutput) Start() error { o.mu.Lock(); o.started = true; o.mu.Unlock(); return nil }
func (o *fakeOutput) Stop() error  { o.mu.Lock(); o.stopped = true; o.mu.Unlock(); return nil }
func (o *fakeOutput) AddSamples(s []metrics.Sample) {
	o.mu.Lock()
	if o.stopped {
		o.afterStop++
	}
	o.samples = append(o.samples, s...)
	o.mu.Unlock()
}

// sum returns the sum of the values of metric name.
func (o *fakeOutput) sum(name string) float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var t float64
	for _, s := range o.samples {
		if s.Metric.Name == name {
			t += s.Value
		}
	}
	return t
}

func abortErr(reason string) error { return Abort(errors.New("test aborted: " + reason)) }

var errBoom = errors.New("Error: boom\n\tat default (file:///t.js:3:9(4))")

// recorder is an Observer that records every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Observe(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
