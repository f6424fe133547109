package k6_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

func TestCheck(t *testing.T) {
	h := jstest.MustLoad(t, `
import { check, group } from 'k6';
export default function () {
  const all = check({ s: 200 }, { 'is 200': (r) => r.s === 200, 'is 201': (r) => r.s === 201, 'truthy value': 1 }, { kind: 'k' });
  if (all !== false) throw new Error('check result ' + all);
  if (check(1, { 'ok': true }) !== true) throw new Error('single check');
  group('g', () => { check(null, { 'in group': () => true }); });
}
`, nil)
	v := h.VU(t, 1)
	v.State().Tags.Set("suite", "pixel")
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	checks := h.Samples.Metric("checks")
	want := []struct {
		name, group, keys string
		value             float64
	}{
		{"is 200", "", "check,group,kind,scenario,suite", 1},
		{"is 201", "", "check,group,kind,scenario,suite", 0},
		{"truthy value", "", "check,group,kind,scenario,suite", 1},
		{"ok", "", "check,group,scenario,suite", 1},
		{"in group", "::g", "check,group,scenario,suite", 1},
	}
	if len(checks) != len(want) {
		t.Fatalf("%d checks samples, want %d", len(checks), len(want))
	}
	for i, w := range want {
		s := checks[i]
		name, _ := s.Tags.Get("check")
		group, _ := s.Tags.Get("group")
		if name != w.name || group != w.group || s.Value != w.value || metricstest.TagKeys(s.Tags) != w.keys {
			t.Errorf("check %d: name %q group %q value %v keys %s; want %+v", i, name, group, s.Value, metricstest.TagKeys(s.Tags), w)
		}
	}
}

func TestGroups(t *testing.T) {
	h := jstest.MustLoad(t, `
import { group } from 'k6';
import { Counter } from 'k6/metrics';
const c = new Counter('c');
export default function () {
  const r = group('a', () => group('b', () => { c.add(1); return 42; }));
  if (r !== 42) throw new Error('group result ' + r);
  c.add(1);
}
`, nil)
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, s := range h.Samples.Metric("group_duration") {
		g, _ := s.Tags.Get("group")
		groups = append(groups, g)
		if metricstest.TagKeys(s.Tags) != "group,scenario" {
			t.Errorf("group_duration keys %s", metricstest.TagKeys(s.Tags))
		}
	}
	if strings.Join(groups, " ") != "::a::b ::a" {
		t.Errorf("group_duration groups %q, want inner then outer", groups)
	}
	var cg []string
	for _, s := range h.Samples.Metric("c") {
		g, _ := s.Tags.Get("group")
		cg = append(cg, g)
	}
	if strings.Join(cg, "|") != "::a::b|" {
		t.Errorf("counter groups %q", cg)
	}
	if it := h.Samples.Metric("iterations"); len(it) != 1 {
		t.Errorf("%d iterations", len(it))
	} else if g, ok := it[0].Tags.Get("group"); !ok || g != "" {
		t.Errorf("iteration group tag %q %v, want present and empty", g, ok)
	}
}

func TestGroupRestoresPathOnThrow(t *testing.T) {
	h := jstest.MustLoad(t, `
import { group, check } from 'k6';
export default function () {
  try { group('a', () => { throw new Error('x'); }); } catch (e) {}
  check(1, { after: true });
}
`, nil)
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	c := h.Samples.Metric("checks")
	if len(c) != 1 {
		t.Fatalf("%d checks", len(c))
	}
	if g, _ := c[0].Tags.Get("group"); g != "" {
		t.Errorf("group after throw %q, want \"\"", g)
	}
}

func TestFailAndSleep(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"fail throws", "fail('nope');", "nope"},
		{"sleep zero and fraction", "sleep(0); sleep(0.001);", ""},
		{"empty group name", "group('', () => {});", "group name must not be empty"},
		{"async group refused, as k6", "group('g', async () => {});", "does not support async functions"},
		{"a function returning a promise is no async function", "group('g', () => Promise.resolve(1));", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import { fail, sleep, group } from 'k6';\nexport default function () { "+tc.body+" }\n", nil)
			err := h.Run(t)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestRandomSeed: randomSeed makes Math.random a reproducible sequence, in the init context
// and in VU code; another seed gives another sequence.
func TestRandomSeed(t *testing.T) {
	seq := func(seed int) string {
		h := jstest.MustLoad(t, fmt.Sprintf("import { randomSeed } from 'k6';\nrandomSeed(%d);\nconst first = [Math.random(), Math.random()];\n"+
			"export default function () { randomSeed(%d); console.log(first.join(',') + ';' + Math.random()); }\n", seed, seed), nil)
		if err := h.Run(t); err != nil {
			t.Fatal(err)
		}
		if len(h.Logs.Lines) != 1 {
			t.Fatalf("logs %q", h.Logs.Lines)
		}
		return h.Logs.Lines[0]
	}
	a, b, c := seq(42), seq(42), seq(7)
	if a != b {
		t.Errorf("seed 42 gave %q then %q", a, b)
	}
	if a == c {
		t.Errorf("seeds 42 and 7 both gave %q", a)
	}
	// In VU code the sequence restarts: its first value is the init context's first.
	parts := strings.SplitN(strings.TrimPrefix(a, "info: "), ";", 2)
	if !strings.HasPrefix(parts[0], parts[1]+",") {
		t.Errorf("the VU's first value %s is not the init context's first (%s)", parts[1], parts[0])
	}
}
