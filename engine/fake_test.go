package engine

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/execution"
	"github.com/pixelk6/pixelk6/metrics"
)

// fakeRunner is a js.Runner whose VUs run iter.
type fakeRunner struct {
	exports  map[string]bool
	initErr  error // returned by NewVU for VU 2
	setupErr error
	// teardownErr is returned by Teardown.
	teardownErr error
	// iter runs one iteration; nil pushes one iterations sample and returns.
	iter        func(ctx context.Context, st *modules.State) error
	summary     map[string]string
	setups      atomic.Int64
	teardown    atomic.Int64
	gotData     atomic.Value // json.RawMessage passed to iterations
	summaryData json.RawMessage
	// states are the VU states NewVU got, by VUID.
	statesMu sync.Mutex
	states   map[uint64]*modules.State
}

var _ js.Runner = (*fakeRunner)(nil)

func (f *fakeRunner) Options() json.RawMessage { return nil }
func (f *fakeRunner) HasExport(name string) bool {
	if f.exports == nil {
		return name == "default"
	}
	return f.exports[name]
}
func (f *fakeRunner) NewVU(_ context.Context, st *modules.State) (js.VU, error) {
	if f.initErr != nil && st.VUID == 2 {
		return nil, f.initErr
	}
	f.statesMu.Lock()
	if f.states == nil {
		f.states = map[uint64]*modules.State{}
	}
	f.states[st.VUID] = st
	f.statesMu.Unlock()
	return &fakeVU{r: f, st: st}, nil
}
func (f *fakeRunner) Setup(_ context.Context, _ *modules.State) (json.RawMessage, error) {
	f.setups.Add(1)
	if f.setupErr != nil {
		return nil, f.setupErr
	}
	return json.RawMessage(`{"token":"x"}`), nil
}
func (f *fakeRunner) Teardown(context.Context, *modules.State, json.RawMessage) error {
	f.teardown.Add(1)
	return f.teardownErr
}
func (f *fakeRunner) HandleSummary(_ context.Context, _ *modules.State, data json.RawMessage) (map[string]string, bool, error) {
	if f.summary == nil {
		return nil, false, nil
	}
	f.summaryData = data
	return f.summary, true, nil
}

type fakeVU struct {
	r  *fakeRunner
	st *modules.State
}

func (v *fakeVU) State() *modules.State { return v.st }
func (v *fakeVU) Close()                {}
func (v *fakeVU) RunIteration(ctx context.Context, exec string, data json.RawMessage) error {
	v.r.gotData.Store(data)
	var err error
	if v.r.iter != nil {
		err = v.r.iter(ctx, v.st)
	}
	if ctx.Err() == nil && err == nil {
		v.st.Samples.Push(ctx, []metrics.Sample{{Metric: v.st.Builtin.Iterations, Tags: metrics.TagsFromPairs("scenario", v.st.Scenario), Time: time.Now(), Value: 1}})
	}
	return err
}

// sleepIter waits d or ctx.
func sleepIter(d time.Duration) func(ctx context.Context, st *modules.State) error {
	return func(ctx context.Context, _ *modules.State) error {
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

func abortErr(reason string) error { return &execution.AbortError{Reason: reason} }

var errBoom = errors.New("Error: boom\n\tat default (file:///t.js:3:9(4))")
