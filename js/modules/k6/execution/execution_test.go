package execution_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/execution"
)

func TestExecutionInfo(t *testing.T) {
	h := jstest.MustLoad(t, `
import exec from 'k6/execution';
import { vu, scenario } from 'k6/execution';
import { Counter } from 'k6/metrics';
const c = new Counter('c');
export const options = { vus: 2 };
function eq(name, got, want) { if (got !== want) throw new Error(name + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want)); }
export default function () {
  eq('vu.idInTest', exec.vu.idInTest, 9);
  eq('vu.idInInstance', vu.idInInstance, 3);
  eq('vu.iterationInScenario', exec.vu.iterationInScenario, 4);
  eq('vu.iterationInInstance', exec.vu.iterationInInstance, 0);
  eq('scenario.name', scenario.name, 'pixel_rest');
  eq('scenario.executor', exec.scenario.executor, 'ramping-vus');
  eq('scenario.iterationInTest', exec.scenario.iterationInTest, 17);
  eq('scenario.progress', exec.scenario.progress, 0.5);
  eq('scenario.startTime', exec.scenario.startTime, 1000);
  eq('instance.vusActive', exec.instance.vusActive, 5);
  eq('instance.iterationsCompleted', exec.instance.iterationsCompleted, 11);
  eq('test.options.vus', exec.test.options.vus, 2);
  eq('tags.suite', exec.vu.tags.suite, 'pixel');
  exec.vu.tags.mytag = 'x';
  exec.vu.metrics.tags.other = 1;
  c.add(1);
}
`, nil)
	st := h.State(3)
	st.VUIDGlobal = 9
	st.Iteration = 4
	st.Scenario = "pixel_rest"
	st.ScenarioExecutor = "ramping-vus"
	st.ScenarioIteration = 17
	st.TestIteration = 17
	st.ScenarioProgress = func() float64 { return 0.5 }
	st.ScenarioStart = time.UnixMilli(1000)
	st.Instance = func() modules.InstanceStats { return modules.InstanceStats{VUsActive: 5, IterationsCompleted: 11} }
	st.Tags.Set("suite", "pixel")
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Tags.Get("mytag"); got != "x" {
		t.Errorf("vu.tags write: mytag = %q", got)
	}
	cs := h.Samples.Metric("c")
	if len(cs) != 1 {
		t.Fatalf("%d samples", len(cs))
	}
	if o, _ := cs[0].Tags.Get("other"); o != "1" {
		t.Errorf("sample after vu.tags write lacks other=1: %v", cs[0].Tags)
	}
}

func TestExecutionInInitFails(t *testing.T) {
	_, err := jstest.Load(t, "import exec from 'k6/execution';\nconst id = exec.vu.idInTest;\nexport default function () {}\n", nil)
	if err == nil {
		t.Fatal("reading vu info in init succeeded")
	}
}

func TestAbortReason(t *testing.T) {
	tests := []struct{ name, call, reason string }{
		{"with reason", "exec.test.abort('stop now')", "stop now"},
		{"without reason", "exec.test.abort()", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import exec from 'k6/execution';\nexport default function () { "+tc.call+"; }\n", nil)
			err := h.Run(t)
			var ae *execution.AbortError
			if !errors.As(err, &ae) || ae.Reason != tc.reason {
				t.Fatalf("err = %v, want abort %q", err, tc.reason)
			}
			if n := len(h.Samples.Metric("iterations")); n != 0 {
				t.Errorf("aborted iteration counted: %d", n)
			}
		})
	}
}

func TestFailMarksAndContinues(t *testing.T) {
	h := jstest.MustLoad(t, "import exec from 'k6/execution';\nexport default function () { exec.test.fail('bad data'); exec.test.fail(); }\n", nil)
	st := h.State(1)
	var reasons []string
	st.MarkFailed = func(r string) { reasons = append(reasons, r) }
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatalf("test.fail() stopped the iteration: %v", err)
	}
	if !cmp.Equal(reasons, []string{"bad data", ""}) {
		t.Errorf("reasons %q", reasons)
	}
	if n := len(h.Samples.Metric("iterations")); n != 1 {
		t.Errorf("%d iterations samples, want the iteration completed", n)
	}
	if strings.Contains(h.Logs.String(), "marked as failed") {
		t.Errorf("logged per call: %s", h.Logs.String())
	}
}
