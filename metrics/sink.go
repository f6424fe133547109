package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Sink folds the samples of one time series (or one submetric) into the aggregate k6 keeps
// for its metric type. Sinks are not safe for concurrent use.
type Sink interface {
	// Add folds in s.Value (and s.Time, for a gauge's last value).
	Add(s Sample)
	// AddValue is Add without building a Sample.
	AddValue(v float64, at time.Time)
	// Merge folds o, a sink of the same type, into the receiver. The result is the same as if
	// every sample of o had been added to the receiver.
	Merge(o Sink) error
	// Count is the number of samples added.
	Count() uint64
	// IsEmpty reports whether no sample was added.
	IsEmpty() bool
	// Aggregate returns one aggregation of the sink. ok is false when the aggregation is not
	// defined for this metric type. elapsed is the test duration (counter rate only).
	Aggregate(a Aggregation, elapsed time.Duration) (v float64, ok bool)
	// Values returns k6's summary values for the sink (see the package doc for the keys).
	Values(elapsed time.Duration, trendStats []string) map[string]float64
}

// DefaultTrendStats is k6's default summaryTrendStats.
var DefaultTrendStats = []string{"avg", "min", "med", "max", "p(90)", "p(95)"}

// NewSink returns an empty sink for a metric of type t (a trend sink for unknown types).
func NewSink(t MetricType) Sink {
	switch t {
	case Counter:
		return &CounterSink{}
	case Gauge:
		return &GaugeSink{}
	case Rate:
		return &RateSink{}
	default:
		return &TrendSink{}
	}
}

var (
	_ Sink = (*CounterSink)(nil)
	_ Sink = (*GaugeSink)(nil)
	_ Sink = (*RateSink)(nil)
	_ Sink = (*TrendSink)(nil)
)

func mergeTypeError(dst, src Sink) error {
	return fmt.Errorf("cannot merge a %T into a %T", src, dst)
}

// CounterSink sums values. Aggregations: count (the sum) and rate (sum per second of elapsed).
type CounterSink struct {
	Sum float64
	N   uint64
}

// Add implements Sink.
func (c *CounterSink) Add(s Sample) { c.Sum += s.Value; c.N++ }

// AddValue implements Sink.
func (c *CounterSink) AddValue(v float64, _ time.Time) { c.Sum += v; c.N++ }

// Merge implements Sink.
func (c *CounterSink) Merge(o Sink) error {
	oc, ok := o.(*CounterSink)
	if !ok {
		return mergeTypeError(c, o)
	}
	c.Sum += oc.Sum
	c.N += oc.N
	return nil
}

// Count implements Sink.
func (c *CounterSink) Count() uint64 { return c.N }

// IsEmpty implements Sink.
func (c *CounterSink) IsEmpty() bool { return c.N == 0 }

// Rate returns Sum per second of elapsed (0 when elapsed is not positive).
func (c *CounterSink) Rate(elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return c.Sum / elapsed.Seconds()
}

// Aggregate implements Sink.
func (c *CounterSink) Aggregate(a Aggregation, elapsed time.Duration) (float64, bool) {
	switch a.Kind {
	case AggCount:
		return c.Sum, true
	case AggRate:
		return c.Rate(elapsed), true
	}
	return 0, false
}

// Values implements Sink: count, rate.
func (c *CounterSink) Values(elapsed time.Duration, _ []string) map[string]float64 {
	return map[string]float64{"count": c.Sum, "rate": c.Rate(elapsed)}
}

// GaugeSink keeps the last value (by sample time; on equal times the later Add wins) and the
// minimum and maximum.
type GaugeSink struct {
	Last     float64
	LastTime time.Time
	Min, Max float64
	N        uint64
}

// Add implements Sink.
func (g *GaugeSink) Add(s Sample) { g.AddValue(s.Value, s.Time) }

// AddValue implements Sink.
func (g *GaugeSink) AddValue(v float64, at time.Time) {
	if g.N == 0 {
		g.Min, g.Max = v, v
		g.Last, g.LastTime = v, at
		g.N = 1
		return
	}
	g.N++
	if v < g.Min {
		g.Min = v
	}
	if v > g.Max {
		g.Max = v
	}
	if !at.Before(g.LastTime) {
		g.Last, g.LastTime = v, at
	}
}

