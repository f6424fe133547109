package engine

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Result is a finished run: its outcome and the aggregated data the end-of-test summary
// is built from. The sinks are no longer touched by the engine.
type Result struct {
	// Code is the exit code of an aborted or failed run (see the Exit* constants), 0 when
	// the run reached its end; crossed thresholds are in FailedThresholds. ExitCode
	// combines both.
	Code int
	// Err is why Code is not 0; it has already been logged.
	Err error
	// Ran is set when the scenarios ran (the fields below are filled); it is false when
	// the run failed before (invalid thresholds, init error, an output that cannot start).
	Ran bool
	// Elapsed is the run time from the scenarios' start to the end of teardown.
	Elapsed time.Duration
	// Metrics are every metric of the registry in registration order, each followed by its
	// submetrics (threshold keys and k6's http_req_duration{expected_response:true}).
	Metrics []MetricResult
	// Checks are the checks in order of first appearance, per scenario and group.
	Checks []CheckResult
	// Scenarios are the scenario names in the test's order.
	Scenarios []string
	// Scoped are the per-scenario and per-group sinks (only with Config.ByScenario).
	Scoped []ScopedResult
	// FailedThresholds are the sorted keys with at least one crossed threshold.
	FailedThresholds []string
	// OutputErrors are the errors of the outputs' Stop.
	OutputErrors []error
	// MarkedFailed is set when the script called test.fail() (k6/execution); FailReasons
	// are the reasons it gave, in order, without repeats.
	MarkedFailed bool
	FailReasons  []string
	// SetupData is the setup data the scenarios got, as JSON: setup()'s result (or the data
	// set through the Control); nil when there was none. k6 hands it to handleSummary as
	// data.setup_data.
	SetupData json.RawMessage
}

// ExitCode is the run's exit code: Code when not 0, else 99 when a threshold was crossed,
// else 110 when the script marked the test failed, else 255 when an output failed to
// flush, else 0.
func (r *Result) ExitCode() int {
	switch {
	case r.Code != 0:
		return r.Code
	case len(r.FailedThresholds) > 0:
		return ExitThresholdsCrossed
	case r.MarkedFailed:
		return ExitMarkedAsFailed
	case len(r.OutputErrors) > 0:
		return ExitGeneric
	}
	return ExitOK
}

// MetricResult is one metric or submetric key with its sink and thresholds.
type MetricResult struct {
	// Key is the metric's name or a submetric's key ("http_req_duration{name:infer}").
	Key    string
	Metric *metrics.Metric
	// Sink is nil when the key got no samples.
	Sink metrics.Sink
	// Thresholds are the key's thresholds with their final outcome (definition order).
	Thresholds []ThresholdResult
}

// CheckResult counts one check's passes and fails.
type CheckResult struct {
	// Scenario and Group ("::a::b", "" at the top) are where the check ran.
	Scenario, Group, Name string
	Passes, Fails         int64
}

// ScopedResult is a metric's sink in one scenario: over all its groups (AllGroups) or in
// one group.
type ScopedResult struct {
	Scenario  string
	Group     string
	AllGroups bool
	Metric    *metrics.Metric
	Sink      metrics.Sink
}

// result collects the aggregated data once the aggregator has exited.
func (r *run) result(elapsed time.Duration) *Result {
	p := r.pipe
	res := &Result{Ran: true, Elapsed: elapsed, FailedThresholds: p.failedKeys()}
	r.mu.Lock()
	res.SetupData = r.setupData
	r.mu.Unlock()
	res.Metrics = p.metricResults(r.cfg.Registry, false)
	for _, c := range p.checks {
		res.Checks = append(res.Checks, CheckResult{Scenario: c.key.scenario, Group: c.key.group, Name: c.key.name, Passes: c.passes, Fails: c.fails})
	}
	for _, sc := range r.scens {
		res.Scenarios = append(res.Scenarios, sc.name)
	}
	keys := make([]scopeKey, 0, len(p.scoped))
	for k := range p.scoped {
		keys = append(keys, k)
	}
	// Groups in path order, so that parents come before children.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].metric.Name < keys[j].metric.Name
	})
	for _, k := range keys {
		sr := ScopedResult{Scenario: k.scenario, Group: k.group, Metric: k.metric, Sink: p.scoped[k]}
		if k.group == allGroups {
			sr.Group, sr.AllGroups = "", true
		}
		res.Scoped = append(res.Scoped, sr)
	}
	return res
}
