package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/metrics"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type result struct {
	*Result
	stderr string
	out    *fakeOutput
	events []Event
}

// final returns the final progress snapshot (nil if none was reported).
func (r result) final() *Progress {
	for _, e := range r.events {
		if p, ok := e.(ProgressEvent); ok && p.Final {
			return &p.Progress
		}
	}
	return nil
}

// testFromJSON builds a Test from options JSON, the way the command line does for the
// fields the engine tests use: the shortcuts or scenarios, thresholds, tags.
func testFromJSON(t testing.TB, script string) *Test {
	t.Helper()
	var o struct {
		VUs          *int64             `json:"vus"`
		Duration     *executor.Duration `json:"duration"`
		Iterations   *int64             `json:"iterations"`
		Scenarios    json.RawMessage    `json:"scenarios"`
		Thresholds   json.RawMessage    `json:"thresholds"`
		NoThresholds bool               `json:"noThresholds"`
		Tags         map[string]string  `json:"tags"`
	}
	if err := json.Unmarshal([]byte(script), &o); err != nil {
		t.Fatal(err)
	}
	test := &Test{Tags: o.Tags, OptionsJSON: []byte(script)}
	var err error
	if o.Scenarios != nil {
		test.Scenarios, err = executor.ParseScenarios(o.Scenarios)
	} else {
		var c executor.Config
		c, err = executor.FromShortcuts(executor.Shortcuts{VUs: o.VUs, Duration: o.Duration, Iterations: o.Iterations})
		test.Scenarios = []executor.Config{c}
	}
	if err != nil {
		t.Fatal(err)
	}
	if !o.NoThresholds {
		if test.Thresholds, err = metrics.ParseThresholdsJSON(o.Thresholds); err != nil {
			t.Fatal(err)
		}
	}
	return test
}

// runTest runs a fake runner with options (JSON) through Run, with a recording observer.
func runTest(t *testing.T, ctx context.Context, fr *fakeRunner, script string, mod func(*Config)) result {
	t.Helper()
	var stderr syncBuffer
	out := &fakeOutput{}
	rec := &recorder{}
	reg := metrics.NewRegistry()
	fr.reg, fr.builtin = reg, metrics.RegisterBuiltin(reg)
	cfg := Config{
		Runner: fr, Registry: reg, Test: testFromJSON(t, script), Outputs: []Output{out},
		Logger: logfmt.New(&stderr), Observer: rec,
		ProgressEvery: 50 * time.Millisecond, ThresholdsEvery: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	res := Run(ctx, cfg)
	return result{res, stderr.String(), out, rec.all()}
}

func TestExecutorsCountIterations(t *testing.T) {
	tests := []struct {
		name, script string
		want         float64 // exact iterations; 0 means "at least one"
	}{
		{"per-vu-iterations", `{"scenarios":{"a":{"executor":"per-vu-iterations","vus":3,"iterations":4}}}`, 12},
		{"shared-iterations", `{"scenarios":{"a":{"executor":"shared-iterations","vus":3,"iterations":10}}}`, 10},
		{"iterations shortcut", `{"iterations":7,"vus":2}`, 7},
		{"no options: one iteration", `{}`, 1},
		{"constant-vus", `{"vus":2,"duration":"200ms"}`, 0},
		{"ramping-vus", `{"scenarios":{"r":{"executor":"ramping-vus","startVUs":0,"stages":[{"duration":"200ms","target":3},{"duration":"100ms","target":0}],"gracefulRampDown":"0s"}}}`, 0},
		{"two scenarios with startTime", `{"scenarios":{"a":{"executor":"shared-iterations","iterations":2},"b":{"executor":"per-vu-iterations","vus":2,"iterations":3,"startTime":"100ms"}}}`, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{iter: sleepIter(5 * time.Millisecond), exports: map[string]bool{"default": true, "setup": true, "teardown": true}}
			res := runTest(t, context.Background(), fr, tt.script, nil)
			if res.ExitCode() != 0 || !res.Ran {
				t.Fatalf("Run: %d %v ran=%v\nstderr: %s", res.ExitCode(), res.Err, res.Ran, res.stderr)
			}
			got := res.out.sum("iterations")
			if tt.want > 0 && got != tt.want || got < 1 {
				t.Fatalf("iterations = %v, want %v", got, tt.want)
			}
			if fr.setups.Load() != 1 || fr.teardown.Load() != 1 {
				t.Errorf("setup ran %d times, teardown %d", fr.setups.Load(), fr.teardown.Load())
			}
			if d, _ := fr.gotData.Load().(json.RawMessage); string(d) != `{"token":"x"}` {
				t.Errorf("iterations got setup data %s", d)
			}
			if !res.out.started || !res.out.stopped || res.out.afterStop != 0 {
				t.Errorf("output started=%v stopped=%v samples after stop=%d", res.out.started, res.out.stopped, res.out.afterStop)
			}
			if res.out.sum("vus_max") == 0 {
				t.Error("no vus_max samples")
			}
			// The progress and the summary's data are there (the command line draws them).
			fin := res.final()
			if fin == nil || float64(fin.Complete) != got {
				t.Errorf("final progress %+v, want %v complete iterations", fin, got)
			}
			var iters *MetricResult
			for i := range res.Metrics {
				if res.Metrics[i].Key == "iterations" {
					iters = &res.Metrics[i]
				}
			}
			if iters == nil || iters.Sink == nil || iters.Sink.Count() == 0 {
				t.Errorf("result lacks the iterations sink: %+v", iters)
			}
		})
	}
}