// Merge implements Sink. On equal last times the receiver's value is kept unless it is empty.
func (g *GaugeSink) Merge(o Sink) error {
	og, ok := o.(*GaugeSink)
	if !ok {
		return mergeTypeError(g, o)
	}
	if og.N == 0 {
		return nil
	}
	if g.N == 0 {
		*g = *og
		return nil
	}
	g.N += og.N
	g.Min = math.Min(g.Min, og.Min)
	g.Max = math.Max(g.Max, og.Max)
	if og.LastTime.After(g.LastTime) || (og.LastTime.Equal(g.LastTime) && og.Last > g.Last) {
		// Equal times: take the larger value so that merging is order-independent.
		g.Last, g.LastTime = og.Last, og.LastTime
	}
	return nil
}

// Count implements Sink.
func (g *GaugeSink) Count() uint64 { return g.N }

// IsEmpty implements Sink.
func (g *GaugeSink) IsEmpty() bool { return g.N == 0 }

// Aggregate implements Sink: value, and (beyond k6) min and max.
func (g *GaugeSink) Aggregate(a Aggregation, _ time.Duration) (float64, bool) {
	switch a.Kind {
	case AggValue:
		return g.Last, true
	case AggMin:
		return g.Min, true
	case AggMax:
		return g.Max, true
	}
	return 0, false
}

// Values implements Sink: value, min, max.
func (g *GaugeSink) Values(time.Duration, []string) map[string]float64 {
	return map[string]float64{"value": g.Last, "min": g.Min, "max": g.Max}
}

// RateSink counts non-zero samples (passes) among all samples.
type RateSink struct {
	Passes, Total uint64
}

// Add implements Sink.
func (r *RateSink) Add(s Sample) { r.AddValue(s.Value, time.Time{}) }

// AddValue implements Sink.
func (r *RateSink) AddValue(v float64, _ time.Time) {
	r.Total++
	if v != 0 {
		r.Passes++
	}
}

// Merge implements Sink.
func (r *RateSink) Merge(o Sink) error {
	or, ok := o.(*RateSink)
	if !ok {
		return mergeTypeError(r, o)
	}
	r.Passes += or.Passes
	r.Total += or.Total
	return nil
}

// Count implements Sink.
func (r *RateSink) Count() uint64 { return r.Total }

// IsEmpty implements Sink.
func (r *RateSink) IsEmpty() bool { return r.Total == 0 }

// Rate returns Passes/Total, in [0,1] (0 when empty).
func (r *RateSink) Rate() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Passes) / float64(r.Total)
}

// Aggregate implements Sink: rate.
func (r *RateSink) Aggregate(a Aggregation, _ time.Duration) (float64, bool) {
	if a.Kind == AggRate {
		return r.Rate(), true
	}
	return 0, false
}

// Values implements Sink: rate, passes, fails.
func (r *RateSink) Values(time.Duration, []string) map[string]float64 {
	return map[string]float64{"rate": r.Rate(), "passes": float64(r.Passes), "fails": float64(r.Total - r.Passes)}
}

// TrendSink keeps every value (8 bytes each) and sorts them lazily when a statistic is
// asked. Sorting is incremental: values[:nsorted] is kept in order and what was added since
// is an unsorted tail, which a statistic sorts on its own and merges in. A live threshold
// that asks for p(95) every few seconds of a long test then pays for sorting what arrived
// since the last check plus one linear merge, not for sorting every value again.
type TrendSink struct {
	values  []float64
	nsorted int       // values[:nsorted] is in ascending order (cmp.Less: NaN first)
	scratch []float64 // the tail during a merge, kept for the next one
	avg     float64
	avgOK   bool
}

// Add implements Sink.
func (t *TrendSink) Add(s Sample) { t.AddValue(s.Value, time.Time{}) }

// AddValue implements Sink. It allocates only when the value slice grows.
func (t *TrendSink) AddValue(v float64, _ time.Time) {
	t.values = append(t.values, v)
	t.avgOK = false
}

// AddValues appends many values at once.
func (t *TrendSink) AddValues(vs []float64) {
	t.values = append(t.values, vs...)
	t.avgOK = false
}

// Grow makes room for n more values without reallocating.
func (t *TrendSink) Grow(n int) { t.values = slices.Grow(t.values, n) }

// Merge implements Sink.
func (t *TrendSink) Merge(o Sink) error {
	ot, ok := o.(*TrendSink)
	if !ok {
		return mergeTypeError(t, o)
	}
	t.AddValues(ot.values)
	return nil
}

// Count implements Sink.
func (t *TrendSink) Count() uint64 { return uint64(len(t.values)) }

// IsEmpty implements Sink.
func (t *TrendSink) IsEmpty() bool { return len(t.values) == 0 }

