package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
)

// acc accumulates the samples of one series (metric + tag set [+ time bucket]) before the
// metric's type is necessarily known: it keeps what every sink type needs, and the values
// themselves while the metric may be a trend. toSink turns it into the metrics package's
// sink, which owns every statistic.
type acc struct {
	n       uint64
	sum     float64
	nonzero uint64
	min     float64
	max     float64
	last    float64
	lastT   int64
	// The values, in chunks so that growing never copies them: full chunks, then cur.
	chunks  [][]float64
	cur     []float64
	dropped bool // values are not kept (the metric is known not to be a trend)
}

const maxChunk = 1 << 16

// eachChunk calls fn with every chunk of values.
func (a *acc) eachChunk(fn func([]float64)) {
	for _, c := range a.chunks {
		fn(c)
	}
	if len(a.cur) > 0 {
		fn(a.cur)
	}
}

func (a *acc) nValues() int {
	n := len(a.cur)
	for _, c := range a.chunks {
		n += len(c)
	}
	return n
}

func (a *acc) add(v float64, t int64) {
	if a.n == 0 {
		a.min, a.max, a.last, a.lastT = v, v, v, t
	} else {
		if v < a.min {
			a.min = v
		}
		if v > a.max {
			a.max = v
		}
		if t >= a.lastT {
			a.last, a.lastT = v, t
		}
	}
	a.n++
	a.sum += v
	if v != 0 {
		a.nonzero++
	}
	if !a.dropped {
		if len(a.cur) == cap(a.cur) {
			next := min(max(2*cap(a.cur), 256), maxChunk)
			if len(a.cur) > 0 {
				a.chunks = append(a.chunks, a.cur)
			}
			a.cur = make([]float64, 0, next)
		}
		a.cur = append(a.cur, v)
	}
}

func (a *acc) dropValues() { a.chunks, a.cur, a.dropped = nil, nil, true }

func (a *acc) merge(o *acc) {
	if o.n == 0 {
		return
	}
	if a.n == 0 {
		a.min, a.max, a.last, a.lastT = o.min, o.max, o.last, o.lastT
	} else {
		a.min = math.Min(a.min, o.min)
		a.max = math.Max(a.max, o.max)
		if o.lastT > a.lastT || (o.lastT == a.lastT && o.last > a.last) {
			a.last, a.lastT = o.last, o.lastT
		}
	}
	a.n += o.n
	a.sum += o.sum
	a.nonzero += o.nonzero
	if a.dropped || o.dropped {
		a.dropValues()
	} else {
		a.chunks = append(a.chunks, o.chunks...)
		if len(o.cur) > 0 {
			a.chunks = append(a.chunks, o.cur)
		}
	}
}

// addTo folds the accumulator into s, a sink from metrics.NewSink of the metric's type.
func (a *acc) addTo(s metrics.Sink) error {
	if a.n == 0 {
		return nil
	}
	switch k := s.(type) {
	case *metrics.CounterSink:
		return k.Merge(&metrics.CounterSink{Sum: a.sum, N: a.n})
	case *metrics.GaugeSink:
		return k.Merge(&metrics.GaugeSink{Last: a.last, LastTime: time.Unix(0, a.lastT), Min: a.min, Max: a.max, N: a.n})
	case *metrics.RateSink:
		return k.Merge(&metrics.RateSink{Passes: a.nonzero, Total: a.n})
	case *metrics.TrendSink:
		if a.dropped {
			return fmt.Errorf("trend values were not kept")
		}
		a.eachChunk(k.AddValues)
		return nil
	}
	return fmt.Errorf("unknown sink %T", s)
}

// metricInfo is what a Metric record (or a built-in definition) says about a metric.
type metricInfo struct {
	Type       metrics.MetricType
	Contains   metrics.ValueType
	Thresholds json.RawMessage // as in the record: a JSON array
	Submetrics []string        // names of the submetrics declared by the script
}

// typeTable is shared by the parsing workers: metric types learnt from Metric records.
type typeTable struct {
	mu       sync.RWMutex
	types    map[string]metricInfo
	declared map[string]bool // metrics that had a Metric record
}

func newTypeTable() *typeTable {
	tt := &typeTable{types: map[string]metricInfo{}, declared: map[string]bool{}}
	r := metrics.NewRegistry()
	metrics.RegisterBuiltin(r)
	for _, m := range r.All() {
		tt.types[m.Name] = metricInfo{Type: m.Type, Contains: m.Contains}
	}
	return tt
}

