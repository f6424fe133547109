package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkTrendPercentileLive is the live-threshold pattern: a trend that already holds
// 5M values gets 100k more between two threshold checks, then p(95) is asked. One op is one
// such check (the sink keeps growing by 100k per op).
func BenchmarkTrendPercentileLive(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := &TrendSink{}
	base := make([]float64, 5_000_000)
	for i := range base {
		base[i] = rng.ExpFloat64() * 20
	}
	s.AddValues(base)
	_ = s.P(95)
	batch := make([]float64, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = rng.ExpFloat64() * 20
		}
		s.AddValues(batch)
		_ = s.P(95)
	}
}

// sameFloats reports whether a and b hold the same values in the same order (NaN equal to
// NaN, -0 equal to +0).
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// TestTrendIncrementalSortProperty: however values arrive (single adds, batches, merged
// sinks) and whenever statistics are asked in between, the sink's sorted values, its
// percentiles, min, max and avg equal those of one full sort of every value added — on
// random data with many duplicates, NaN, ±Inf and ±0.
func TestTrendIncrementalSortProperty(t *testing.T) {
	ps := []float64{0, 1, 25, 50, 90, 95, 99, 99.9, 100}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 99))
		value := func() float64 {
			switch r := rng.IntN(100); {
			case r < 2:
				return math.NaN()
			case r < 3:
				return math.Inf(1 - 2*rng.IntN(2))
			case r < 5:
				return math.Copysign(0, float64(1-2*rng.IntN(2)))
			case r < 50:
				return float64(rng.IntN(8)) // duplicates
			}
			return rng.NormFloat64() * 100
		}
		s := &TrendSink{}
		var all []float64
		for step := range 30 {
			switch rng.IntN(4) {
			case 0:
				v := value()
				s.AddValue(v, time.Time{})
				all = append(all, v)
			case 1:
				batch := make([]float64, rng.IntN(200))
				for i := range batch {
					batch[i] = value()
				}
				s.AddValues(batch)
				all = append(all, batch...)
			case 2:
				o := &TrendSink{}
				for range rng.IntN(100) {
					v := value()
					o.AddValue(v, time.Time{})
					all = append(all, v)
				}
				if rng.IntN(2) == 0 {
					_ = o.Sorted() // a sorted sink merges like an unsorted one
				}
				if err := s.Merge(o); err != nil {
					t.Fatal(err)
				}
			}
			if rng.IntN(3) == 0 {
				continue // no statistic asked this time: the tail keeps growing
			}
			want := slices.Clone(all)
			slices.Sort(want)
			if got := s.Sorted(); !sameFloats(got, want) {
				t.Fatalf("seed %d step %d: Sorted differs from a full sort of %d values", seed, step, len(all))
			}
			for _, p := range ps {
				got, wantP := s.P(p), Percentile(want, p)
				if got != wantP && !(math.IsNaN(got) && math.IsNaN(wantP)) {
					t.Fatalf("seed %d step %d: P(%v) = %v, full sort gives %v", seed, step, p, got, wantP)
				}
			}
			full := &TrendSink{}
			full.AddValues(all)
			for _, pair := range [][2]float64{{s.Min(), full.Min()}, {s.Max(), full.Max()}, {s.Avg(), full.Avg()}} {
				if pair[0] != pair[1] && !(math.IsNaN(pair[0]) && math.IsNaN(pair[1])) {
					t.Fatalf("seed %d step %d: min/max/avg %v, full sort gives %v", seed, step, pair[0], pair[1])
				}
			}
		}
	}
}
