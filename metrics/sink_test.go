package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestPercentile(t *testing.T) {
	v := []float64{10, 20, 30, 40, 50}
	cases := []struct {
		name string
		data []float64
		p    float64
		want float64
	}{
		{"empty", nil, 50, 0},
		{"single", []float64{7}, 95, 7},
		{"median odd", v, 50, 30},
		{"p0", v, 0, 10},
		{"p100", v, 100, 50},
		{"interpolated", v, 95, 48},                  // i = 3.8 → 40 + 0.8·10
		{"p90 of 4", []float64{1, 2, 3, 4}, 90, 3.7}, // i = 2.7
		{"median even", []float64{1, 2, 3, 4}, 50, 2.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Percentile(c.data, c.p); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSinkValues(t *testing.T) {
	t0 := time.Unix(100, 0)
	g := NewSink(Gauge)
	g.AddValue(5, t0.Add(2*time.Second))
	g.AddValue(9, t0) // older: not the last value
	g.AddValue(1, t0.Add(time.Second))
	if v := g.Values(0, nil); v["value"] != 5 || v["min"] != 1 || v["max"] != 9 {
		t.Errorf("gauge %v", v)
	}
	r := NewSink(Rate)
	for _, x := range []float64{1, 0, 2, 0} {
		r.AddValue(x, t0)
	}
	if v := r.Values(0, nil); v["rate"] != 0.5 || v["passes"] != 2 || v["fails"] != 2 {
		t.Errorf("rate %v", v)
	}
	c := NewSink(Counter)
	c.Add(Sample{Value: 3})
	c.Add(Sample{Value: 7})
	if v := c.Values(5*time.Second, nil); v["count"] != 10 || v["rate"] != 2 {
		t.Errorf("counter %v", v)
	}
	tr := NewSink(Trend)
	for _, x := range []float64{4, 1, 3, 2} {
		tr.AddValue(x, t0)
	}
	v := tr.Values(0, []string{"avg", "min", "med", "max", "p(90)", "count", "bogus"})
	want := map[string]float64{"avg": 2.5, "min": 1, "med": 2.5, "max": 4, "p(90)": 3.7, "count": 4}
	for k, w := range want {
		if math.Abs(v[k]-w) > 1e-12 {
			t.Errorf("trend %s = %v, want %v", k, v[k], w)
		}
	}
	if _, ok := v["bogus"]; ok {
		t.Error("unknown stat reported")
	}
	if len(tr.Values(0, nil)) != len(DefaultTrendStats) {
		t.Error("default stats")
	}
}

// TestMergeExact: splitting samples across sinks and merging gives the same values as one sink.
func TestMergeExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mt := range []MetricType{Counter, Gauge, Rate, Trend} {
		t.Run(mt.String(), func(t *testing.T) {
			whole := NewSink(mt)
			parts := []Sink{NewSink(mt), NewSink(mt), NewSink(mt)}
			for i := range 1000 {
				v := math.Round(rng.Float64()*1000) / 7
				if mt == Rate || mt == Counter {
					v = float64(rng.IntN(2))
				}
				at := time.Unix(0, int64(i)*1e6)
				whole.AddValue(v, at)
				parts[rng.IntN(3)].AddValue(v, at)
			}
			merged := NewSink(mt)
			for _, p := range []Sink{parts[2], parts[0], parts[1]} {
				if err := merged.Merge(p); err != nil {
					t.Fatal(err)
				}
			}
			stats := append(slices.Clone(DefaultTrendStats), "p(99)", "p(99.9)")
			a, b := whole.Values(time.Second, stats), merged.Values(time.Second, stats)
			for k := range a {
				if a[k] != b[k] {
					t.Errorf("%s: whole %v, merged %v", k, a[k], b[k])
				}
			}
			if whole.Count() != merged.Count() {
				t.Error("count")
			}
		})
	}
	if err := NewSink(Trend).Merge(NewSink(Rate)); err == nil {
		t.Error("merging different types accepted")
	}
}

func TestParseAggregation(t *testing.T) {
	for _, s := range []string{"avg", "min", "med", "max", "p(90)", "p(99.9)", "count", "rate", "value"} {
		a, err := ParseAggregation(s)
		if err != nil || a.String() != s {
			t.Errorf("%s: %v %v", s, a, err)
		}
	}
	for _, s := range []string{"", "p95", "avg<1", "mean"} {
		if _, err := ParseAggregation(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func BenchmarkTrendAdd(b *testing.B) {
	s := &TrendSink{}
	b.ReportAllocs()
	at := time.Unix(0, 0)
	i := 0.0
	for b.Loop() {
		s.AddValue(i, at)
		i++
	}
}

func BenchmarkTrendP95(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]float64, 100000)
	for i := range vals {
		vals[i] = rng.Float64()
	}
	b.ReportAllocs()
	for b.Loop() {
		s := &TrendSink{}
		s.AddValues(vals)
		_ = s.P(95)
	}
}
