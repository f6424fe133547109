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
    exec.scenario.iterationInTest, exec.instance.vusInitialized, exec.scenario.progress, exec.test.options.userAgent].join(' '));
}`)
	r := NewRunner(h.b, modules.Options{UserAgent: "ua/1"})
	capture := &metricstest.Capture{}
	start := time.Now()
	v, err := r.NewVU(context.Background(), engine.VUSpec{
		ID: 3, Tags: map[string]string{"sc": "a"}, Env: map[string]string{"MODE": "m"}, Samples: capture,
		Instance:    func() engine.InstanceStats { return engine.InstanceStats{VUsInitialized: 4, Start: start} },
		TestOptions: []byte(`{"userAgent":"opts"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	info := &engine.ScenarioInfo{Name: "scen", Executor: "shared-iterations", Start: start, Progress: func() float64 { return 0.5 }}
	if err := v.RunIteration(context.Background(), engine.Iteration{Exec: "default", Scenario: info, VUIteration: 2, ScenarioIteration: 7, TestIteration: 7}); err != nil {
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

// TestVUIterMetadata: with vu and iter in systemTags every sample of the VU carries them as
// metadata (never as tags), with the iteration's own number; without them, none.
func TestVUIterMetadata(t *testing.T) {
	h := mustLoad(t, `
import { Counter } from 'k6/metrics';
const c = new Counter('mine');
export default function () { c.add(1); }`)
	for _, tc := range []struct {
		name       string
		systemTags []string
		want       map[string]string
	}{
		{"default set", nil, nil},
		{"vu and iter", []string{"vu", "iter", "scenario"}, map[string]string{"vu": "3", "iter": "2"}},
		{"iter only", []string{"iter"}, map[string]string{"iter": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRunner(h.b, modules.Options{SystemTags: tc.systemTags})
			capture := &metricstest.Capture{}
			v, err := r.NewVU(context.Background(), engine.VUSpec{ID: 3, Samples: capture})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			info := &engine.ScenarioInfo{Name: "s", Executor: "shared-iterations", Start: time.Now(), Progress: func() float64 { return 0 }}
			if err := v.RunIteration(context.Background(), engine.Iteration{Exec: "default", Scenario: info, VUIteration: 2}); err != nil {
				t.Fatal(err)
			}
			samples := capture.Metric("mine")
			if len(samples) != 1 {
				t.Fatalf("%d samples of mine", len(samples))
			}
			s := samples[0]
			if len(s.Metadata) != len(tc.want) {
				t.Fatalf("metadata %v, want %v", s.Metadata, tc.want)
			}
			for k, v := range tc.want {
				if s.Metadata[k] != v {
					t.Errorf("metadata %v, want %v", s.Metadata, tc.want)
				}
				if _, ok := s.Tags.Get(k); ok {
					t.Errorf("%s is a tag: %v", k, s.Tags)
				}
			}
			for _, it := range capture.Metric("iterations") {
				if tc.want != nil && it.Metadata["iter"] != "2" {
					t.Errorf("iterations sample metadata %v", it.Metadata)
				}
			}
		})
	}
}