func TestGracefulStopInterrupts(t *testing.T) {
	block := func(ctx context.Context, _ *fakeVU) error { <-ctx.Done(); return ctx.Err() }
	fr := &fakeRunner{iter: block}
	res := runTest(t, context.Background(), fr, `{"scenarios":{"a":{"executor":"constant-vus","vus":2,"duration":"100ms","gracefulStop":"50ms"}}}`, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %v", res.Err)
	}
	if fin := res.final(); fin == nil || fin.Complete != 0 || fin.Interrupted != 2 {
		t.Fatalf("want 0 complete and 2 interrupted iterations, got %+v", fin)
	}
}

func TestRampDownInterruptsAfterGracefulRampDown(t *testing.T) {
	block := func(ctx context.Context, _ *fakeVU) error { <-ctx.Done(); return ctx.Err() }
	fr := &fakeRunner{iter: block}
	// 2 VUs, then down to 0 at 100ms: both iterations are interrupted by the ramp-down
	// (10ms grace), long before the 10s gracefulStop.
	res := runTest(t, context.Background(), fr, `{"scenarios":{"a":{"executor":"ramping-vus","startVUs":2,"stages":[{"duration":"100ms","target":2},{"duration":"0s","target":0},{"duration":"200ms","target":0}],"gracefulRampDown":"10ms","gracefulStop":"10s"}}}`, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %v", res.Err)
	}
	if fin := res.final(); fin == nil || fin.Complete != 0 || fin.Interrupted != 2 {
		t.Fatalf("want 0 complete and 2 interrupted iterations, got %+v", fin)
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		name, thresholds string
		code             int
		failed           []string
		stderr           string
	}{
		{"pass", `{"iterations":["count>0"]}`, 0, nil, ""},
		{"crossed", `{"iterations":["count>100"],"vus":["value<0"]}`, 99, []string{"iterations", "vus"}, ""},
		{"crossed submetric", `{"iterations{scenario:default}":["count<1"]}`, 99, []string{"iterations{scenario:default}"}, ""},
		{"unknown metric", `{"nope":["count>0"]}`, 104, nil, `no metric named \"nope\"`},
		{"wrong aggregation", `{"iterations":["p(95)<1"]}`, 104, nil, `p(95)<1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{}
			res := runTest(t, context.Background(), fr, `{"iterations":3,"thresholds":`+tt.thresholds+`}`, nil)
			if got := res.ExitCode(); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d\nstderr: %s", got, res.Err, tt.code, res.stderr)
			}
			if diff := cmp.Diff(tt.failed, res.FailedThresholds); diff != "" {
				t.Errorf("failed thresholds -want +got:\n%s", diff)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, res.stderr)
			}
		})
	}
}

func TestNoThresholds(t *testing.T) {
	fr := &fakeRunner{}
	res := runTest(t, context.Background(), fr, `{"iterations":1,"noThresholds":true,"thresholds":{"iterations":["count>100"]}}`, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %v", res.Err)
	}
}

// TestAbortOnFailStopsEarly: the test is an hour long, so only the abort can end it before
// the test binary's own timeout (no wall-clock window: returning at all is the proof).
func TestAbortOnFailStopsEarly(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(5 * time.Millisecond)}
	res := runTest(t, context.Background(), fr, `{"vus":2,"duration":"1h","thresholds":{"iterations":[{"threshold":"count<3","abortOnFail":true}]}}`, nil)
	if got := res.ExitCode(); got != 99 {
		t.Fatalf("exit code %d (%v), want 99", got, res.Err)
	}
	if !strings.Contains(res.stderr, "abortOnFail") {
		t.Errorf("stderr: %s", res.stderr)
	}
}

func TestScriptErrors(t *testing.T) {
	tests := []struct {
		name   string
		fr     *fakeRunner
		code   int
		stderr string
	}{
		{"init error", &fakeRunner{initErr: fmt.Errorf("script error: ReferenceError: x is not defined at file:///t.js:2:1")}, 107, "t.js:2:1"},
		{"setup error", &fakeRunner{exports: map[string]bool{"default": true, "setup": true}, setupErr: fmt.Errorf("Error: no token at setup (file:///t.js:9:3)")}, 107, "t.js:9:3"},
		{"setup abort", &fakeRunner{exports: map[string]bool{"default": true, "setup": true}, setupErr: abortErr("bad env")}, 108, "bad env"},
		{"iteration abort", &fakeRunner{iter: func(context.Context, *fakeVU) error { return abortErr("stop now") }}, 108, "test aborted: stop now"},
		{"missing exec", &fakeRunner{exports: map[string]bool{}}, 104, `function \"default\" is not exported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTest(t, context.Background(), tt.fr, `{"vus":2,"duration":"10s"}`, nil)
			if got := res.ExitCode(); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d\nstderr: %s", got, res.Err, tt.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", tt.stderr, res.stderr)
			}
		})
	}
}

