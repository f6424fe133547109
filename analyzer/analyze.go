package analyzer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
)

// Options configures one analysis.
type Options struct {
	Files       []string      // paths; "-" is standard input
	Criteria    []string      // criteria files (k6 thresholds syntax, YAML or JSON)
	Profiles    []string      // built-in profiles: "rest", "websocket"
	NoScript    bool          // ignore the thresholds recorded in the files
	Instances   bool          // the files are instances of one test: sum their vus gauges
	MaxBadLines int           // more bad lines than this stop the run (exit 2)
	Workers     int           // parsing goroutines; 0 = GOMAXPROCS
	Duration    time.Duration // test duration for counter rates; 0 = span of the samples
	TrendStats  []string      // nil = metrics.DefaultTrendStats
	Bucket      time.Duration // time-bucket width for windows; 0 = none
	// Strict makes any data warning (bad lines, a truncated input, skipped windows, samples
	// far outside the run) refuse the verdict: Refusal is set and the exit code is 2.
	Strict bool
	// AllowDuplicates accepts inputs with the same content or the same samples; by default
	// Analyze refuses them, since their samples would be counted twice.
	AllowDuplicates bool
	blockSize       int       // tests: NDJSON block size
	stdin           io.Reader // "-"
}

// Input describes one input file after reading.
type Input struct {
	Path     string `json:"path"`
	Format   string `json:"format"` // "ndjson", "ndjson+gzip", "csv", "csv+gzip"
	Lines    int64  `json:"lines"`
	BadLines int64  `json:"bad_lines"`
}

// ThresholdResult is one evaluated threshold.
type ThresholdResult struct {
	Metric      string            `json:"metric"`
	Key         string            `json:"key"`
	Submetric   map[string]string `json:"submetric"`
	Expression  string            `json:"expression"`
	Aggregation string            `json:"aggregation"`
	Op          string            `json:"op"`
	Limit       float64           `json:"limit"`
	Observed    *float64          `json:"observed"`
	Pass        bool              `json:"pass"`
	NoData      bool              `json:"no_data"`
	AbortOnFail bool              `json:"abort_on_fail"`
	Source      string            `json:"source"`
	Error       string            `json:"error,omitempty"`
	contains    metrics.ValueType
	agg         metrics.Aggregation
}

// MetricSummary is one metric's (or submetric's) k6 summary values.
type MetricSummary struct {
	Name     string             `json:"name"`
	Type     string             `json:"type"`
	Contains string             `json:"contains"`
	Samples  uint64             `json:"samples"`
	Values   map[string]float64 `json:"values"`
	contains metrics.ValueType
	typ      metrics.MetricType
}

// Result is the outcome of an analysis.
type Result struct {
	Inputs       []Input
	Start, End   time.Time     // first and last sample
	Elapsed      time.Duration // test duration used for counter rates
	Points       uint64        // samples read
	Thresholds   []ThresholdResult
	Metrics      []MetricSummary
	Warnings     []string
	BadLines     []BadLine // the first few
	BadLineCount int64
	TrendStats   []string
	data         *dataset
	srcs         []thresholdSrc
	strict       bool
	issues       []string // data warnings, which --strict refuses
}

// Refusal says why the inputs give no verdict ("" when they do): no samples, or, with
// Options.Strict, data warnings. A refused result does not pass and exits ExitUsage.
func (r *Result) Refusal() string {
	if r.Points == 0 {
		return "no samples in the input: no data is never a pass"
	}
	if r.strict {
		n := len(r.issues)
		if r.BadLineCount > 0 {
			n++
		}
		if n > 0 {
			return fmt.Sprintf("--strict: %d data warning(s) (see the warnings): no verdict on doubtful data", n)
		}
	}
	return ""
}

// Verdict is "PASS", "FAIL" (a threshold failed), "NO DATA" (no samples) or "REFUSED"
// (--strict and data warnings).
func (r *Result) Verdict() string {
	switch {
	case r.Points == 0:
		return "NO DATA"
	case r.Refusal() != "":
		return "REFUSED"
	case !r.thresholdsPass():
		return "FAIL"
	}
	return "PASS"
}

// issue records a data warning (shown, and refused by --strict).
func (r *Result) issue(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Warnings = append(r.Warnings, msg)
	r.issues = append(r.issues, msg)
}

