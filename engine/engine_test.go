package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
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
	err            error
	stdout, stderr string
	out            *fakeOutput
	dir            string
}

// runTest runs a fake runner with script options (JSON) through Run.
func runTest(t *testing.T, ctx context.Context, fr *fakeRunner, script string, mod func(*Config)) result {
	t.Helper()
	so, err := ParseScriptOptions(json.RawMessage(script))
	if err != nil {
		t.Fatal(err)
	}
	test, err := NewTest(so)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	out := &fakeOutput{}
	dir := t.TempDir()
	cfg := Config{
		Runner: fr, Registry: metrics.NewRegistry(), Test: test, Outputs: []Output{out},
		ScriptPath: "t.js", Stdout: &stdout, Stderr: &stderr, CWD: dir,
		ProgressEvery: 50 * time.Millisecond, ThresholdsEvery: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	err = Run(ctx, cfg)
	return result{err, stdout.String(), stderr.String(), out, dir}
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
			if res.err != nil {
				t.Fatalf("Run: %v\nstderr: %s", res.err, res.stderr)
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
			if !strings.Contains(res.stdout, "running (") || !strings.Contains(res.stdout, "TOTAL RESULTS") {
				t.Errorf("stdout lacks progress or summary:\n%s", res.stdout)
			}
		})
	}
}

func TestGracefulStopInterrupts(t *testing.T) {
	block := func(ctx context.Context, _ *modules.State) error { <-ctx.Done(); return ctx.Err() }
	fr := &fakeRunner{iter: block}
	res := runTest(t, context.Background(), fr, `{"scenarios":{"a":{"executor":"constant-vus","vus":2,"duration":"100ms","gracefulStop":"50ms"}}}`, nil)
	if res.err != nil {
		t.Fatalf("Run: %v", res.err)
	}
	if !strings.Contains(res.stdout, "0 complete and 2 interrupted iterations") {
		t.Fatalf("want 2 interrupted iterations in:\n%s", res.stdout)
	}
}