// Sorted returns the values in ascending order (NaN first, as slices.Sort orders them). The
// slice belongs to the sink; do not modify it, and do not keep it across Add calls.
func (t *TrendSink) Sorted() []float64 {
	n, k := t.nsorted, len(t.values)-t.nsorted
	switch {
	case k == 0:
		return t.values
	case n < k: // little is sorted yet: one sort of everything is as cheap
		slices.Sort(t.values)
	default:
		tail := t.values[n:]
		slices.Sort(tail)
		if cmp.Less(tail[0], t.values[n-1]) { // else the tail already follows in order
			t.scratch = mergeTail(t.values, n, t.scratch)
			if cap(t.scratch) > len(t.values)/8 { // keep only a buffer of the usual tail size
				t.scratch = nil
			}
		}
	}
	t.nsorted = len(t.values)
	return t.values
}

// mergeTail merges vs[:n] and vs[n:], both ascending, into vs in place, using buf (grown as
// needed) to hold the tail. It works from the back, so each value moves at most once.
func mergeTail(vs []float64, n int, buf []float64) []float64 {
	buf = append(buf[:0], vs[n:]...)
	// Values of the sorted part that are not greater than the tail's first value stay put.
	lo, _ := slices.BinarySearchFunc(vs[:n], buf[0], func(a, b float64) int {
		if cmp.Less(b, a) {
			return 1
		}
		return -1
	})
	i, j, w := n-1, len(buf)-1, len(vs)-1
	for j >= 0 {
		if i >= lo && cmp.Less(buf[j], vs[i]) {
			vs[w] = vs[i]
			i--
		} else {
			vs[w] = buf[j]
			j--
		}
		w--
	}
	return buf
}

// Min returns the smallest value (0 when empty).
func (t *TrendSink) Min() float64 {
	v := t.Sorted()
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// Max returns the largest value (0 when empty).
func (t *TrendSink) Max() float64 {
	v := t.Sorted()
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

// Avg returns the mean (0 when empty), summed in sorted order with Neumaier compensation so
// the result does not depend on the order in which values were added or merged.
func (t *TrendSink) Avg() float64 {
	if t.avgOK {
		return t.avg
	}
	v := t.Sorted()
	if len(v) == 0 {
		return 0
	}
	var sum, c float64
	for _, x := range v {
		s := sum + x
		if math.Abs(sum) >= math.Abs(x) {
			c += (sum - s) + x
		} else {
			c += (x - s) + sum
		}
		sum = s
	}
	t.avg, t.avgOK = (sum+c)/float64(len(v)), true
	return t.avg
}

// P returns the p-th percentile, p ∈ [0,100] (0 when empty). See Percentile.
func (t *TrendSink) P(p float64) float64 { return Percentile(t.Sorted(), p) }

// Aggregate implements Sink: avg, min, max, med, p(N), and count.
func (t *TrendSink) Aggregate(a Aggregation, _ time.Duration) (float64, bool) {
	switch a.Kind {
	case AggAvg:
		return t.Avg(), true
	case AggMin:
		return t.Min(), true
	case AggMax:
		return t.Max(), true
	case AggMed:
		return t.P(50), true
	case AggPercentile:
		return t.P(a.P), true
	case AggCount:
		return float64(len(t.values)), true
	}
	return 0, false
}

// Values implements Sink: the requested trend stats (DefaultTrendStats when nil). Stats
// that do not parse are left out.
func (t *TrendSink) Values(_ time.Duration, trendStats []string) map[string]float64 {
	if trendStats == nil {
		trendStats = DefaultTrendStats
	}
	out := make(map[string]float64, len(trendStats))
	for _, st := range trendStats {
		a, err := ParseAggregation(st)
		if err != nil {
			continue
		}
		if v, ok := t.Aggregate(a, 0); ok {
			out[st] = v
		}
	}
	return out
}

// Percentile is k6's percentile of sorted (ascending) values, p ∈ [0,100]: with
// i = p/100·(n−1), it interpolates linearly between sorted[floor(i)] and sorted[ceil(i)].
// It returns 0 for no values; p outside [0,100] is clamped. This is the only definition of a
// percentile in pixelk6.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n == 1 || p <= 0 || math.IsNaN(p) {
		return sorted[0]
	}
	if p >= 100 {
		return sorted[n-1]
	}
	i := p / 100 * float64(n-1)
	lo := math.Floor(i)
	hi := math.Ceil(i)
	l, h := sorted[int(lo)], sorted[int(hi)]
	if lo == hi {
		return l
	}
	return l + (h-l)*(i-lo)
}
