// Package engine is pixelk6's pure execution core. Given a validated Test (scenarios,
// thresholds, tags, timeouts), a Runner (the script side), outputs and an optional
// Observer, Run initialises every scenario's VUs in parallel, runs setup(), walks each
// executor's plan (package executor) on its own goroutines, runs teardown(), evaluates the
// thresholds a last time, stops the outputs and returns a Result: the exit code of an
// abort, the crossed thresholds and the sinks the end-of-test summary is built from.
//
// The engine prints nothing and imports no JavaScript engine: it depends only on the
// interfaces it defines — Runner and VU (package js implements them with goja), Output
// (package output), Observer (the command line's progress display) and Logger (iteration
// errors, rate-limited, and abort reasons). Control (Config.Control) is a run's control
// surface for k6's REST API (package restapi): an Observer of the run's events that can hold
// the run paused after VU initialisation until resumed, stop it (exit code 103), and read
// its live metrics and groups through the aggregator goroutine (Control.Metrics sends a
// request the aggregator answers between batches; after it stopped, a final snapshot).
// Consolidating k6's options, the banner, the progress display, the summary,
// handleSummary and --summary-export belong to package cli.
//
// Samples flow VU → per-VU buffer (a metrics.Pusher; one uncontended lock, batches of
// flushAt) → one aggregator goroutine that folds them into sinks per metric and per
// submetric (threshold keys plus k6's http_req_duration{expected_response:true}), counts
// checks per group, hands every batch to the outputs, emits vus/vus_max every second and
// evaluates thresholds every 2 s and at the end. A VU never blocks past its context.
//
// Goroutines and their owners: Run owns the aggregator (stopped by closing pipeline.stop,
// joined on pipeline.stopped), the progress goroutine that reports a snapshot to the
// Observer every Config.ProgressEvery (progressLoop.stop ends and joins it) and one
// goroutine per scenario, all joined before Run returns; a scenario owns one goroutine per
// VU slot and the ramp-down timers. An arrival-rate scenario's goroutine is its scheduler:
// it hands each scheduled start to an idle VU (or drops it) and owns the initialiser
// goroutine that adds VUs up to maxVUs during the run; all exit when the scenario ends. Observer calls come from these goroutines and must
// return fast (see Observer).
//
// Exit codes are k6's (see the Exit* constants); Result.ExitCode combines them.
package engine
