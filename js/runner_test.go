package js

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// TestRunnerBuildsState checks that Runner turns the engine's goja-free VUSpec and
// Iteration into the VU's modules.State: __VU, __ITER, __ENV, tags, k6/execution.
func TestRunnerBuildsState(t *testing.T) {
	h := mustLoad(t, `
import exec from 'k6/execution';
export default function () {
  console.log([__VU, __ITER, __ENV.MODE, exec.vu.tags.sc, exec.scenario.name, exec.scenario.executor,
    exec.scenario.iterationInTest, exec.instance.vusInitialized, exec.scenario.progress, exec.test.options.marker].join(' '));
}`)
	r := NewRunner(h.b, modules.Options{UserAgent: "ua/1"})
	capture := &metricstest.Capture{}
	start := time.Now()
	v, err := r.NewVU(context.Background(), engine.VUSpec{
		ID: 3, Tags: map[string]string{"sc": "a"}, Env: map[string]string{"MODE": "m"}, Samples: capture,
		Instance:    func() engine.InstanceStats { return engine.InstanceStats{VUsInitialized: 4, Start: start} },
		TestOptions: []byte(`{"marker":"opts"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	info := &engine.ScenarioInfo{Name: "scen", Executor: "shared-iterations", Start: start, Progress: func() float64 { return 0.5 }}
	if err := v.RunIteration(context.Background(), engine.Iteration{Exec: "default", Scenario: info, VUIteration: 2, ScenarioIteration: 7}); err != nil {
		t.Fatal(err)
	}
	if got, want := h.log.all(), "info: 3 2 m a scen shared-iterations 7 4 0.5 opts"; got != want {
		t.Errorf("VU saw %q, want %q", got, want)
	}
	if len(capture.Samples()) == 0 {
		t.Error("no iteration samples pushed to the spec's Samples")
	}
	st := v.(*engineVU).v.State()
	if st.Options.UserAgent != "ua/1" || st.VUIDGlobal != 3 || st.Registry != h.reg {
		t.Errorf("state %+v", st)
	}
}

// TestRunnerAbort checks that test.abort() reaches the engine as an engine abort, from an
// iteration and from setup.
func TestRunnerAbort(t *testing.T) {
	h := mustLoad(t, `
import exec from 'k6/execution';
export function setup() { exec.test.abort('from setup'); }
export default function () { exec.test.abort('enough'); }
export function teardown() { throw new Error('plain'); }`)
	r := NewRunner(h.b, modules.Options{})
	spec := engine.VUSpec{Samples: metrics.PusherFunc(func(context.Context, []metrics.Sample) {})}
	v, err := r.NewVU(context.Background(), engine.VUSpec{ID: 1, Samples: spec.Samples})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	err = v.RunIteration(context.Background(), engine.Iteration{Exec: "default", Scenario: &engine.ScenarioInfo{Name: "default"}})
	if !engine.IsAbort(err) || !strings.Contains(err.Error(), "test aborted: enough") {
		t.Errorf("iteration: %v (engine abort: %v)", err, engine.IsAbort(err))
	}
	if _, err := r.Setup(context.Background(), spec); !engine.IsAbort(err) || !strings.Contains(err.Error(), "from setup") {
		t.Errorf("setup: %v", err)
	}
	if err := r.Teardown(context.Background(), spec, nil); err == nil || engine.IsAbort(err) {
		t.Errorf("teardown: %v, want a plain script error", err)
	}
}

func TestRunnerHandleSummary(t *testing.T) {
	h := mustLoad(t, `
export default function () {}
export function handleSummary(d) { return { stdout: 'n=' + d.metrics.iterations.values.count + ' vu=' + __VU }; }`)
	r := NewRunner(h.b, modules.Options{})
	out, ok, err := r.HandleSummary(context.Background(), engine.VUSpec{}, []byte(`{"metrics":{"iterations":{"values":{"count":42}}}}`))
	if err != nil || !ok || out["stdout"] != "n=42 vu=0" {
		t.Fatalf("HandleSummary = %v, %v, %v", out, ok, err)
	}
	if !r.HasExport("handleSummary") || r.HasExport("setup") || h.b.Options() != nil {
		t.Error("exports or options")
	}
}
