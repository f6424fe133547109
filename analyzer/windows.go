package analyzer

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/summary"
)

// windowBucket is the resolution of --windows and --window: samples are kept per second.
const windowBucket = time.Second

// minPlateau is the shortest run of one VU level that counts as a plateau when there are
// many levels; shorter runs (ramps) are then merged into one ramp window.
const minPlateau = 3

// maxLevelWindows: with at most this many VU levels, every level is its own window.
const maxLevelWindows = 30

// Window is the statistics of one time window of the run.
type Window struct {
	Index           int      `json:"index"`
	Label           string   `json:"label"`
	OffsetSeconds   float64  `json:"offset_seconds"`
	DurationSeconds float64  `json:"duration_seconds"`
	VUs             float64  `json:"vus_max"`
	LatencyMetric   string   `json:"latency_metric"`
	P50             *float64 `json:"p50"`
	P95             *float64 `json:"p95"`
	P99             *float64 `json:"p99"`
	ErrorMetric     string   `json:"error_metric"`
	ErrorRate       *float64 `json:"error_rate"`
	ThroughputOf    string   `json:"throughput_metric"`
	Throughput      float64  `json:"throughput_per_second"`
	Failed          []string `json:"failed"`
}

// firstPresent returns the first of names that has samples.
func (d *dataset) firstPresent(t metrics.MetricType, names ...string) string {
	for _, n := range names {
		if mi, ok := d.info[n]; ok && mi.Type == t {
			if s, _ := d.sink(n, metrics.TagSet{}, false, 0, 0); s != nil {
				return n
			}
		}
	}
	return ""
}

// maxWindowRows caps the rows of --windows/--window: more is an error that suggests a
// wider window.
const maxWindowRows = 10000

// maxGapSeconds: with --windows, a span of more than this many seconds without any sample
// ends a plateau; the span is skipped and reported.
const maxGapSeconds = 60

// outlierShare is the share of samples cut at each end to find the bulk of the run;
// samples farther from the bulk than its length (at least one minute) are "far outside the
// run".
const outlierShare = 0.01

// occupied returns the one-second buckets that hold samples not far outside the run,
// sorted: what windows cost is proportional to these, never to the time span.
func (d *dataset) occupied() []int64 {
	n := map[int64]bool{}
	for k := range d.series {
		if t := k.bucket * d.bucketNs; t >= d.keepFrom && t <= d.keepTo {
			n[k.bucket] = true
		}
	}
	buckets := make([]int64, 0, len(n))
	for b := range n {
		buckets = append(buckets, b)
	}
	slices.Sort(buckets)
	return buckets
}

// findFar sets keepFrom and keepTo, the span of the samples not far outside the run, from
// the samples per minute, and counts the others in far. It returns the bounds of the bulk.
func (d *dataset) findFar() (bulkFrom, bulkTo time.Time) {
	d.keepFrom, d.keepTo = math.MinInt64, math.MaxInt64
	if len(d.minutes) == 0 {
		return
	}
	mins := make([]int64, 0, len(d.minutes))
	for m := range d.minutes {
		mins = append(mins, m)
	}
	slices.Sort(mins)
	var total uint64
	for _, m := range mins {
		total += d.minutes[m]
	}
	cut := uint64(float64(total) * outlierShare)
	qlo, qhi := 0, len(mins)-1
	var cum uint64
	for i, m := range mins {
		if cum += d.minutes[m]; cum > cut {
			qlo = i
			break
		}
	}
	cum = 0
	for i := len(mins) - 1; i >= 0; i-- {
		if cum += d.minutes[mins[i]]; cum > cut {
			qhi = i
			break
		}
	}
	margin := max(mins[qhi]-mins[qlo]+1, 1)
	lo, hi := qlo, qhi
	for lo > 0 && mins[lo-1] >= mins[qlo]-margin {
		lo--
	}
	for hi < len(mins)-1 && mins[hi+1] <= mins[qhi]+margin {
		hi++
	}
	for i, m := range mins {
		if i < lo || i > hi {
			d.far += d.minutes[m]
		}
	}
	if d.far > 0 {
		d.keepFrom, d.keepTo = mins[lo]*minuteNs, (mins[hi]+1)*minuteNs-1
	}
	return time.Unix(0, mins[lo]*minuteNs).UTC(), time.Unix(0, (mins[hi]+1)*minuteNs).UTC()
}

