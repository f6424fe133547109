package js

import (
	"context"
	"encoding/json"

	"github.com/pixelk6/pixelk6/js/modules"
)

// VU is one initialised virtual user. Its methods are called from one goroutine at a time.
type VU interface {
	// State is the VU's state; Runner's VUs update Iteration and Scenario before each
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
