package analyzer

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/dashboard"
	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/metrics"
)

// maxReportWindows bounds the windows a report shows: with more load levels than this,
// the report uses fixed windows instead (reportWindows).
const maxReportWindows = 120

// Timeline returns the run as time points for the page of package dashboard, at most
// maxPoints of them: each point covers an equal span of whole seconds (the smallest that
// fits), with the statistics of dashboard.Stats for every charted metric. Its cost is
// proportional to the seconds that hold samples, whatever the size of the input. The
// second result is the points' width. It needs a Result analysed with Options.Bucket =
// time.Second.
func (r *Result) Timeline(ctx context.Context, maxPoints int) ([]dashboard.Point, time.Duration, error) {
	d := r.data
	if d == nil || d.points == 0 {
		return nil, 0, nil
	}
	if d.bucketNs != int64(windowBucket) {
		return nil, 0, fmt.Errorf("a timeline needs an analysis with one-second buckets")
	}
	buckets := d.occupied()
	if len(buckets) == 0 {
		return nil, 0, nil
	}
	first, last := buckets[0], buckets[len(buckets)-1]
	maxPoints = max(maxPoints, 1)
	w := max((last-first+1+int64(maxPoints)-1)/int64(maxPoints), 1) // seconds per point
	n := int((last-first)/w) + 1
	vals := make([]map[string]float64, n)
	for _, name := range dashboard.Charted {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		mi, ok := d.info[name]
		if !ok {
			continue
		}
		type slot struct {
			idx  int64
			inst string
		}
		sinks := map[slot]metrics.Sink{}
		for _, e := range d.seriesOf(name) {
			b := e.key.bucket
			if t := b * d.bucketNs; b < first || b > last || t < d.keepFrom || t > d.keepTo {
				continue
			}
			sl := slot{idx: (b - first) / w}
			if mi.Type == metrics.Gauge {
				sl.inst, _ = e.key.tags.Get(instanceTag) // --instances: each instance's gauge, summed below
			}
			s := sinks[sl]
			if s == nil {
				s = metrics.NewSink(mi.Type)
				sinks[sl] = s
			}
			if err := e.a.addTo(s); err != nil {
				return nil, 0, fmt.Errorf("metric %q: %w", name, err)
			}
		}
		merged := map[int64]metrics.Sink{}
		for sl, s := range sinks {
			if mi.Type == metrics.Gauge {
				g := s.(*metrics.GaugeSink)
				m, _ := merged[sl.idx].(*metrics.GaugeSink)
				if m == nil {
					m = &metrics.GaugeSink{}
					merged[sl.idx] = m
				}
				m.Last += g.Last
				m.Max += g.Max
				m.Min += g.Min
				m.N += g.N
				continue
			}
			merged[sl.idx] = s
		}
		for idx, s := range merged {
			from, to := max((first+idx*w)*d.bucketNs, d.minT), min((first+(idx+1)*w)*d.bucketNs, d.maxT)
			dur := time.Duration(to - from)
			if dur <= 0 {
				dur = windowBucket
			}
			if vals[idx] == nil {
				vals[idx] = map[string]float64{}
			}
			dashboard.Stats(name, mi.Type, s, dur, vals[idx])
		}
	}
	points := make([]dashboard.Point, 0, n)
	for i, v := range vals {
		if v != nil {
			points = append(points, dashboard.Point{T: float64(int64(i) * w), V: v})
		}
	}
	return points, time.Duration(w) * windowBucket, nil
}

