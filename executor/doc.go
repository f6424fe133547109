// Package executor owns k6's executors as data: it parses a scenario's JSON config
// (constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate,
// ramping-arrival-rate) with k6's field names and defaults, validates it, and computes its
// Plan — the VU targets over time, the iteration budget, the arrival-rate Schedule (when the
// n-th iteration starts) and the durations — as a pure value. It has no clock and starts no goroutine: the
// engine walks the plans.
//
// It owns k6's execution segments too (segment.go): the parsers of segments and segment
// sequences, and the striping that deals a test's VUs, iterations and arrival-rate starts
// out among the instances of a distributed run; a Config given a segment (SetSegment) plans
// its share.
//
// It also owns k6's execution shortcuts (vus, duration, iterations, stages → a "default"
// scenario), and the parsers of k6 durations ("1m30s", "500ms", or a number of ms) and of
// --stage strings ("30s:10,1m:0").
package executor
