package modules

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Run is one test run as modules see it: one loaded script with its VUs, setup, teardown and
// handleSummary. It is the home of what a module shares between the VUs of a run and must
// release when the run ends (a client whose event-loop goroutines run for the whole test, a
// connection pool): a root module is process-wide and must not hold such things itself, so
// that two runs in one process never share them and none outlives its run.
//
// The runner makes one Run per loaded script, gives it to every VU (InitEnvironment.Run and
// State.Run) and closes it when the run ends. Safe for concurrent use.
type Run struct {
	mu      sync.Mutex
	values  map[any]any
	closers []io.Closer // values that are io.Closers, in creation order
	closed  bool
}

// NewRun returns an open run scope. The runner calls it; modules receive the Run.
func NewRun() *Run { return &Run{values: map[any]any{}} }

// ErrRunEnded is returned by Value once the run has been closed.
var ErrRunEnded = errors.New("the test run has ended")

// Value returns the run's value for key, calling create the first time a VU of the run asks
// for it. A value that implements io.Closer is closed by Close. key identifies the value,
// like a context key: use a value of an unexported type of the module. create runs under the
// run's lock (calls for other keys wait), so it should not block for long; its error is
// returned and nothing is stored (the next call tries again).
func (r *Run) Value(key any, create func() (any, error)) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrRunEnded
	}
	if v, ok := r.values[key]; ok {
		return v, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	r.values[key] = v
	if c, ok := v.(io.Closer); ok {
		r.closers = append(r.closers, c)
	}
	return v, nil
}

// RunValue is Run.Value typed: the value for key, made by create on first use.
func RunValue[T any](r *Run, key any, create func() (T, error)) (T, error) {
	v, err := r.Value(key, func() (any, error) { return create() })
	if err != nil {
		var zero T
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("run value %v is a %T, not a %T", key, v, zero)
	}
	return t, nil
}

// Close ends the run: it closes the values that are io.Closers, the last created first, and
// returns the first error. Later Value calls return ErrRunEnded; Close again returns nil.
func (r *Run) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	closers := r.closers
	r.closers, r.values = nil, nil
	r.mu.Unlock()
	var first error
	for _, c := range slices.Backward(closers) {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
