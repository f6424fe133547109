package metrics_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

func TestCustomMetrics(t *testing.T) {
	h := jstest.MustLoad(t, `
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const c = new Counter('my_counter');
const g = new Gauge('my_gauge');
const r = new Rate('my_rate');
const tr = new Trend('my_trend', true);
const plain = new Trend('my_plain');
export default function () {
  if (c.name !== 'my_counter') throw new Error('name');
  c.add(2, { k: 'v' });
  g.add(7.5);
  r.add(true); r.add(false); r.add(5); r.add(0);
  tr.add(12.5);
  plain.add(1);
}
`, nil)
	want := map[string]struct {
		typ      metrics.MetricType
		contains metrics.ValueType
	}{
		"my_counter": {metrics.Counter, metrics.Default},
		"my_gauge":   {metrics.Gauge, metrics.Default},
		"my_rate":    {metrics.Rate, metrics.Default},
		"my_trend":   {metrics.Trend, metrics.Time},
		"my_plain":   {metrics.Trend, metrics.Default},
	}
	for name, w := range want {
		m := h.Registry.Get(name)
		if m == nil || m.Type != w.typ || m.Contains != w.contains {
			t.Errorf("metric %s = %+v, want %v/%v", name, m, w.typ, w.contains)
		}
	}
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	values := func(name string) []float64 {
		var out []float64
		for _, s := range h.Samples.Metric(name) {
			out = append(out, s.Value)
		}
		return out
	}
	if got := values("my_rate"); len(got) != 4 || got[0] != 1 || got[1] != 0 || got[2] != 1 || got[3] != 0 {
		t.Errorf("rate values %v", got)
	}
	cs := h.Samples.Metric("my_counter")
	if len(cs) != 1 || cs[0].Value != 2 || metricstest.TagKeys(cs[0].Tags) != "group,k,scenario" {
		t.Errorf("counter samples %+v", cs)
	}
	if got := values("my_gauge"); len(got) != 1 || got[0] != 7.5 {
		t.Errorf("gauge %v", got)
	}
}

func TestMetricErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"outside init", "import { Counter } from 'k6/metrics';\nexport default function () { new Counter('late'); }\n", "init context"},
		{"bad name", "import { Counter } from 'k6/metrics';\nnew Counter('1bad name');\nexport default function () {}\n", "invalid metric name"},
		{"type conflict", "import { Counter, Trend } from 'k6/metrics';\nnew Counter('x');\nnew Trend('x');\nexport default function () {}\n", "already exists"},
		{"add in init", "import { Counter } from 'k6/metrics';\nnew Counter('x').add(1);\nexport default function () {}\n", "init context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := jstest.Load(t, tc.src, nil)
			if err == nil {
				err = h.Run(t)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestInvalidValue: an invalid value (undefined, null, NaN) throws with the throw option,
// as in k6; without it add logs a warning, returns false and emits nothing.
func TestInvalidValue(t *testing.T) {
	src := "import { Counter, Trend } from 'k6/metrics';\nconst c = new Counter('x');\nconst tr = new Trend('t');\n" +
		"export default function () {\n  if (c.add(__ENV.V === 'null' ? null : undefined) !== false) throw new Error('add returned true');\n" +
		"  if (tr.add(NaN) !== false) throw new Error('NaN: add returned true');\n}\n"
	for _, v := range []string{"undefined", "null"} {
		t.Run(v+" with throw", func(t *testing.T) {
			h := jstest.MustLoad(t, src, map[string]string{"V": v})
			st := h.State(1)
			st.Options.Throw = true
			vu, err := h.Bundle.NewVU(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			defer vu.Close()
			err = vu.RunIteration(context.Background(), "default", nil)
			if err == nil || !strings.Contains(err.Error(), "must be a number") {
				t.Errorf("err = %v, want %q", err, "must be a number")
			}
		})
		t.Run(v+" without throw", func(t *testing.T) {
			h := jstest.MustLoad(t, src, map[string]string{"V": v})
			if err := h.Run(t); err != nil {
				t.Fatal(err)
			}
			if n := len(h.Samples.Metric("x")) + len(h.Samples.Metric("t")); n != 0 {
				t.Errorf("%d samples of invalid values", n)
			}
			if logs := h.Logs.String(); strings.Count(logs, "must be a number") != 2 {
				t.Errorf("warnings:\n%s", logs)
			}
		})
	}
}

// TestNonNumberValues: values that are not numbers convert as in k6: a numeric string adds
// its number, a truthy value converting to 0 adds 1, and a string or object that is not a
// number ('abc', {}) warns and adds nothing instead of throwing.
func TestNonNumberValues(t *testing.T) {
	h := jstest.MustLoad(t, "import { Counter } from 'k6/metrics';\nconst c = new Counter('x');\n"+
		"export default function () {\n"+
		"  if (c.add('abc') !== false) throw new Error('abc: add returned true');\n"+
		"  if (c.add({ a: 1 }) !== false) throw new Error('object: add returned true');\n"+
		"  c.add('5.5'); c.add('0'); c.add([]); c.add('');\n}\n", nil)
	if err := h.Run(t); err != nil {
		t.Fatalf("add('abc') stopped the iteration: %v", err)
	}
	var got []float64
	for _, s := range h.Samples.Metric("x") {
		got = append(got, s.Value)
	}
	if want := []float64{5.5, 1, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if logs := h.Logs.String(); !strings.Contains(logs, "x.add(abc)") || strings.Count(logs, "must be a number") != 2 {
		t.Errorf("warnings:\n%s", logs)
	}
}