// TestTeardownError checks that an exception in teardown fails the run with 107 after the
// iterations ran, as k6 does.
func TestTeardownError(t *testing.T) {
	fr := &fakeRunner{exports: map[string]bool{"default": true, "teardown": true},
		teardownErr: fmt.Errorf("Error: cleanup failed at teardown (file:///t.js:20:5)")}
	res := runTest(t, context.Background(), fr, `{"iterations":3}`, nil)
	if got := res.ExitCode(); got != ExitScriptError {
		t.Fatalf("exit code %d (%v), want 107\nstderr: %s", got, res.Err, res.stderr)
	}
	if !strings.Contains(res.stderr, "t.js:20:5") {
		t.Errorf("stderr lacks the teardown exception's position:\n%s", res.stderr)
	}
	if fr.teardown.Load() != 1 {
		t.Errorf("teardown ran %d times", fr.teardown.Load())
	}
}

func TestCancelMidRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	fr := &fakeRunner{iter: func(ictx context.Context, v *fakeVU) error {
		if v.it.VUIteration == 3 {
			once.Do(cancel)
		}
		return sleepIter(2*time.Millisecond)(ictx, v)
	}}
	res := runTest(t, ctx, fr, `{"vus":3,"duration":"1m"}`, nil)
	if got := res.ExitCode(); got != 105 {
		t.Fatalf("exit code %d (%v), want 105", got, res.Err)
	}
	if !res.out.stopped || res.out.sum("iterations") < 3 {
		t.Fatalf("output stopped=%v iterations=%v", res.out.stopped, res.out.sum("iterations"))
	}
	// The command line prints the summary after a cancel: the result has its data.
	if !res.Ran || len(res.Metrics) == 0 {
		t.Errorf("no summary data after a cancel: ran=%v, %d metrics", res.Ran, len(res.Metrics))
	}
}