// Pass reports whether there is a verdict and every threshold passed.
func (r *Result) Pass() bool {
	return r.Refusal() == "" && r.thresholdsPass()
}

func (r *Result) thresholdsPass() bool {
	for _, t := range r.Thresholds {
		if !t.Pass {
			return false
		}
	}
	return true
}

// thresholdSrc is a set of thresholds with where they come from.
type thresholdSrc struct {
	source string
	mts    []metrics.MetricThresholds
}

// tolerantGzip ends a truncated gzip stream (a crashed run) as if it were complete, and
// remembers that it was truncated.
type tolerantGzip struct {
	r         io.Reader
	truncated bool
}

func (t *tolerantGzip) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		t.truncated = true
		err = io.EOF
	}
	return n, err
}

// openInput opens path ("-": stdin), detects gzip by its magic bytes and CSV by k6's header.
// truncated, once the input is read, says whether a gzip stream ended early.
// hash, once the input is read, is the SHA-256 of the bytes read.
func openInput(path string, stdin io.Reader) (r io.Reader, closeFn func() error, format string, truncated func() bool, hash func() [sha256.Size]byte, err error) {
	truncated = func() bool { return false }
	var f io.Reader
	closeFn = func() error { return nil }
	if path == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		f = stdin
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return nil, nil, "", nil, nil, err
		}
		f, closeFn = fh, fh.Close
	}
	h := sha256.New()
	f = io.TeeReader(f, h)
	hash = func() (sum [sha256.Size]byte) {
		copy(sum[:], h.Sum(nil))
		return sum
	}
	br := bufio.NewReaderSize(f, 64<<10)
	gz := ""
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFn()
			return nil, nil, "", nil, nil, fmt.Errorf("gzip: %w", err)
		}
		tg := &tolerantGzip{r: zr}
		truncated = func() bool { return tg.truncated }
		br = bufio.NewReaderSize(tg, 64<<10)
		gz = "+gzip"
		inner := closeFn
		closeFn = func() error {
			zerr := zr.Close()
			if tg.truncated {
				zerr = nil // reported as a warning
			}
			return errors.Join(zerr, inner())
		}
	}
	head, _ := br.Peek(len("\xef\xbb\xbfmetric_name,"))
	format = k6file.DetectFormat(head).String() + gz
	return br, closeFn, format, truncated, hash, nil
}