// reportWindows are the report's windows: the load levels (--windows) when there are
// few enough of them, or else fixed windows, at most maxReportWindows.
func (r *Result) reportWindows(ctx context.Context, fixed time.Duration) ([]Window, error) {
	if fixed <= 0 {
		if ws, err := r.Windows(ctx, 0); err == nil && len(ws) <= maxReportWindows {
			return ws, nil
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		span := r.data.span()
		fixed = max(time.Duration(math.Ceil(span.Seconds()/maxReportWindows))*time.Second, time.Second)
		fixed = max(fixed, ((span/10)/time.Second)*time.Second) // about ten windows at least
	}
	return r.Windows(ctx, fixed)
}

// ReportOptions configure Result.Report.
type ReportOptions struct {
	// Title heads the page; "" names the inputs.
	Title string
	// Window is the width of fixed windows; 0 means the load levels of the vus gauge
	// (fixed windows when the run has none or too many).
	Window time.Duration
	// Baseline, when set, is drawn under this run.
	Baseline *Result
}

// Report builds the page of package dashboard for the analysis: the time series
// (Timeline), whole-run totals, every threshold's verdict with its value and limit, the
// windows with the breaking point (the first window in which a threshold failed) and
// latency against load, and the baseline's time series. It needs a Result analysed with
// Options.Bucket = time.Second.
func (r *Result) Report(ctx context.Context, o ReportOptions) (*dashboard.Report, error) {
	rep := &dashboard.Report{Title: o.Title, Generator: "k6verdict report", Verdict: r.Verdict(), Breaking: -1,
		Thresholds: []dashboard.Threshold{}}
	if rep.Title == "" {
		rep.Title = inputsTitle(r.Inputs)
	}
	if !r.Start.IsZero() {
		rep.Start = r.Start.UnixMilli()
	}
	points, width, err := r.Timeline(ctx, dashboard.MaxPoints)
	if err != nil {
		return nil, err
	}
	rep.Points, rep.Period = points, width.Seconds()
	if r.data != nil {
		rep.Totals = map[string]float64{}
		for _, name := range r.data.metricNames() {
			s, err := r.data.sink(name, metrics.TagSet{}, false, 0, 0)
			if err != nil {
				return nil, err
			}
			dashboard.Stats(name, r.data.info[name].Type, s, r.Elapsed, rep.Totals)
		}
	}
	for _, t := range r.Thresholds {
		th := dashboard.Threshold{Key: t.Key, Expr: t.Expression, Observed: finitePtr(t.Observed), Limit: dashboard.Finite(t.Limit),
			OK: t.Pass, NoData: t.NoData, AbortOnFail: t.AbortOnFail, Source: t.Source}
		if def, ok := pixelmetrics.Lookup(t.Metric); t.contains == metrics.Time || (ok && def.Contains == metrics.Time) {
			th.Unit = "ms" // a pixel metric without samples has its unit from the contract
		}
		rep.Thresholds = append(rep.Thresholds, th)
	}
	if r.Points > 0 {
		ws, err := r.reportWindows(ctx, o.Window)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Notes = append(rep.Notes, "no windows: "+err.Error())
		}
		for _, w := range ws {
			rep.Windows = append(rep.Windows, dashboard.Window{Label: w.Label, Offset: w.OffsetSeconds, Duration: w.DurationSeconds,
				VUs: finiteOr0(w.VUs), Metric: w.LatencyMetric, P50: finitePtr(w.P50), P95: finitePtr(w.P95), P99: finitePtr(w.P99),
				ErrorRate: finitePtr(w.ErrorRate), Throughput: finiteOr0(w.Throughput), Failed: w.Failed})
			if rep.Breaking < 0 && len(w.Failed) > 0 {
				rep.Breaking = w.Index
			}
		}
	}
	rep.Notes = append(rep.Notes, r.Warnings...)
	if o.Baseline != nil {
		bp, bw, err := o.Baseline.Timeline(ctx, dashboard.MaxPoints)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep.Baseline = &dashboard.Baseline{Title: inputsTitle(o.Baseline.Inputs), Period: bw.Seconds(), Points: bp}
	}
	return rep, nil
}

// WriteHTML writes rep as the self-contained page of package dashboard.
func WriteHTML(w io.Writer, rep *dashboard.Report) error { return dashboard.Render(w, rep) }

func inputsTitle(in []Input) string {
	names := make([]string, 0, len(in))
	for _, i := range in {
		names = append(names, filepath.Base(i.Path))
	}
	return strings.Join(names, " + ")
}

// finitePtr is p, or nil when it points to NaN or an infinity (JSON has neither).
func finitePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	return dashboard.Finite(*p)
}

func finiteOr0(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