func TestIterationErrorsRateLimited(t *testing.T) {
	fr := &fakeRunner{iter: func(context.Context, *fakeVU) error { return errBoom }}
	start := time.Now()
	res := runTest(t, context.Background(), fr, `{"iterations":200}`, func(c *Config) { c.ErrorsPerSecond = 3 })
	// The bound follows the run's own length (no wall-clock window): 3 lines in each second
	// the run touched.
	limit := 3 * (int(time.Since(start)/time.Second) + 2)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %v", res.Err)
	}
	n := strings.Count(res.stderr, `msg="Error: boom`)
	if n < 3 || n > limit || n >= 200 {
		t.Fatalf("%d error lines logged, want 3 to %d (rate limit 3/s):\n%s", n, limit, res.stderr)
	}
	if !strings.Contains(res.stderr, "more iteration errors were not logged") || !strings.Contains(res.stderr, "t.js:3:9") {
		t.Fatalf("stderr:\n%s", res.stderr)
	}
	if fin := res.final(); fin == nil || fin.Complete != 0 || fin.Interrupted != 200 {
		t.Fatalf("want 0 complete and 200 interrupted iterations, got %+v", fin)
	}
}

// TestResultData checks the data the summary is built from: metrics with their
// submetrics and threshold outcomes, and checks per group.
func TestResultData(t *testing.T) {
	fr := &fakeRunner{
		iter: func(ctx context.Context, v *fakeVU) error {
			now := time.Now()
			b := v.builtin
			v.spec.Samples.Push(ctx, []metrics.Sample{
				{Metric: b.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 1},
				{Metric: b.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 0},
				{Metric: b.HTTPReqDuration, Tags: metrics.TagsFromPairs("name", "infer", "expected_response", "true"), Time: now, Value: 10},
			})
			return nil
		},
	}
	res := runTest(t, context.Background(), fr, `{"iterations":2,"thresholds":{"http_req_duration{name:infer}":["p(95)<5"]}}`, nil)
	if res.ExitCode() != 99 {
		t.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
	}
	byKey := map[string]MetricResult{}
	for _, m := range res.Metrics {
		byKey[m.Key] = m
	}
	for _, k := range []string{"checks", "iterations", "http_req_duration", "http_req_duration{name:infer}", "http_req_duration{expected_response:true}", "vus", "vus_max"} {
		if m, ok := byKey[k]; !ok || m.Sink == nil || m.Sink.IsEmpty() {
			t.Errorf("result lacks metric %q with samples: %+v", k, m)
		}
	}
	th := byKey["http_req_duration{name:infer}"].Thresholds
	if len(th) != 1 || th[0].Source != "p(95)<5" || th[0].OK || th[0].Agg != "p(95)" || th[0].Observed != 10 {
		t.Errorf("submetric thresholds: %+v", th)
	}
	want := []CheckResult{{Group: "::g", Name: "ok", Passes: 2, Fails: 2}}
	if diff := cmp.Diff(want, res.Checks); diff != "" {
		t.Errorf("checks -want +got:\n%s", diff)
	}
	if res.Elapsed <= 0 {
		t.Error("no elapsed time")
	}
}

