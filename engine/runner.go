package engine

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Runner is the script side of a run. The js package implements it (js.Runner); the engine
// only calls these methods, so it is tested with a fake and imports no JavaScript engine.
type Runner interface {
	// HasExport reports whether the script exports a function called name ("default",
	// "setup", "teardown" or a scenario's exec).
	HasExport(name string) bool
	// NewVU creates and initialises the VU described by spec (it runs the init context).
	NewVU(ctx context.Context, spec VUSpec) (VU, error)
	// Setup runs setup() if exported and returns its result as JSON (nil when it returned
	// undefined or is not exported).
	Setup(ctx context.Context, spec VUSpec) (json.RawMessage, error)
	// Teardown runs teardown(data) if exported.
	Teardown(ctx context.Context, spec VUSpec, data json.RawMessage) error
}

// VU is one initialised virtual user. Its methods are called from one goroutine at a time
// (the goroutine of the scenario slot that owns it).
type VU interface {
	// RunIteration runs one iteration of it.Exec with the setup data. It returns when the
	// iteration has settled or ctx is done (the iteration is then interrupted). An error
	// for which IsAbort holds stops the whole run (exit code 108).
	RunIteration(ctx context.Context, it Iteration) error
	// Close releases the VU's resources.
	Close()
}

// VUSpec is what a Runner needs to create a VU (or the context of setup and teardown).
type VUSpec struct {
	// ID is the VU's number: 1-based for the scenarios' VUs, 0 for setup and teardown.
	ID uint64
	// IDInTest is the VU's number in the whole test (k6/execution's vu.idInTest): ID,
	// unless the instance runs an execution segment; then unique across the instances.
	IDInTest uint64
	// Tags are the VU's own tags: options.tags (with --tag) plus its scenario's tags. The
	// runner owns the map.
	Tags map[string]string
	// Env holds the scenario's env, merged over the script's __ENV (nil: none).
	Env map[string]string
	// Samples receives every sample the VU emits. It blocks only while the aggregator's
	// queue is full, never past the context given to Push.
	Samples metrics.Pusher
	// Instance returns the run's counters (k6/execution's instance.*); nil outside the
	// scenarios (setup, teardown).
	Instance func() InstanceStats
	// TestOptions are the consolidated options as JSON with the scenarios as run
	// (k6/execution's test.options); nil outside the scenarios.
	TestOptions []byte
	// MarkFailed marks the run as failed without stopping it (k6/execution's test.fail):
	// Result.MarkedFailed is set and the exit code is 110. Safe for concurrent use.
	MarkFailed func(reason string)
}

// InstanceStats are the run's counters as k6/execution's `instance` object shows them.
type InstanceStats struct {
	VUsActive, VUsInitialized                  int64
	IterationsCompleted, IterationsInterrupted int64
	// Start is when the run's scenarios started (the test run duration is now − Start).
	Start time.Time
}

// Iteration is one call of RunIteration: what to run and where the VU stands.
type Iteration struct {
	// Exec is the exported function to call ("default" for the shortcut options).
	Exec string
	// Data is setup()'s result as JSON (nil for none).
	Data json.RawMessage
	// Scenario is the scenario the VU runs; the same pointer for every iteration of a
	// scenario's run.
	Scenario *ScenarioInfo
	// VUIteration is the VU's iteration number in its scenario (__ITER), 0-based.
	VUIteration int64
	// ScenarioIteration is the iteration's number across all VUs of the scenario, 0-based.
	ScenarioIteration int64
	// TestIteration is the iteration's number in the scenario of the whole test
	// (k6/execution's scenario.iterationInTest): ScenarioIteration, unless the instance
	// runs an execution segment; then unique across the instances.
	TestIteration int64
}

// ScenarioInfo describes a running scenario to its VUs (k6/execution's scenario object).
type ScenarioInfo struct {
	Name     string
	Executor string
	// Start is when the scenario started (after its startTime).
	Start time.Time
	// Progress returns the scenario's progress in [0, 1]: iterations done of the budget
	// for iteration-based executors, time elapsed of the duration otherwise.
	Progress func() float64
}

// ErrAbort marks an error that stops the whole run, as k6's test.abort() does (exit code
// 108). A Runner or VU returns Abort(err); the engine tests with IsAbort.
var ErrAbort = errors.New("test aborted")

// Abort marks err as a test abort. The result's message is err's.
func Abort(err error) error {
	if err == nil {
		return nil
	}
	return abortError{err}
}

type abortError struct{ err error }

func (e abortError) Error() string   { return e.err.Error() }
func (e abortError) Unwrap() []error { return []error{e.err, ErrAbort} }

// IsAbort reports whether err (or an error it wraps) is a test abort.
func IsAbort(err error) bool { return errors.Is(err, ErrAbort) }

// Logger receives the engine's log lines: iteration errors (rate-limited) and the reason
// a run was aborted. level is "debug", "info", "warning" or "error"; kv are extra key,
// value pairs. It is called from many goroutines at once.
type Logger interface {
	LogFields(level, msg string, kv ...string)
}