// Analyze reads every input, merges them, and evaluates the thresholds.
func Analyze(ctx context.Context, o Options) (*Result, error) {
	if len(o.Files) == 0 {
		return nil, errors.New("no input files")
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bs := o.blockSize
	if bs <= 0 {
		bs = defaultBlockSize
	}
	var srcs []thresholdSrc
	hints := map[string]metrics.MetricType{}
	for _, c := range o.Criteria {
		mts, err := LoadCriteria(c)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, thresholdSrc{"criteria:" + c, mts})
	}
	for _, p := range o.Profiles {
		mts, err := Profile(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, thresholdSrc{"profile:" + p, mts})
	}
	for _, s := range srcs {
		for _, mt := range s.mts {
			for _, th := range mt.Thresholds {
				h := hintFor(th.Agg.Kind)
				if h == rateOrCounter && th.Value > 1 {
					h = metrics.Counter // a rate above 1 is per second: a counter
				}
				hints[mt.Metric] = h
			}
		}
	}

	tt := newTypeTable()
	shards := make([]*shard, workers)
	for i := range shards {
		shards[i] = newShard(tt, o.Bucket)
	}
	bad := newBadLines(o.MaxBadLines)
	nr := &ndjsonReader{tt: tt, shards: shards, bad: bad, blockSize: bs}
	res := &Result{TrendStats: o.TrendStats}
	if res.TrendStats == nil {
		res.TrendStats = metrics.DefaultTrendStats
	}
	var prints []inputPrint
	for fi, path := range o.Files {
		inst := -1
		if o.Instances {
			inst = fi
		}
		for _, sh := range shards {
			sh.setInstance(inst)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r, closeFn, format, truncated, hash, err := openInput(path, o.stdin)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", path, err)
		}
		before := bad.count.Load()
		in := Input{Path: path, Format: format}
		if format == "csv" || format == "csv+gzip" {
			in.Lines, err = readCSV(ctx, path, r, tt, shards[0], bad, nr.warn)
		} else {
			l0 := nr.lines.Load()
			err = nr.read(ctx, path, r)
			in.Lines = nr.lines.Load() - l0
		}
		if truncated() {
			nr.warn("%s: the gzip stream is truncated (a crashed run?); what it held was read", path)
		}
		cerr := closeFn()
		in.BadLines = bad.count.Load() - before
		res.Inputs = append(res.Inputs, in)
		if err != nil {
			res.BadLines, res.BadLineCount = bad.kept, bad.count.Load()
			if errors.Is(err, ErrTooManyBadLines) {
				return res, fmt.Errorf("%w: %d bad lines (more than --max-bad-lines=%d)", err, bad.count.Load(), o.MaxBadLines)
			}
			return res, fmt.Errorf("input %q: %w", path, err)
		}
		if cerr != nil {
			return res, fmt.Errorf("input %q: close: %w", path, cerr)
		}
		fp := inputPrint{path: path, hash: hash(), metrics: takeFingerprints(shards)}
		if !o.AllowDuplicates {
			if err := fp.duplicateOf(prints); err != nil {
				return res, err
			}
		}
		prints = append(prints, fp)
	}
	d := newDataset(o.Bucket)
	for _, sh := range shards {
		d.absorb(sh)
	}
	d.finish(tt, hints)
	bulkFrom, bulkTo := d.findFar()
	if err := d.presort(ctx, workers); err != nil {
		return res, err
	}
	res.data = d
	res.Points = d.points
	res.Warnings = append(res.Warnings, nr.warnings...)
	res.issues = append(res.issues, nr.warnings...)
	res.strict = o.Strict
	if d.far > 0 {
		res.issue("%d sample(s) lie far outside the run (%s → %s), between %s and %s (a wrong clock?): windows leave them out, but the run's duration and counter rates include them unless --duration is given",
			d.far, bulkFrom.Format(time.RFC3339), bulkTo.Format(time.RFC3339),
			time.Unix(0, d.minT).UTC().Format(time.RFC3339), time.Unix(0, d.maxT).UTC().Format(time.RFC3339))
	}
	res.BadLines, res.BadLineCount = bad.kept, bad.count.Load()
	if d.points > 0 {
		res.Start, res.End = time.Unix(0, d.minT).UTC(), time.Unix(0, d.maxT).UTC()
	}
	res.Elapsed = o.Duration
	if res.Elapsed <= 0 {
		res.Elapsed = d.span()
	}

	if !o.NoScript {
		script, err := scriptThresholds(d)
		if err != nil {
			return res, err
		}
		srcs = append([]thresholdSrc{{"script", script}}, srcs...)
	}
	covered := map[string]bool{}
	for _, s := range srcs {
		for _, mt := range s.mts {
			covered[mt.Key] = true
		}
	}
	for _, n := range sortedKeys(d.info) {
		for _, sub := range d.info[n].Submetrics {
			// k6 adds {expected_response:true} itself, for its summary.
			if !covered[sub] && sub != metrics.ExpectedResponseSubmetric {
				res.Warnings = append(res.Warnings, fmt.Sprintf(
					"the script declared thresholds on %s, which k6 output does not record; pass them with --criteria to check them", sub))
			}
		}
	}
	res.srcs = srcs
	for _, s := range srcs {
		trs, err := evaluate(d, s, res.Elapsed, false, 0, 0)
		if err != nil {
			return res, err
		}
		res.Thresholds = append(res.Thresholds, trs...)
	}
	for _, tr := range res.Thresholds {
		if tr.NoData && tr.Error == "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s '%s' (%s): no samples, so it passes as in k6", tr.Key, tr.Expression, tr.Source))
		}
	}
	ms, err := summarize(d, res.Thresholds, res.Elapsed, res.TrendStats)
	if err != nil {
		return res, err
	}
	res.Metrics = ms
	return res, nil
}

// hintFor turns a threshold's aggregation into a type hint for inputs without Metric records.
func hintFor(k metrics.AggKind) metrics.MetricType {
	switch k {
	case metrics.AggValue:
		return metrics.Gauge
	case metrics.AggCount:
		return metrics.Counter
	case metrics.AggRate:
		return rateOrCounter
	}
	return metrics.Trend
}