func TestScenarioStateAndScopedSinks(t *testing.T) {
	fr := &fakeRunner{
		exports: map[string]bool{"default": true, "other": true},
		iter: func(ctx context.Context, v *fakeVU) error {
			tags := metrics.NewTagSet(v.spec.Tags).With("scenario", v.it.Scenario.Name).With("group", "::g").With("check", "c")
			v.spec.Samples.Push(ctx, []metrics.Sample{{Metric: v.builtin.Checks, Tags: tags, Time: time.Now(), Value: 1}})
			return nil
		},
	}
	script := `{"tags":{"global":"1"},"scenarios":{
		"a":{"executor":"per-vu-iterations","vus":1,"iterations":2,"tags":{"sc":"a"},"env":{"MODE":"a"}},
		"b":{"executor":"shared-iterations","vus":1,"iterations":3,"exec":"other"}}}`
	res := runTest(t, context.Background(), fr, script, func(c *Config) { c.ByScenario = true })
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %v\n%s", res.Err, res.stderr)
	}
	a, b := fr.vus[1], fr.vus[2]
	if a.it.Scenario.Name != "a" || a.it.Scenario.Executor != "per-vu-iterations" || a.spec.Env["MODE"] != "a" || a.spec.Instance == nil || a.it.Scenario.Progress == nil {
		t.Errorf("VU 1: %+v %+v", a.spec, a.it)
	}
	if a.spec.Tags["sc"] != "a" {
		t.Errorf("VU 1 tags %v", a.spec.Tags)
	}
	if b.spec.Tags["global"] != "1" || b.it.Scenario.Name != "b" || b.it.Exec != "other" || b.it.ScenarioIteration != 2 || b.it.VUIteration != 2 {
		t.Errorf("VU 2: tags %v %+v", b.spec.Tags, b.it)
	}
	if !json.Valid(a.spec.TestOptions) || !strings.Contains(string(a.spec.TestOptions), `"shared-iterations"`) {
		t.Errorf("test options %s", a.spec.TestOptions)
	}
	if st := a.spec.Instance(); st.VUsInitialized != 2 || st.IterationsCompleted != 5 || st.Start.IsZero() {
		t.Errorf("instance stats %+v", st)
	}
	if diff := cmp.Diff([]string{"a", "b"}, res.Scenarios); diff != "" {
		t.Errorf("scenarios: %s", diff)
	}
	var scoped []string
	for _, s := range res.Scoped {
		if s.Metric.Name == "checks" {
			scoped = append(scoped, fmt.Sprintf("%s/%s/%v=%d", s.Scenario, s.Group, s.AllGroups, s.Sink.Count()))
		}
	}
	sort.Strings(scoped)
	if diff := cmp.Diff([]string{"a//true=2", "a/::g/false=2", "b//true=3", "b/::g/false=3"}, scoped); diff != "" {
		t.Errorf("scoped checks sinks -want +got:\n%s", diff)
	}
}

