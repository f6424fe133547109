package dashboard

import (
	"maps"
	"math"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Timeline folds samples into time points: Add accumulates the charted metrics' samples of
// the current period, Flush turns them into a Point and starts the next period. Totals keeps
// whole-run counters, rates and gauges (trends are left to the thresholds: keeping every
// value twice would double a run's memory). A Timeline is not safe for concurrent use.
type Timeline struct {
	cur    map[string]metrics.Sink
	prev   map[string]metrics.Sink // the last flushed period's sinks (for Extend)
	gprev  map[string]float64      // the gauges' last values before that period
	types  map[string]metrics.MetricType
	totals map[string]metrics.Sink
	// gauges are the charted gauges' last values: a gauge keeps its value until it changes,
	// so a period without a sample of it (vus is sampled every second) repeats it.
	gauges map[string]float64
}

// NewTimeline returns an empty timeline.
func NewTimeline() *Timeline {
	return &Timeline{cur: map[string]metrics.Sink{}, types: map[string]metrics.MetricType{}, totals: map[string]metrics.Sink{}, gauges: map[string]float64{}}
}

// Add folds samples into the current period. Samples of submetrics' series count in their
// metric, as in k6's summary.
func (tl *Timeline) Add(samples []metrics.Sample) {
	for _, s := range samples {
		m := s.Metric
		if m == nil {
			continue
		}
		if IsCharted(m.Name) {
			sk := tl.cur[m.Name]
			if sk == nil {
				sk = metrics.NewSink(m.Type)
				tl.cur[m.Name] = sk
				tl.types[m.Name] = m.Type
			}
			sk.AddValue(s.Value, s.Time)
		}
		if m.Type != metrics.Trend {
			tk := tl.totals[m.Name]
			if tk == nil {
				tk = metrics.NewSink(m.Type)
				tl.totals[m.Name] = tk
				tl.types[m.Name] = m.Type
			}
			tk.AddValue(s.Value, s.Time)
		}
	}
}

// Flush returns the point of the period that ends now: at t seconds from the start, dur
// long (counter rates divide by it). Metrics without samples in the period have no key,
// except gauges, which keep their last value.
func (tl *Timeline) Flush(t float64, dur time.Duration) Point {
	tl.gprev = maps.Clone(tl.gauges)
	p := tl.point(t, dur)
	tl.prev, tl.cur = tl.cur, map[string]metrics.Sink{}
	return p
}

// Extend folds the current period into the last flushed one and returns the point of both,
// at t, dur being their joint width: for a last period too short to be a point of its own
// (its rates would be noise), which then replaces the last point. Without a flushed period
// it is Flush.
func (tl *Timeline) Extend(t float64, dur time.Duration) Point {
	if tl.prev == nil {
		return tl.Flush(t, dur)
	}
	for name, s := range tl.cur {
		if p, ok := tl.prev[name]; ok {
			_ = p.Merge(s) // sinks of one metric have one type
		} else {
			tl.prev[name] = s
		}
	}
	tl.cur, tl.gauges = tl.prev, tl.gprev
	return tl.Flush(t, dur)
}

func (tl *Timeline) point(t float64, dur time.Duration) Point {
	p := Point{T: t, V: map[string]float64{}}
	for name, s := range tl.cur {
		Stats(name, tl.types[name], s, dur, p.V)
		if tl.types[name] == metrics.Gauge {
			tl.gauges[name] = p.V[name+":value"]
		}
	}
	for name, v := range tl.gauges {
		if _, ok := tl.cur[name]; !ok {
			p.V[name+":value"], p.V[name+":max"] = v, v
		}
	}
	return p
}

// Totals returns the whole-run statistics of the counters, rates and gauges (see Stats)
// over a run of elapsed.
func (tl *Timeline) Totals(elapsed time.Duration) map[string]float64 {
	v := map[string]float64{}
	for name, s := range tl.totals {
		Stats(name, tl.types[name], s, elapsed, v)
	}
	return v
}

// Downsample returns points reduced to at most maxPoints (maxPoints ≥ 1) for drawing, by
// merging runs of k consecutive points (k the smallest that fits) into one, at the time of
// the first: per-second rates, gauge values and averages are averaged over the run, counts
// are summed, and maxima and percentiles take the run's highest value (a spike stays
// visible, a percentile is never understated). points is not modified; when it already
// fits it is returned as is.
func Downsample(points []Point, maxPoints int) []Point {
	maxPoints = max(maxPoints, 1)
	if len(points) <= maxPoints {
		return points
	}
	k := (len(points) + maxPoints - 1) / maxPoints
	out := make([]Point, 0, (len(points)+k-1)/k)
	for i := 0; i < len(points); i += k {
		group := points[i:min(i+k, len(points))]
		p := Point{T: group[0].T, V: map[string]float64{}}
		n := map[string]int{}
		for _, g := range group {
			for key, x := range g.V {
				switch mergeOf(key) {
				case mergeSum:
					p.V[key] += x
				case mergeMax:
					if old, ok := p.V[key]; !ok || x > old {
						p.V[key] = x
					}
				default:
					p.V[key] += x
					n[key]++
				}
			}
		}
		for key, c := range n {
			p.V[key] /= float64(c)
		}
		out = append(out, p)
	}
	return out
}

type merge uint8

const (
	mergeMean merge = iota
	mergeSum
	mergeMax
)

func mergeOf(key string) merge {
	i := strings.LastIndexByte(key, ':')
	switch key[i+1:] {
	case "count":
		return mergeSum
	case "max", "p50", "p95", "p99":
		return mergeMax
	}
	return mergeMean
}

// Finite returns &x, or nil when x is NaN or infinite (which JSON cannot carry).
func Finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
