package js

import (
	"context"
	"encoding/json"

	"github.com/pixelk6/pixelk6/js/modules"
)

// Runner is the script side of a test run: *Bundle implements it; the engine
// only walks executors and calls these methods, so it can be tested with a fake.
type Runner interface {
	// Options returns the script's exported `options` object as JSON (as evaluated by the
	// first VU's init context), or nil when the script exports none.
	Options() json.RawMessage
	// Exports reports whether the script exports a function called name
	// ("default", "setup", "teardown", "handleSummary", or a scenario's exec).
	HasExport(name string) bool
	// NewVU creates VU number state.VUID and runs its init context. The engine fills state
	// (Registry, Builtin, Samples, Logger, Options, Tags, VUID); the runner fills what it owns
	// (HTTPClient when nil).
	NewVU(ctx context.Context, state *modules.State) (VU, error)
	// Setup runs setup() if exported and returns its result as JSON (nil if not exported or
	// it returned undefined).
	Setup(ctx context.Context, state *modules.State) (json.RawMessage, error)
	// Teardown runs teardown(data) if exported.
	Teardown(ctx context.Context, state *modules.State, data json.RawMessage) error
	// HandleSummary calls handleSummary(data) when exported, with data in k6's shape, and
	// returns its result: output name ("stdout", "stderr" or a file path) → content.
	// ok is false when the script exports no handleSummary.
	HandleSummary(ctx context.Context, state *modules.State, data json.RawMessage) (out map[string]string, ok bool, err error)
}

// VU is one initialised virtual user. Its methods are called from one goroutine at a time.
type VU interface {
	// State is the VU's state; the engine updates Iteration, Scenario and Tags before each
	// RunIteration.
	State() *modules.State
	// RunIteration runs one iteration of the exported function exec with the setup data
	// (nil for none). It returns when the function returns and its promise (if any) and
	// every pending event-loop callback have settled, or when ctx is done (the iteration is
	// then interrupted). It emits the iteration's iterations, iteration_duration,
	// data_sent and data_received samples (unless the iteration was interrupted by ctx, in
	// which case k6 emits none of iteration_duration/iterations). A JS exception is
	// returned as an error whose message has file:line of the user's source.
	RunIteration(ctx context.Context, exec string, data json.RawMessage) error
	// Close releases the VU's resources (idle connections, timers).
	Close()
}