// Windows splits the run into windows — fixed ones of width fixed (a whole number of
// seconds), or, when fixed is 0, the plateaus of the vus gauge — and computes p50/p95/p99 of
// the main latency trend, the error rate, the throughput, and which thresholds fail in each.
// It needs a Result analysed with Options.Bucket = time.Second. Its cost is proportional to
// the seconds that hold samples: empty spans are skipped, samples far outside the bulk of
// the run (Result.Warnings says so) are left out, and empty spans are reported as data warnings (added to r.Warnings, and
// refused by Options.Strict). It returns ctx's error when ctx ends.
func (r *Result) Windows(ctx context.Context, fixed time.Duration) ([]Window, error) {
	d := r.data
	if d == nil || d.points == 0 {
		return nil, nil
	}
	if d.bucketNs != int64(windowBucket) {
		return nil, fmt.Errorf("windows need an analysis with one-second buckets")
	}
	buckets := d.occupied()
	if len(buckets) == 0 {
		return nil, nil
	}
	first, last := buckets[0], buckets[len(buckets)-1]
	var spans [][2]int64
	var labels []string
	var levels []float64
	if fixed > 0 {
		if fixed%windowBucket != 0 {
			return nil, fmt.Errorf("--window %s: must be a whole number of seconds", fixed)
		}
		w := int64(fixed / windowBucket)
		skipped, prev := int64(0), int64(-1)
		for _, b := range buckets {
			i := (b - first) / w
			if i == prev {
				continue
			}
			skipped += i - prev - 1
			prev = i
			from := first + i*w
			spans = append(spans, [2]int64{from, min(from+w-1, last)})
			labels = append(labels, fmt.Sprintf("%ds–%ds", from-first, min(from+w, last+1)-first))
			if len(spans) > maxWindowRows {
				return nil, fmt.Errorf("--window %s makes more than %d windows; use a wider window (e.g. --window %ds)", fixed, maxWindowRows, (last-first)/maxWindowRows+1)
			}
		}
		if skipped > 0 {
			r.issue("%d window(s) of %s without any sample were skipped", skipped, fixed)
		}
	} else {
		// The VU level of each second: the last vus value seen so far (summed over
		// instances with --instances).
		type instSec struct {
			inst string
			b    int64
		}
		perSec := map[instSec]*acc{}
		insts := map[string]bool{}
		for k, a := range d.series {
			if k.metric == "vus" && k.bucket >= first && k.bucket <= last {
				is := instSec{b: k.bucket}
				is.inst, _ = k.tags.Get(instanceTag)
				insts[is.inst] = true
				if perSec[is] == nil {
					perSec[is] = &acc{dropped: true}
				}
				perSec[is].merge(a)
			}
		}
		if len(perSec) == 0 {
			return nil, fmt.Errorf("--windows needs samples of the vus gauge; use --window 30s for fixed windows")
		}
		instList := sortedKeys(insts)
		// Runs of one level over the seconds that hold samples; a level carries over short
		// empty spans, and a long one ends the run.
		type run struct {
			from, to int64
			level    float64
		}
		var runs []run
		cur := map[string]float64{}
		gaps, gapSecs := 0, int64(0)
		for i, b := range buckets {
			if i%4096 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			total, seen := 0.0, false
			for _, inst := range instList {
				if a := perSec[instSec{inst, b}]; a != nil {
					cur[inst] = a.last
				}
				if v, ok := cur[inst]; ok {
					total += v
					seen = true
				}
			}
			if !seen {
				total = math.NaN()
			}
			if len(runs) > 0 {
				lr := &runs[len(runs)-1]
				gap := b - lr.to - 1
				if gap > maxGapSeconds {
					gaps++
					gapSecs += gap
				} else if lr.level == total || (math.IsNaN(total) && math.IsNaN(lr.level)) {
					lr.to = b
					continue
				} else {
					lr.to = b - 1
				}
			}
			runs = append(runs, run{b, b, total})
		}
		if gaps > 0 {
			r.issue("%d span(s) without any sample (%s in all) were skipped", gaps, time.Duration(gapSecs)*time.Second)
		}
		// Merge consecutive short runs into ramps, unless there are few levels.
		merge := len(runs) > maxLevelWindows
		for i := 0; i < len(runs); {
			j := i
			if merge && runs[i].to-runs[i].from+1 < minPlateau {
				for j+1 < len(runs) && runs[j+1].to-runs[j+1].from+1 < minPlateau && runs[j+1].from == runs[j].to+1 {
					j++
				}
			}
			spans = append(spans, [2]int64{runs[i].from, runs[j].to})
			if i == j {
				labels = append(labels, fmt.Sprintf("%s VUs", summary.FormatNumber(runs[i].level)))
			} else {
				labels = append(labels, fmt.Sprintf("ramp %s→%s VUs", summary.FormatNumber(runs[i].level), summary.FormatNumber(runs[j].level)))
			}
			hi := math.Inf(-1)
			for k := i; k <= j; k++ {
				if !math.IsNaN(runs[k].level) {
					hi = math.Max(hi, runs[k].level)
				}
			}
			levels = append(levels, hi)
			i = j + 1
		}
		if len(spans) > maxWindowRows {
			return nil, fmt.Errorf("--windows finds %d load levels, more than %d; use --window with a width instead", len(spans), maxWindowRows)
		}
	}
	lat := d.firstPresent(metrics.Trend, "http_req_duration", pixelmetrics.InferenceLatency, pixelmetrics.MessageLatency, pixelmetrics.ChunkLatency, "ws_connecting", "iteration_duration")
	errM := d.firstPresent(metrics.Rate, "http_req_failed", pixelmetrics.WSConnectionFailed, "checks")
	thr := d.firstPresent(metrics.Counter, "http_reqs", "ws_msgs_sent", "iterations")
	out := make([]Window, 0, len(spans))
	for i, sp := range spans {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The window's duration, clipped to the samples' span (a partial last second).
		from, to := max(sp[0]*d.bucketNs, d.minT), min((sp[1]+1)*d.bucketNs, d.maxT)
		dur := time.Duration(to - from)
		if dur <= 0 {
			dur = windowBucket
		}
		w := Window{Index: i, Label: labels[i], OffsetSeconds: float64(sp[0]-first) * windowBucket.Seconds(),
			DurationSeconds: dur.Seconds(), LatencyMetric: lat, ErrorMetric: errM, ThroughputOf: thr}
		if i < len(levels) {
			w.VUs = levels[i]
		} else if s, err := d.sink("vus", metrics.TagSet{}, true, sp[0], sp[1]); err == nil && s != nil {
			w.VUs, _ = s.Aggregate(metrics.Aggregation{Kind: metrics.AggMax}, dur)
		}
		if math.IsInf(w.VUs, 0) {
			w.VUs = 0
		}
		if lat != "" {
			if s, err := d.sink(lat, metrics.TagSet{}, true, sp[0], sp[1]); err != nil {
				return nil, err
			} else if s != nil {
				w.P50, w.P95, w.P99 = aggPtr(s, 50), aggPtr(s, 95), aggPtr(s, 99)
			}
		}
		if errM != "" {
			if s, err := d.sink(errM, metrics.TagSet{}, true, sp[0], sp[1]); err != nil {
				return nil, err
			} else if s != nil {
				v, _ := s.Aggregate(metrics.Aggregation{Kind: metrics.AggRate}, dur)
				if errM == "checks" {
					v = 1 - v
				}
				w.ErrorRate = &v
			}
		}
		if thr != "" {
			if s, err := d.sink(thr, metrics.TagSet{}, true, sp[0], sp[1]); err != nil {
				return nil, err
			} else if s != nil {
				w.Throughput, _ = s.Aggregate(metrics.Aggregation{Kind: metrics.AggRate}, dur)
			}
		}
		for _, src := range r.srcs {
			trs, err := evaluate(d, src, dur, true, sp[0], sp[1])
			if err != nil {
				return nil, err
			}
			for _, t := range trs {
				if !t.Pass {
					w.Failed = append(w.Failed, t.Key+" '"+t.Expression+"'")
				}
			}
		}
		if w.Failed == nil {
			w.Failed = []string{}
		}
		out = append(out, w)
	}
	return out, nil
}

