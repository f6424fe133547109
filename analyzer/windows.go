package analyzer

import (
	"fmt"
	"io"
	"math"
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

// Windows splits the run into windows — fixed ones of width fixed (a whole number of
// seconds), or, when fixed is 0, the plateaus of the vus gauge — and computes p50/p95/p99 of
// the main latency trend, the error rate, the throughput, and which thresholds fail in each.
// It needs a Result analysed with Options.Bucket = time.Second.
func (r *Result) Windows(fixed time.Duration) ([]Window, error) {
	d := r.data
	if d == nil || d.points == 0 {
		return nil, nil
	}
	if d.bucketNs != int64(windowBucket) {
		return nil, fmt.Errorf("windows need an analysis with one-second buckets")
	}
	first, last := floorDiv(d.minT, d.bucketNs), floorDiv(d.maxT, d.bucketNs)
	var spans [][2]int64
	var labels []string
	var levels []float64
	if fixed > 0 {
		if fixed%windowBucket != 0 {
			return nil, fmt.Errorf("--window %s: must be a whole number of seconds", fixed)
		}
		w := int64(fixed / windowBucket)
		for b := first; b <= last; b += w {
			spans = append(spans, [2]int64{b, min(b+w-1, last)})
			labels = append(labels, fmt.Sprintf("%ds–%ds", b-first, min(b+w, last+1)-first))
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
			if k.metric == "vus" {
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
		lvl := make([]float64, 0, last-first+1)
		cur := map[string]float64{}
		for b := first; b <= last; b++ {
			total, seen := 0.0, false
			for inst := range insts {
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
			lvl = append(lvl, total)
		}
		// Runs of one level.
		type run struct {
			from, to int64
			level    float64
		}
		var runs []run
		for i, v := range lvl {
			b := first + int64(i)
			if len(runs) > 0 && (runs[len(runs)-1].level == v || (math.IsNaN(v) && math.IsNaN(runs[len(runs)-1].level))) {
				runs[len(runs)-1].to = b
				continue
			}
			runs = append(runs, run{b, b, v})
		}
		// Merge consecutive short runs into ramps, unless there are few levels.
		merge := len(runs) > maxLevelWindows
		for i := 0; i < len(runs); {
			j := i
			if merge && runs[i].to-runs[i].from+1 < minPlateau {
				for j+1 < len(runs) && runs[j+1].to-runs[j+1].from+1 < minPlateau {
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
	}
	lat := d.firstPresent(metrics.Trend, "http_req_duration", pixelmetrics.InferenceLatency, pixelmetrics.MessageLatency, pixelmetrics.ChunkLatency, "ws_connecting", "iteration_duration")
	errM := d.firstPresent(metrics.Rate, "http_req_failed", pixelmetrics.WSConnectionFailed, "checks")
	thr := d.firstPresent(metrics.Counter, "http_reqs", "ws_msgs_sent", "iterations")
	out := make([]Window, 0, len(spans))
	for i, sp := range spans {
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