func TestRampDownInterruptsAfterGracefulRampDown(t *testing.T) {
	block := func(ctx context.Context, _ *modules.State) error { <-ctx.Done(); return ctx.Err() }
	fr := &fakeRunner{iter: block}
	// 2 VUs, then down to 0 at 100ms: both iterations are interrupted by the ramp-down
	// (10ms grace), long before the 10s gracefulStop.
	res := runTest(t, context.Background(), fr, `{"scenarios":{"a":{"executor":"ramping-vus","startVUs":2,"stages":[{"duration":"100ms","target":2},{"duration":"0s","target":0},{"duration":"200ms","target":0}],"gracefulRampDown":"10ms","gracefulStop":"10s"}}}`, nil)
	if res.err != nil {
		t.Fatalf("Run: %v", res.err)
	}
	if !strings.Contains(res.stdout, "0 complete and 2 interrupted iterations") {
		t.Fatalf("want 2 interrupted iterations in:\n%s", res.stdout)
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		name, thresholds string
		code             int
		stderr           string
	}{
		{"pass", `{"iterations":["count>0"]}`, 0, ""},
		{"crossed", `{"iterations":["count>100"],"vus":["value<0"]}`, 99, `level=error msg="thresholds on metrics 'iterations, vus' have been crossed"`},
		{"crossed submetric", `{"iterations{scenario:default}":["count<1"]}`, 99, `'iterations{scenario:default}' have been crossed`},
		{"unknown metric", `{"nope":["count>0"]}`, 104, `no metric named \"nope\"`},
		{"wrong aggregation", `{"iterations":["p(95)<1"]}`, 104, `p(95)<1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{}
			res := runTest(t, context.Background(), fr, `{"iterations":3,"thresholds":`+tt.thresholds+`}`, nil)
			if got := ExitCode(res.err); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d\nstderr: %s", got, res.err, tt.code, res.stderr)
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
	if res.err != nil {
		t.Fatalf("Run: %v", res.err)
	}
}

// TestAbortOnFailStopsEarly: the test is an hour long, so only the abort can end it before
// the test binary's own timeout (no wall-clock window: returning at all is the proof).
func TestAbortOnFailStopsEarly(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(5 * time.Millisecond)}
	res := runTest(t, context.Background(), fr, `{"vus":2,"duration":"1h","thresholds":{"iterations":[{"threshold":"count<3","abortOnFail":true}]}}`, nil)
	if got := ExitCode(res.err); got != 99 {
		t.Fatalf("exit code %d (%v), want 99", got, res.err)
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
		{"iteration abort", &fakeRunner{iter: func(context.Context, *modules.State) error { return abortErr("stop now") }}, 108, "test aborted: stop now"},
		{"missing exec", &fakeRunner{exports: map[string]bool{}}, 104, `function \"default\" is not exported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTest(t, context.Background(), tt.fr, `{"vus":2,"duration":"10s"}`, nil)
			if got := ExitCode(res.err); got != tt.code {
				t.Fatalf("exit code %d (%v), want %d\nstderr: %s", got, res.err, tt.code, res.stderr)
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
	if got := ExitCode(res.err); got != ExitScriptError {
		t.Fatalf("exit code %d (%v), want 107\nstderr: %s", got, res.err, res.stderr)
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
	fr := &fakeRunner{iter: func(ictx context.Context, st *modules.State) error {
		if st.Iteration == 3 {
			once.Do(cancel)
		}
		return sleepIter(2*time.Millisecond)(ictx, st)
	}}
	res := runTest(t, ctx, fr, `{"vus":3,"duration":"1m"}`, nil)
	if got := ExitCode(res.err); got != 105 {
		t.Fatalf("exit code %d (%v), want 105", got, res.err)
	}
	if !res.out.stopped || res.out.sum("iterations") < 3 {
		t.Fatalf("output stopped=%v iterations=%v", res.out.stopped, res.out.sum("iterations"))
	}
	if !strings.Contains(res.stdout, "TOTAL RESULTS") {
		t.Errorf("no summary after a cancel:\n%s", res.stdout)
	}
}

func TestIterationErrorsRateLimited(t *testing.T) {
	fr := &fakeRunner{iter: func(context.Context, *modules.State) error { return errBoom }}
	res := runTest(t, context.Background(), fr, `{"iterations":200}`, func(c *Config) { c.ErrorsPerSecond = 3 })
	if res.err != nil {
		t.Fatalf("Run: %v", res.err)
	}
	n := strings.Count(res.stderr, `msg="Error: boom`)
	if n < 3 || n > 3*10 {
		t.Fatalf("%d error lines logged, want a few (rate limit 3/s):\n%s", n, res.stderr)
	}
	if !strings.Contains(res.stderr, "more iteration errors were not logged") || !strings.Contains(res.stderr, "t.js:3:9") {
		t.Fatalf("stderr:\n%s", res.stderr)
	}
	if !strings.Contains(res.stdout, "0 complete and 200 interrupted iterations") {
		t.Fatalf("stdout:\n%s", res.stdout)
	}
}

func TestSummaryDataAndExport(t *testing.T) {
	fr := &fakeRunner{
		exports: map[string]bool{"default": true, "handleSummary": true},
		summary: map[string]string{"stdout": "custom summary\n", "sub/out.json": "{}"},
		iter: func(ctx context.Context, st *modules.State) error {
			now := time.Now()
			st.Samples.Push(ctx, []metrics.Sample{
				{Metric: st.Builtin.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 1},
				{Metric: st.Builtin.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 0},
				{Metric: st.Builtin.HTTPReqDuration, Tags: metrics.TagsFromPairs("name", "infer", "expected_response", "true"), Time: now, Value: 10},
			})
			return nil
		},
	}
	res := runTest(t, context.Background(), fr, `{"iterations":2,"thresholds":{"http_req_duration{name:infer}":["p(95)<5"]}}`,
		func(c *Config) { c.SummaryExport = "export.json" })
	if ExitCode(res.err) != 99 {
		t.Fatalf("Run: %v", res.err)
	}
	var d struct {
		Metrics   map[string]json.RawMessage `json:"metrics"`
		RootGroup struct {
			Groups []struct {
				Name   string `json:"name"`
				Checks []struct {
					Name          string
					Passes, Fails int
				} `json:"checks"`
			} `json:"groups"`
		} `json:"root_group"`
		State struct {
			TestRunDurationMs float64 `json:"testRunDurationMs"`
		} `json:"state"`
	}
	if err := json.Unmarshal(fr.summaryData, &d); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"checks", "iterations", "http_req_duration", "http_req_duration{name:infer}", "http_req_duration{expected_response:true}", "vus", "vus_max"} {
		if _, ok := d.Metrics[k]; !ok {
			t.Errorf("summary data lacks metric %q", k)
		}
	}
	if !strings.Contains(string(d.Metrics["http_req_duration{name:infer}"]), `"thresholds":{"p(95)<5":{"ok":false}}`) {
		t.Errorf("submetric: %s", d.Metrics["http_req_duration{name:infer}"])
	}
	if len(d.RootGroup.Groups) != 1 || d.RootGroup.Groups[0].Name != "g" || d.RootGroup.Groups[0].Checks[0].Passes != 2 || d.RootGroup.Groups[0].Checks[0].Fails != 2 {
		t.Errorf("root_group: %+v", d.RootGroup)
	}
	if d.State.TestRunDurationMs <= 0 {
		t.Error("no testRunDurationMs")
	}
	if !strings.Contains(res.stdout, "custom summary") || strings.Contains(res.stdout, "TOTAL RESULTS") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	for _, f := range []string{"sub/out.json", "export.json"} {
		if _, err := os.Stat(filepath.Join(res.dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
}

func TestScenarioStateAndFullSummary(t *testing.T) {
	fr := &fakeRunner{
		exports: map[string]bool{"default": true, "other": true},
		iter: func(ctx context.Context, st *modules.State) error {
			tags := st.Tags.TagSet().With("scenario", st.Scenario).With("group", "::g").With("check", "c")
			st.Samples.Push(ctx, []metrics.Sample{{Metric: st.Builtin.Checks, Tags: tags, Time: time.Now(), Value: 1}})
			return nil
		},
	}
	script := `{"tags":{"global":"1"},"scenarios":{
		"a":{"executor":"per-vu-iterations","vus":1,"iterations":2,"tags":{"sc":"a"},"env":{"MODE":"a"}},
		"b":{"executor":"shared-iterations","vus":1,"iterations":3,"exec":"other"}}}`
	res := runTest(t, context.Background(), fr, script, func(c *Config) { c.SummaryMode = "full" })
	if res.err != nil {
		t.Fatalf("Run: %v\n%s", res.err, res.stderr)
	}
	a, b := fr.states[1], fr.states[2]
	if a.Scenario != "a" || a.ScenarioExecutor != "per-vu-iterations" || a.Env["MODE"] != "a" || a.Instance == nil || a.ScenarioProgress == nil {
		t.Errorf("VU 1 state: %+v", a)
	}
	if v, _ := a.Tags.Get("sc"); v != "a" {
		t.Errorf("VU 1 tags %v", a.Tags.Clone())
	}
	if v, _ := b.Tags.Get("global"); v != "1" || b.Scenario != "b" || b.ScenarioIteration != 2 || b.Iteration != 2 {
		t.Errorf("VU 2 state: tags %v %+v", b.Tags.Clone(), b)
	}
	if !json.Valid(a.TestOptions) || !strings.Contains(string(a.TestOptions), `"shared-iterations"`) {
		t.Errorf("test options %s", a.TestOptions)
	}
	for _, s := range []string{"SCENARIO: a", "SCENARIO: b", "GROUP: g"} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("full summary lacks %q:\n%s", s, res.stdout)
		}
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
			if res.err != nil {
				t.Fatal(res.err)
			}
			done := res.out.sum("iterations")
			dropped := res.out.sum("dropped_iterations")
			if dropped <= 0 || done+dropped > 100 || done+dropped < 90 {
				t.Fatalf("iterations %v + dropped %v, want about 100", done, dropped)
			}
		})
	}
}