func (tt *typeTable) get(name string) (metricInfo, bool) {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	mi, ok := tt.types[name]
	return mi, ok
}

// fromRecord records a Metric record. A record always wins over a built-in default; a second
// record of the same metric (another file) merges its thresholds and submetrics.
func (tt *typeTable) fromRecord(name string, mi metricInfo) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	old, ok := tt.types[name]
	if ok && tt.declared[name] {
		mi.Submetrics = appendUnique(old.Submetrics, mi.Submetrics...)
		if len(mi.Thresholds) == 0 || string(mi.Thresholds) == "[]" {
			mi.Thresholds = old.Thresholds
		}
	}
	tt.declared[name] = true
	tt.types[name] = mi
}

func appendUnique(dst []string, src ...string) []string {
	for _, s := range src {
		found := false
		for _, d := range dst {
			if d == s {
				found = true
				break
			}
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// seriesKey identifies a series inside one shard.
type seriesKey struct {
	metric int32
	tags   int32
	bucket int64
}

type localMetric struct {
	name    string
	typ     metrics.MetricType // 0 while unknown
	unknown int                // adds since the shared table was last asked
	series  []*acc             // every series of this metric, for dropping values

	instanceGauge bool // vus or vus_max: kept per instance with --instances

	fp fingerprint // the samples of the file being read (duplicate inputs)
}

// shard is the per-worker aggregation state. It needs no locks; shards merge at the end.
type shard struct {
	tt       *typeTable
	bucketNs int64 // 0: no time buckets

	names   map[string]int32
	metrics []localMetric
	tagIdx  map[string]int32 // raw tags JSON → index
	setIdx  map[metrics.TagSet]int32
	tagSets []metrics.TagSet
	series  map[seriesKey]*acc

	// one-entry caches: consecutive lines often share the tags of one request
	lastTagsRaw []byte
	lastTags    int32
	nameCache   [64]nameEntry // direct-mapped metric name cache, cheaper than the map

	// grid[tags][metric] is the series without time buckets (a slice lookup, not a map).
	grid [][]*acc

	// instanceTags >= 0 (--instances): samples of the vus and vus_max gauges get the tag set
	// {__instance: N} of the file being read, so that each instance's gauge stays apart.
	instanceTags int32

	points     uint64
	minT, maxT int64

	// minutes counts the samples of each minute (to find samples far outside the run);
	// curMin caches the counter of the minute [curLo, curLo+1 min) of the last sample.
	minutes map[int64]*uint64
	curMin  *uint64
	curLo   int64
}

func newShard(tt *typeTable, bucket time.Duration) *shard {
	return &shard{
		tt: tt, bucketNs: int64(bucket),
		names: map[string]int32{}, tagIdx: map[string]int32{}, setIdx: map[metrics.TagSet]int32{},
		series: map[seriesKey]*acc{}, lastTags: -1, instanceTags: -1, minT: math.MaxInt64, maxT: math.MinInt64,
	}
}

type nameEntry struct {
	name string
	idx  int32
}

func (sh *shard) metricIndex(name []byte) int32 {
	n := len(name)
	if n == 0 {
		return sh.lookupMetric(name)
	}
	e := &sh.nameCache[(n*7+int(name[n-1])*3+int(name[n/2]))&63]
	if e.name == string(name) && e.name != "" {
		return e.idx
	}
	i := sh.lookupMetric(name)
	e.name, e.idx = sh.metrics[i].name, i
	return i
}

func (sh *shard) lookupMetric(name []byte) int32 {
	if i, ok := sh.names[string(name)]; ok {
		return i
	}
	return sh.newMetric(name)
}

func (sh *shard) newMetric(name []byte) int32 {
	n := string(name)
	i := int32(len(sh.metrics))
	lm := localMetric{name: n, instanceGauge: n == "vus" || n == "vus_max"}
	if mi, ok := sh.tt.get(n); ok {
		lm.typ = mi.Type
	}
	sh.metrics = append(sh.metrics, lm)
	sh.names[n] = i
	return i
}

func (sh *shard) internSet(ts metrics.TagSet) int32 {
	if i, ok := sh.setIdx[ts]; ok {
		return i
	}
	i := int32(len(sh.tagSets))
	sh.tagSets = append(sh.tagSets, ts)
	sh.setIdx[ts] = i
	return i
}

// tagsIndex interns a raw JSON tags object.
func (sh *shard) tagsIndex(raw []byte) (int32, error) {
	if sh.lastTags >= 0 && string(raw) == string(sh.lastTagsRaw) {
		return sh.lastTags, nil
	}
	i, ok := sh.tagIdx[string(raw)]
	if !ok {
		ts, err := k6file.DecodeTags(raw)
		if err != nil {
			return 0, err
		}
		i = sh.internSet(ts)
		sh.tagIdx[string(raw)] = i
	}
	sh.lastTagsRaw = append(sh.lastTagsRaw[:0], raw...)
	sh.lastTags = i
	return i, nil
}

// add folds one sample in.
func (sh *shard) add(metric, tags int32, t int64, v float64) {
	if math.IsNaN(v) {
		return
	}
	if sh.instanceTags >= 0 && sh.metrics[metric].instanceGauge {
		tags = sh.instanceTags
	}
	var a *acc
	if sh.bucketNs == 0 {
		for int(tags) >= len(sh.grid) {
			sh.grid = append(sh.grid, nil)
		}
		row := sh.grid[tags]
		if int(metric) < len(row) {
			a = row[metric]
		}
		if a == nil {
			a = sh.newSeries(seriesKey{metric, tags, 0})
			for int(metric) >= len(row) {
				row = append(row, nil)
			}
			row[metric] = a
			sh.grid[tags] = row
		}
	} else {
		k := seriesKey{metric, tags, floorDiv(t, sh.bucketNs)}
		if a = sh.series[k]; a == nil {
			a = sh.newSeries(k)
		}
	}
	lm := &sh.metrics[metric]
	lm.fp.add(t, v)
	if lm.typ == 0 {
		lm.unknown++
		if lm.unknown >= 512 {
			lm.unknown = 0
			sh.refreshType(metric)
		}
	}
	a.add(v, t)
	if sh.curMin == nil || t < sh.curLo || uint64(t-sh.curLo) >= uint64(minuteNs) {
		sh.countMinute(t)
	}
	*sh.curMin++
	sh.points++
	if t < sh.minT {
		sh.minT = t
	}
	if t > sh.maxT {
		sh.maxT = t
	}
}

const minuteNs = int64(time.Minute)

// countMinute points curMin at the counter of t's minute.
func (sh *shard) countMinute(t int64) {
	m := floorDiv(t, minuteNs)
	if sh.minutes == nil {
		sh.minutes = map[int64]*uint64{}
	}
	c := sh.minutes[m]
	if c == nil {
		c = new(uint64)
		sh.minutes[m] = c
	}
	sh.curMin, sh.curLo = c, m*minuteNs
}

func (sh *shard) newSeries(k seriesKey) *acc {
	a := &acc{}
	lm := &sh.metrics[k.metric]
	if lm.typ != 0 && lm.typ != metrics.Trend {
		a.dropped = true
	}
	sh.series[k] = a
	if lm.typ == 0 {
		lm.series = append(lm.series, a)
	}
	return a
}

// instanceTag is the tag that keeps the vus gauges of several instances apart.
const instanceTag = "__instance"

// setInstance makes the following samples of vus and vus_max belong to instance i (i < 0:
// no instances).
func (sh *shard) setInstance(i int) {
	if i < 0 {
		sh.instanceTags = -1
		return
	}
	sh.instanceTags = sh.internSet(metrics.TagsFromPairs(instanceTag, strconv.Itoa(i)))
}

// refreshType asks the shared table for a metric whose type was unknown, and stops keeping
// values once it is known not to be a trend.
func (sh *shard) refreshType(metric int32) {
	lm := &sh.metrics[metric]
	mi, ok := sh.tt.get(lm.name)
	if !ok {
		return
	}
	lm.typ = mi.Type
	if mi.Type != metrics.Trend {
		for _, a := range lm.series {
			a.dropValues()
		}
	}
	lm.series = nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// globalKey identifies a series across shards.
type globalKey struct {
	metric string
	tags   metrics.TagSet
	bucket int64
}

// dataset is the merged result of reading every input.
type dataset struct {
	series     map[globalKey]*acc
	info       map[string]metricInfo // every metric with samples or a record
	declared   map[string]bool       // metrics that had a Metric record
	points     uint64
	minT, maxT int64
	minutes    map[int64]uint64 // samples per minute
	// keepFrom, keepTo bound the samples that are not far outside the run (windows leave the
	// others out); far counts the others.
	keepFrom, keepTo int64
	far              uint64
	bucketNs         int64
	sinks            map[sinkKey]metrics.Sink // cache: a trend is copied and sorted once
	byMetric         map[string][]seriesEntry // index of series, built on first use after reading
}

type seriesEntry struct {
	key globalKey
	a   *acc
}

// seriesOf returns the series of one metric. The index is built once; it must not be used
// before every shard has been absorbed.
func (d *dataset) seriesOf(name string) []seriesEntry {
	if d.byMetric == nil {
		d.byMetric = map[string][]seriesEntry{}
		for k, a := range d.series {
			d.byMetric[k.metric] = append(d.byMetric[k.metric], seriesEntry{k, a})
		}
	}
	return d.byMetric[name]
}

type sinkKey struct {
	metric   string
	sub      metrics.TagSet
	restrict bool
	from, to int64
}

func newDataset(bucket time.Duration) *dataset {
	return &dataset{series: map[globalKey]*acc{}, info: map[string]metricInfo{}, declared: map[string]bool{}, minutes: map[int64]uint64{},
		minT: math.MaxInt64, maxT: math.MinInt64, bucketNs: int64(bucket), sinks: map[sinkKey]metrics.Sink{}}
}

func (d *dataset) absorb(sh *shard) {
	for k, a := range sh.series {
		gk := globalKey{sh.metrics[k.metric].name, sh.tagSets[k.tags], k.bucket}
		if g := d.series[gk]; g != nil {
			g.merge(a)
		} else {
			d.series[gk] = a
		}
	}
	d.points += sh.points
	for m, c := range sh.minutes {
		d.minutes[m] += *c
	}
	d.minT = min(d.minT, sh.minT)
	d.maxT = max(d.maxT, sh.maxT)
}

// finish fixes each metric's type (from records, built-ins, or inference for CSV input) and
// drops the values of non-trend series.
func (d *dataset) finish(tt *typeTable, hints map[string]metrics.MetricType) {
	names := map[string]bool{}
	for k := range d.series {
		names[k.metric] = true
	}
	tt.mu.RLock()
	for n := range tt.declared {
		d.declared[n] = true
	}
	for n, mi := range tt.types {
		if d.declared[n] || names[n] {
			d.info[n] = mi
		}
	}
	tt.mu.RUnlock()
	for n := range names {
		if _, ok := d.info[n]; ok {
			continue
		}
		if def, ok := pixelmetrics.Lookup(n); ok { // the pixel contract, not a guess
			d.info[n] = metricInfo{Type: def.Type, Contains: def.Contains}
			continue
		}
		d.info[n] = metricInfo{Type: d.inferType(n, hints), Contains: inferContains(n)}
	}
	for k, a := range d.series {
		if d.info[k.metric].Type != metrics.Trend {
			a.dropValues()
		}
	}
}

// inferType guesses the type of a metric that no record declared (CSV input) and that is
// not a pixel metric (those take their type from package pixelmetrics): a hint from a
// threshold's aggregation, then the values: all 0/1 with a
// rate-like name → rate; all integers → counter; otherwise trend.
func (d *dataset) inferType(name string, hints map[string]metrics.MetricType) metrics.MetricType {
	hint, hinted := hints[name]
	if hinted && hint != rateOrCounter {
		return hint
	}
	if inferContains(name) == metrics.Time {
		return metrics.Trend
	}
	allBinary, allInt := true, true
	for _, e := range d.seriesOf(name) {
		e.a.eachChunk(func(vs []float64) {
			for _, v := range vs {
				if v != 0 && v != 1 {
					allBinary = false
				}
				if v != math.Trunc(v) {
					allInt = false
				}
			}
		})
	}
	switch {
	case allBinary && (rateLikeName(name) || hinted):
		return metrics.Rate
	case allInt:
		return metrics.Counter
	}
	return metrics.Trend
}

func rateLikeName(n string) bool {
	for _, s := range []string{"rate", "failed", "success", "errors", "ok"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

func inferContains(n string) metrics.ValueType {
	for _, s := range []string{"latency", "duration", "_time", "_ms"} {
		if strings.Contains(n, s) {
			return metrics.Time
		}
	}
	return metrics.Default
}

// metricNames returns the metrics that have samples, sorted.
func (d *dataset) metricNames() []string {
	seen := map[string]bool{}
	for k := range d.series {
		seen[k.metric] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// sink returns the merged sink of metric name restricted to series whose tags contain sub,
// and to buckets in [fromB, toB] when restrict is set. nil when the metric has no samples.
// Sinks are cached; callers must not add to them.
func (d *dataset) sink(name string, sub metrics.TagSet, restrict bool, fromB, toB int64) (metrics.Sink, error) {
	if !restrict {
		fromB, toB = 0, 0
	}
	k := sinkKey{name, sub, restrict, fromB, toB}
	if s, ok := d.sinks[k]; ok {
		return s, nil
	}
	s, err := d.buildSink(name, sub, restrict, fromB, toB)
	if err == nil {
		d.sinks[k] = s
	}
	return s, err
}

func (d *dataset) buildSink(name string, sub metrics.TagSet, restrict bool, fromB, toB int64) (metrics.Sink, error) {
	mi, ok := d.info[name]
	if !ok {
		return nil, nil
	}
	s := metrics.NewSink(mi.Type)
	if ts, ok := s.(*metrics.TrendSink); ok {
		n := 0
		for _, e := range d.seriesOf(name) {
			if e.key.tags.Contains(sub) && (!restrict || (e.key.bucket >= fromB && e.key.bucket <= toB)) {
				n += e.a.nValues()
			}
		}
		ts.Grow(n)
	}
	if mi.Type == metrics.Gauge {
		if g, ok, err := d.instanceGauge(name, sub, restrict, fromB, toB); ok || err != nil {
			return g, err
		}
	}
	any := false
	for _, e := range d.seriesOf(name) {
		if !e.key.tags.Contains(sub) || (restrict && (e.key.bucket < fromB || e.key.bucket > toB)) {
			continue
		}
		if err := e.a.addTo(s); err != nil {
			return nil, fmt.Errorf("metric %q: %w", name, err)
		}
		any = true
	}
	if !any {
		return nil, nil
	}
	return s, nil
}

// instanceGauge sums a gauge kept per instance (--instances): value, min and max are the
// sums of the instances' values, minima and maxima (exact when the instances follow one
// schedule, as execution segments do). ok is false when the gauge has no instance series.
func (d *dataset) instanceGauge(name string, sub metrics.TagSet, restrict bool, fromB, toB int64) (metrics.Sink, bool, error) {
	per := map[string]*metrics.GaugeSink{}
	for _, e := range d.seriesOf(name) {
		k, a := e.key, e.a
		inst, ok := k.tags.Get(instanceTag)
		if !ok || !k.tags.Contains(sub) || (restrict && (k.bucket < fromB || k.bucket > toB)) {
			continue
		}
		g := per[inst]
		if g == nil {
			g = &metrics.GaugeSink{}
			per[inst] = g
		}
		if err := a.addTo(g); err != nil {
			return nil, false, err
		}
	}
	if len(per) == 0 {
		return nil, false, nil
	}
	sum := &metrics.GaugeSink{}
	for _, g := range per {
		sum.Last += g.Last
		sum.Min += g.Min
		sum.Max += g.Max
		sum.N += g.N
		if g.LastTime.After(sum.LastTime) {
			sum.LastTime = g.LastTime
		}
	}
	return sum, true, nil
}

// presort builds the whole-metric sink of every trend and sorts them on n goroutines.
func (d *dataset) presort(ctx context.Context, n int) error {
	var trends []*metrics.TrendSink
	for _, name := range d.metricNames() {
		if d.info[name].Type != metrics.Trend {
			continue
		}
		s, err := d.sink(name, metrics.TagSet{}, false, 0, 0)
		if err != nil {
			return err
		}
		if ts, ok := s.(*metrics.TrendSink); ok {
			trends = append(trends, ts)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(n, 1))
	for _, ts := range trends {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			ts.Sorted()
			return nil
		})
	}
	return g.Wait()
}

// span is the time from the first to the last sample.
func (d *dataset) span() time.Duration {
	if d.points == 0 || d.maxT < d.minT {
		return 0
	}
	return time.Duration(d.maxT - d.minT)
}
