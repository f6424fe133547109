// Package engine runs a pixelk6 test: it consolidates k6's options (script, then K6_*
// environment, then command line), validates the thresholds against the script's metrics,
// initialises every scenario's VUs in parallel, runs setup(), walks each executor's plan
// (package executor) on its own goroutines, runs teardown(), and ends with
// handleSummary() or the text summary, --summary-export and the exit code.
//
// Samples flow VU → per-VU buffer (a metrics.Pusher; one uncontended lock, batches of
// flushAt) → one aggregator goroutine that folds them into sinks per metric and per
// submetric (threshold keys plus k6's http_req_duration{expected_response:true}), counts
// checks per group, hands every batch to the outputs, emits vus/vus_max every second and
// evaluates thresholds every 2 s and at the end. A VU never blocks past its context.
//
// Goroutines and their owners: Run owns the aggregator (stopped by closing pipeline.stop,
// joined on pipeline.stopped), the progress printer (progress.stop) and one goroutine per
// scenario; a scenario owns one goroutine per VU slot and the ramp-down timers.
//
// Exit codes are k6's (see the Exit* constants); Run returns them as *ExitError.
package engine