func aggPtr(s metrics.Sink, p float64) *float64 {
	v, ok := s.Aggregate(metrics.Aggregation{Kind: metrics.AggPercentile, P: p}, 0)
	if !ok {
		return nil
	}
	return &v
}

// WriteWindowsText writes the windows table and the breaking point.
func WriteWindowsText(w io.Writer, ws []Window) error {
	var b strings.Builder
	b.WriteString("\n  █ WINDOWS \n\n")
	fmt.Fprintf(&b, "    %-3s %-18s %7s %7s %10s %10s %10s %8s %10s  %s\n", "#", "window", "start", "VUs", "p50", "p95", "p99", "errors", "thr/s", "failing")
	breaking := -1
	for _, x := range ws {
		f := func(p *float64) string {
			if p == nil {
				return "-"
			}
			return summary.FormatDuration(*p, "")
		}
		er := "-"
		if x.ErrorRate != nil {
			er = strconv2(*x.ErrorRate*100) + "%"
		}
		fmt.Fprintf(&b, "    %-3d %-18s %6.0fs %7s %10s %10s %10s %8s %10.2f  %s\n", x.Index, x.Label, x.OffsetSeconds,
			summary.FormatNumber(x.VUs), f(x.P50), f(x.P95), f(x.P99), er, x.Throughput, strings.Join(x.Failed, ", "))
		if breaking < 0 && len(x.Failed) > 0 {
			breaking = x.Index
		}
	}
	if breaking >= 0 {
		x := ws[breaking]
		fmt.Fprintf(&b, "\n    breaking point: window %d (%s, from %.0fs): %s\n", x.Index, x.Label, x.OffsetSeconds, strings.Join(x.Failed, ", "))
	} else if len(ws) > 0 {
		b.WriteString("\n    no window fails a threshold\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func strconv2(v float64) string { return fmt.Sprintf("%.2f", v) }