func TestDroppedIterations(t *testing.T) {
	tests := []struct{ name, script string }{
		{"per-vu-iterations", `{"scenarios":{"a":{"executor":"per-vu-iterations","vus":2,"iterations":50,"maxDuration":"100ms"}}}`},
		{"shared-iterations", `{"scenarios":{"a":{"executor":"shared-iterations","vus":2,"iterations":100,"maxDuration":"100ms"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{iter: sleepIter(20 * time.Millisecond)}
			res := runTest(t, context.Background(), fr, tt.script, nil)
			if res.ExitCode() != 0 {
				t.Fatal(res.Err)
			}
			done := res.out.sum("iterations")
			dropped := res.out.sum("dropped_iterations")
			if dropped <= 0 || done+dropped > 100 || done+dropped < 90 {
				t.Fatalf("iterations %v + dropped %v, want about 100", done, dropped)
			}
		})
	}
}

// TestSetupTeardownOptions checks noSetup, noTeardown and the timeouts' exit codes (k6's
// 100 for setup, 101 for teardown).
func TestSetupTeardownOptions(t *testing.T) {
	exports := map[string]bool{"default": true, "setup": true, "teardown": true}
	tests := []struct {
		name                     string
		fr                       *fakeRunner
		mod                      func(*Test)
		code                     int
		setups, teardowns, iters int64
		stderr                   string
	}{
		{name: "both run", fr: &fakeRunner{}, setups: 1, teardowns: 1, iters: 2},
		{name: "noSetup", fr: &fakeRunner{}, mod: func(t *Test) { t.NoSetup = true }, setups: 0, teardowns: 1, iters: 2},
		{name: "noTeardown", fr: &fakeRunner{}, mod: func(t *Test) { t.NoTeardown = true }, setups: 1, teardowns: 0, iters: 2},
		{name: "setup timeout", fr: &fakeRunner{blockSetup: true}, mod: func(t *Test) { t.SetupTimeout = 20 * time.Millisecond },
			code: ExitSetupTimeout, setups: 1, teardowns: 0, stderr: "setup() execution timed out after 20ms"},
		{name: "teardown timeout", fr: &fakeRunner{blockTeardown: true}, mod: func(t *Test) { t.TeardownTimeout = 20 * time.Millisecond },
			code: ExitTeardownTimeout, setups: 1, teardowns: 1, iters: 2, stderr: "teardown() execution timed out after 20ms"},
		{name: "noSetup skips a setup that would time out", fr: &fakeRunner{blockSetup: true},
			mod: func(t *Test) { t.NoSetup = true; t.SetupTimeout = time.Millisecond }, teardowns: 1, iters: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fr.exports = exports
			res := runTest(t, context.Background(), tt.fr, `{"iterations":2}`, func(c *Config) {
				if tt.mod != nil {
					tt.mod(c.Test)
				}
			})
			if res.ExitCode() != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", res.ExitCode(), tt.code, res.stderr)
			}
			if s, td := tt.fr.setups.Load(), tt.fr.teardown.Load(); s != tt.setups || td != tt.teardowns {
				t.Errorf("setups %d teardowns %d, want %d %d", s, td, tt.setups, tt.teardowns)
			}
			if n := int(res.out.sum("iterations")); int64(n) != tt.iters {
				t.Errorf("%d iterations, want %d", n, tt.iters)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, res.stderr)
			}
		})
	}
}

// TestMarkFailed checks that test.fail() (VUSpec.MarkFailed) lets the run finish and
// makes the exit code 110, after a crossed threshold's 99.
func TestMarkFailed(t *testing.T) {
	fr := &fakeRunner{iter: func(ctx context.Context, v *fakeVU) error {
		v.spec.MarkFailed("bad data")
		return nil
	}}
	res := runTest(t, context.Background(), fr, `{"iterations":3}`, nil)
	if res.ExitCode() != ExitMarkedAsFailed || !res.MarkedFailed || !cmp.Equal(res.FailReasons, []string{"bad data"}) {
		t.Fatalf("exit %d marked %v reasons %q", res.ExitCode(), res.MarkedFailed, res.FailReasons)
	}
	if n := int(res.out.sum("iterations")); n != 3 {
		t.Errorf("%d iterations, want the run to go on", n)
	}
	res = runTest(t, context.Background(), fr, `{"iterations":3,"thresholds":{"iterations":["count>10"]}}`, nil)
	if res.ExitCode() != ExitThresholdsCrossed {
		t.Errorf("with a crossed threshold: exit %d, want 99", res.ExitCode())
	}
}

// TestMinIterationDuration checks that a VU spaces its completed iterations by at least
// minIterationDuration (a lower bound: a busy machine only makes it longer).
func TestMinIterationDuration(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	fr := &fakeRunner{iter: func(context.Context, *fakeVU) error {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil
	}}
	const minIter = 40 * time.Millisecond
	res := runTest(t, context.Background(), fr, `{"iterations":3,"vus":1}`, func(c *Config) { c.Test.MinIterationDuration = minIter })
	if res.ExitCode() != 0 || len(starts) != 3 {
		t.Fatalf("exit %d, %d iterations", res.ExitCode(), len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < minIter {
			t.Errorf("iteration %d started %s after the previous one, want ≥ %s", i, gap, minIter)
		}
	}
}

// TestRunTagsOnEverySample checks that options.tags (with --tag) are on the samples the
// engine emits itself (vus, vus_max); the VUs' samples carry VUSpec.Tags.
func TestRunTagsOnEverySample(t *testing.T) {
	fr := &fakeRunner{exports: map[string]bool{"default": true, "setup": true, "teardown": true}}
	res := runTest(t, context.Background(), fr, `{"iterations":3,"vus":2,"tags":{"team":"perf"}}`, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d", res.ExitCode())
	}
	seen := map[string]bool{}
	for _, s := range res.out.samples {
		seen[s.Metric.Name] = true
		if s.Metric.Name == "iterations" { // the fake VU's own sample, not the engine's
			continue
		}
		if v, _ := s.Tags.Get("team"); v != "perf" {
			t.Errorf("%s sample without the run's tag: %s", s.Metric.Name, s.Tags)
		}
	}
	if !seen["vus"] || !seen["vus_max"] || !seen["iterations"] {
		t.Errorf("metrics seen: %v", seen)
	}
}