// rateOrCounter is a hint: a "rate" threshold fits a rate or a counter.
const rateOrCounter metrics.MetricType = 200

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scriptThresholds collects the thresholds recorded in the files' Metric records.
func scriptThresholds(d *dataset) ([]metrics.MetricThresholds, error) {
	obj := map[string]json.RawMessage{}
	for _, n := range sortedKeys(d.info) {
		mi := d.info[n]
		if !d.declared[n] || len(bytes.TrimSpace(mi.Thresholds)) == 0 || string(mi.Thresholds) == "[]" || string(mi.Thresholds) == "null" {
			continue
		}
		obj[n] = mi.Thresholds
	}
	if len(obj) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	mts, err := metrics.ParseThresholdsJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("thresholds recorded in the input: %w", err)
	}
	return mts, nil
}

// evaluate checks every threshold of src against d (restricted to buckets [fromB, toB] when
// restrict is set).
func evaluate(d *dataset, src thresholdSrc, elapsed time.Duration, restrict bool, fromB, toB int64) ([]ThresholdResult, error) {
	var out []ThresholdResult
	for _, mt := range src.mts {
		s, err := d.sink(mt.Metric, mt.Submetric, restrict, fromB, toB)
		if err != nil {
			return nil, err
		}
		mi, known := d.info[mt.Metric]
		for _, th := range mt.Thresholds {
			tr := ThresholdResult{
				Metric: mt.Metric, Key: mt.Key, Expression: th.Source, Aggregation: th.Agg.String(),
				Op: th.Op.String(), Limit: th.Value, AbortOnFail: th.AbortOnFail, Source: src.source,
				agg: th.Agg,
			}
			if mt.HasSubmetric {
				tr.Submetric = mt.Submetric.Map()
			}
			if known {
				tr.contains = mi.Contains
				if err := th.Validate(mi.Type); err != nil {
					tr.Error = err.Error()
					tr.Pass = false
					out = append(out, tr)
					continue
				}
			}
			if s == nil {
				tr.Pass, tr.NoData = true, true
				out = append(out, tr)
				continue
			}
			obs, pass := th.Check(s, elapsed)
			tr.Pass = pass
			if !math.IsNaN(obs) {
				tr.Observed = &obs
			}
			out = append(out, tr)
		}
	}
	return out, nil
}

// summarize computes the summary values of every metric, and of every submetric that has
// a threshold.
func summarize(d *dataset, trs []ThresholdResult, elapsed time.Duration, trendStats []string) ([]MetricSummary, error) {
	var out []MetricSummary
	subs := map[string][]string{} // metric → submetric keys
	seen := map[string]bool{}
	for _, tr := range trs {
		if tr.Submetric != nil && !seen[tr.Key] {
			seen[tr.Key] = true
			subs[tr.Metric] = append(subs[tr.Metric], tr.Key)
		}
	}
	// k6's summary always shows http_req_duration{expected_response:true}.
	const expected = metrics.ExpectedResponseSubmetric
	if _, ok := d.info["http_req_duration"]; ok && !seen[expected] {
		seen[expected] = true
		subs["http_req_duration"] = append(subs["http_req_duration"], expected)
	}
	for n, mi := range d.info { // submetrics the files declare (k6 shows them in its summary)
		for _, k := range mi.Submetrics {
			if !seen[k] {
				seen[k] = true
				subs[n] = append(subs[n], k)
			}
		}
	}
	for _, n := range d.metricNames() {
		mi := d.info[n]
		keys := append([]string{n}, sortedStrings(subs[n])...)
		for _, k := range keys {
			_, sub, err := metrics.ParseMetricKey(k)
			if err != nil {
				return nil, err
			}
			s, err := d.sink(n, sub, false, 0, 0)
			if err != nil {
				return nil, err
			}
			if s == nil {
				continue
			}
			out = append(out, MetricSummary{
				Name: k, Type: mi.Type.String(), Contains: mi.Contains.String(), Samples: s.Count(),
				Values: s.Values(elapsed, trendStats), contains: mi.Contains, typ: mi.Type,
			})
		}
	}
	return out, nil
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
