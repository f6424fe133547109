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
  eq('test.options has no vus (k6 moves them into scenarios)', 'vus' in exec.test.options, false);
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

// TestMetadata: vu.metrics.metadata sets, reads and deletes the VU's metadata; every sample
// the VU emits while it is set carries it as Metadata (the JSON output's "metadata"), never
// as a tag; an invalid value warns and is discarded.
func TestMetadata(t *testing.T) {
	h := jstest.MustLoad(t, `
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
const c = new Counter('c');
export default function () {
  const md = exec.vu.metrics.metadata;
  if (md.trace_id !== undefined || 'trace_id' in md) throw new Error('metadata before set');
  md.trace_id = 'abc'; md.n = 2; md.ok = true;
  md.bad = { x: 1 };
  if (md.trace_id !== 'abc' || md.n !== '2' || !('ok' in md) || 'bad' in md) throw new Error('read ' + JSON.stringify(md));
  if (Object.keys(md).join() !== 'n,ok,trace_id') throw new Error('keys ' + Object.keys(md).join());
  c.add(1);
  delete md.trace_id; delete md.n; delete md.ok;
  c.add(2);
}
`, nil)
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	cs := h.Samples.Metric("c")
	if len(cs) != 2 {
		t.Fatalf("%d samples", len(cs))
	}
	if !cmp.Equal(cs[0].Metadata, map[string]string{"trace_id": "abc", "n": "2", "ok": "true"}) {
		t.Errorf("metadata of the first sample: %v", cs[0].Metadata)
	}
	if _, ok := cs[0].Tags.Get("trace_id"); ok {
		t.Errorf("metadata became a tag: %v", cs[0].Tags)
	}
	if len(cs[1].Metadata) != 0 {
		t.Errorf("metadata after delete: %v", cs[1].Metadata)
	}
	for _, s := range h.Samples.Metric("iterations") {
		if len(s.Metadata) != 0 {
			t.Errorf("iterations sample after delete has metadata %v", s.Metadata)
		}
	}
	if !strings.Contains(h.Logs.String(), "invalid value for metric metadata 'bad'") {
		t.Errorf("no warning for an object value:\n%s", h.Logs.String())
	}
}

// TestTagsSystem: vu.tags shows the scenario and group system tags the VU's samples carry
// (group follows group()), hides them when options.systemTags leaves them out, and refuses
// to override them (pixelk6 would not send the written value).
func TestTagsSystem(t *testing.T) {
	src := `
import exec from 'k6/execution';
import { group } from 'k6';
export default function () {
  const tags = exec.vu.tags;
  const seen = [tags.scenario, tags.group, 'scenario' in tags, Object.keys(exec.vu.metrics.tags).join('+')];
  group('g1', () => { seen.push(exec.vu.metrics.tags.group); });
  let err = '';
  try { tags.scenario = 'other'; } catch (e) { err = e.name; }
  seen.push(err);
  tags.mine = 'x';
  seen.push(Object.keys(tags).join('+'));
  console.log(JSON.stringify(seen));
}
`
	tests := []struct {
		name       string
		systemTags []string
		want       string
	}{
		{"default system tags", nil, `["sc1","",true,"group+scenario","::g1","TypeError","group+mine+scenario"]`},
		{"scenario and group off", []string{"url"}, `[null,null,false,"",null,"TypeError","mine"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, src, nil)
			st := h.State(1)
			st.Scenario = "sc1"
			st.Options.SystemTags = tc.systemTags
			v, err := h.Bundle.NewVU(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if err := v.RunIteration(context.Background(), "default", nil); err != nil {
				t.Fatal(err)
			}
			if got := h.Logs.String(); !strings.Contains(got, tc.want) {
				t.Errorf("logged %s, want %s", got, tc.want)
			}
		})
	}
}

// TestTestOptions: test.options has k6's members in k6's order, unset ones null, without
// vus/duration/iterations/stages, frozen; reading it in the init context throws, as in k6.
func TestTestOptions(t *testing.T) {
	h := jstest.MustLoad(t, `
import exec from 'k6/execution';
export default function () {
  const o = exec.test.options;
  const keys = Object.keys(o);
  o.paused = true; o.scenarios = 1;
  console.log(JSON.stringify([keys.length, keys[0], keys[keys.length - 2], keys[keys.length - 1], 'vus' in o, 'stages' in o,
    o.paused, o.userAgent, o.tags.team, o.scenarios.default.executor, Object.isFrozen(o.tags), o === exec.test.options]));
}
`, nil)
	st := h.State(1)
	st.TestOptions = []byte(`{"vus":2,"stages":null,"paused":null,"tags":{"team":"px"},"scenarios":{"default":{"executor":"constant-vus","vus":2}},"noThresholds":null}`)
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	err = v.RunIteration(context.Background(), "default", nil)
	if err == nil || !strings.Contains(err.Error(), "TypeError") {
		// an ES module is strict code: writing to the frozen object throws
		t.Fatalf("err = %v, want a TypeError for the write", err)
	}
	h = jstest.MustLoad(t, `
import exec from 'k6/execution';
export default function () {
  const test = exec.test;
  const o = test.options;
  const keys = Object.keys(o);
  console.log(JSON.stringify([keys.length, keys[0], keys[keys.length - 2], keys[keys.length - 1], 'vus' in o, 'stages' in o,
    o.paused, o.userAgent, o.tags.team, o.scenarios.default.executor, Object.isFrozen(o.tags), test.options === test.options]));
}
`, nil)
	st = h.State(1)
	st.TestOptions = []byte(`{"vus":2,"stages":null,"paused":null,"tags":{"team":"px"},"scenarios":{"default":{"executor":"constant-vus","vus":2}},"noThresholds":null}`)
	v, err = h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	want := `[39,"paused","consoleOutput","localIPs",false,false,null,null,"px","constant-vus",true,true]`
	if got := h.Logs.String(); !strings.Contains(got, want) {
		t.Errorf("logged %s, want %s", got, want)
	}
	if _, err := jstest.Load(t, "import exec from 'k6/execution';\nconst o = exec.test.options;\nexport default function () {}\n", nil); err == nil ||
		!strings.Contains(err.Error(), "getting test options in the init context is not supported") {
		t.Errorf("test.options in init: %v", err)
	}
}
