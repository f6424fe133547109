package engine

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Output receives every sample of the run. The output package's writers implement it.
// AddSamples is called from one goroutine, with batches the output may keep (they are never
// reused); it should buffer and return quickly. Stop flushes and closes, returning their
// errors.
type Output interface {
	Start() error
	AddSamples(samples []metrics.Sample)
	Stop() error
}

const (
	// flushAt is the batch size at which a VU's buffer goes to the aggregator.
	flushAt = 512
	// sweepEvery is how often the aggregator collects partly filled VU buffers.
	sweepEvery = 200 * time.Millisecond
	// vusEvery is how often the vus and vus_max gauges are emitted (k6: every second).
	vusEvery = time.Second
	// thresholdsEvery is how often thresholds are evaluated during the run.
	thresholdsEvery = 2 * time.Second
	// inboxSize is the aggregator's queue of batches.
	inboxSize = 256
)

// vuBuffer is one VU's metrics.Pusher: samples accumulate under a per-VU (uncontended)
// lock and go to the aggregator in batches of flushAt.
type vuBuffer struct {
	mu  sync.Mutex
	buf []metrics.Sample
	p   *pipeline
	// hot is set when the buffer last filled up to flushAt: its next buffer is allocated
	// at full size. Idle VUs (swept before filling up) start small, to keep memory per
	// VU low with thousands of VUs.
	hot bool
	// swept is how many samples the last sweep took: a VU that pushes a steady stream
	// without filling up between sweeps gets its next buffer at that size at once, instead
	// of growing one from smallBuffer by append (a copy and a garbage slice per doubling).
	swept int
	// spare is the VU's last swept buffer, processed and emptied: its next buffer when it
	// fits (an idle VU's is dropped at the next sweep).
	spare []metrics.Sample
}

// smallBuffer is the initial capacity of an idle VU's buffer: an iteration with one request
// pushes 13 samples (9 HTTP, 4 iteration); busier ones grow it by append. Between sweeps a
// sleeping VU holds one such buffer (16 × 56 B).
const smallBuffer = 16

var _ metrics.Pusher = (*vuBuffer)(nil)

// Push implements metrics.Pusher. It blocks only while the aggregator's queue is full, and
// never past ctx or the pipeline's end: a batch that cannot be sent goes back to the buffer,
// where the aggregator's sweep finds it.
func (v *vuBuffer) Push(ctx context.Context, samples []metrics.Sample) {
	v.mu.Lock()
	if v.buf == nil {
		n := max(smallBuffer, roundPow2(v.swept+v.swept/4))
		if v.hot {
			n = flushAt + 32
		}
		if n = max(n, len(samples)); cap(v.spare) >= n {
			v.buf, v.spare = v.spare, nil
		} else {
			v.buf = v.p.buffer(n)
		}
	}
	v.buf = append(v.buf, samples...)
	if len(v.buf) < flushAt {
		v.mu.Unlock()
		return
	}
	batch := v.buf
	v.buf = nil
	v.hot = true
	v.mu.Unlock()
	select {
	case v.p.inbox <- batch:
		return
	case <-ctx.Done():
	case <-v.p.stopped:
	}
	v.mu.Lock()
	v.buf = append(batch, v.buf...)
	v.mu.Unlock()
}

// giveBack keeps a swept buffer, processed, as the VU's spare (or recycles it when no
// output may keep it: see pipeline.recycle).
func (v *vuBuffer) giveBack(b []metrics.Sample) {
	if len(v.p.outputs) > 0 || cap(b) <= smallBuffer {
		return
	}
	v.mu.Lock()
	if v.spare == nil {
		clear(b)
		v.spare = b[:0]
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	v.p.recycle(b)
}

// take returns the buffered samples and empties the buffer.
func (v *vuBuffer) take() []metrics.Sample {
	v.mu.Lock()
	b := v.buf
	v.buf = nil
	v.hot = false
	v.swept = min(len(b), flushAt+32)
	if len(b) == 0 {
		v.spare = nil // idle: keep nothing
	}
	v.mu.Unlock()
	return b
}

// subState is one submetric's sink.
type subState struct {
	key  string // "http_req_duration{name:infer}"
	tags metrics.TagSet
	sink metrics.Sink
	// lastTags and lastMatch memoise the match of the last tag set seen: consecutive
	// samples of a metric usually share their tags.
	lastTags  metrics.TagSet
	lastMatch bool
	seen      bool
}

// matches reports whether tags belong to the submetric.
func (s *subState) matches(tags metrics.TagSet) bool {
	if s.seen && tags == s.lastTags {
		return s.lastMatch
	}
	s.lastTags, s.lastMatch, s.seen = tags, tags.Contains(s.tags), true
	return s.lastMatch
}

// metricState is one metric's sink and its submetrics.
type metricState struct {
	m    *metrics.Metric
	sink metrics.Sink
	subs []*subState
}

// thresholdSet is the thresholds of one metric key with their last outcome.
type thresholdSet struct {
	mt       metrics.MetricThresholds
	failed   []bool
	observed []float64
}

// checkKey identifies a check: its scenario, group path and name.
type checkKey struct{ scenario, group, name string }

// allGroups is the scopeKey group of a scenario's own (all groups) sinks.
const allGroups = "\x00all"

// scopeKey identifies a sink of the full summary: a metric in a scenario, or in one group
// of a scenario.
type scopeKey struct {
	scenario, group string
	metric          *metrics.Metric
}

// checkCount counts a check's passes and fails, in order of first appearance.
type checkCount struct {
	key           checkKey
	passes, fails int64
}

// pipeline owns the aggregator goroutine: it folds batches into sinks per metric and
// submetric, counts checks per group, feeds the outputs, emits the vus gauges and
// evaluates thresholds. Everything below the mutex-free line is touched only by that
// goroutine (and by the engine after it has exited).
type pipeline struct {
	// runTags are the test's tags (options.tags, --tag), on the vus and vus_max samples.
	runTags metrics.TagSet
	inbox   chan []metrics.Sample
	// free are processed batches, emptied, for the VUs' next buffers (see recycle).
	free    chan []metrics.Sample
	stop    chan struct{} // closed by the engine: drain and exit
	stopped chan struct{} // closed by the aggregator when it has exited

	mu      sync.Mutex
	buffers []*vuBuffer

	reg     *metrics.Registry
	builtin *metrics.Builtin
	outputs []Output
	start   time.Time
	vus     func() (active, max int64)
	// initialVUs is the VU count planned at offset 0, reported by the first vus sample.
	initialVUs int64
	onAbort    func(keys []string) // abortOnFail fired (called once, from the aggregator)
	// thresholdsEvery is the live evaluation period.
	thresholdsEvery time.Duration
	aborted         bool
	subDefs         map[string][]*subState // metric name → submetric definitions (templates)
	states          []*metricState         // by Metric.ID
	thr             []*thresholdSet
	checks          []*checkCount
	checkIdx        map[checkKey]int
	// full enables the per-scenario and per-group sinks of --summary-mode=full.
	full   bool
	scoped map[scopeKey]metrics.Sink
	// observe, when set, receives every threshold evaluation.
	observe func(ThresholdsEvent)
	// asks are requests run on the aggregator's goroutine (a Control's live reads).
	asks chan func()
	// trackGroups enables the groups seen (groupSeen, groupPaths), for a Control.
	trackGroups bool
	groupSeen   map[string]bool
	groupPaths  []string
	lastGroup   metrics.TagSet
}

func newPipeline(reg *metrics.Registry, b *metrics.Builtin, outs []Output, ths []metrics.MetricThresholds,
	vus func() (int64, int64), onAbort func([]string)) *pipeline {
	p := &pipeline{
		runTags:         metrics.NewTagSet(nil),
		inbox:           make(chan []metrics.Sample, inboxSize),
		free:            make(chan []metrics.Sample, inboxSize),
		stop:            make(chan struct{}),
		stopped:         make(chan struct{}),
		reg:             reg,
		builtin:         b,
		outputs:         outs,
		vus:             vus,
		onAbort:         onAbort,
		subDefs:         map[string][]*subState{},
		checkIdx:        map[checkKey]int{},
		scoped:          map[scopeKey]metrics.Sink{},
		thresholdsEvery: thresholdsEvery,
		asks:            make(chan func()),
	}
	// k6 always summarises the expected responses' request durations.
	p.addSub("http_req_duration", metrics.ExpectedResponseSubmetric, metrics.TagsFromPairs(metrics.ExpectedResponseTag, "true"))
	for _, mt := range ths {
		p.thr = append(p.thr, &thresholdSet{mt: mt, failed: make([]bool, len(mt.Thresholds)), observed: make([]float64, len(mt.Thresholds))})
		if mt.HasSubmetric {
			p.addSub(mt.Metric, mt.Key, mt.Submetric)
		}
	}
	return p
}

func (p *pipeline) addSub(metric, key string, tags metrics.TagSet) {
	for _, s := range p.subDefs[metric] {
		if s.tags == tags {
			return
		}
	}
	p.subDefs[metric] = append(p.subDefs[metric], &subState{key: key, tags: tags})
}

// roundPow2 rounds n up to a power of two (so that recycled buffers fit other VUs).
func roundPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// recycle hands a processed batch back for a VU's next buffer (see buffer), emptied, unless an
// output may keep it. A busy VU then fills the same few slices over and over instead of
// one new slice per batch.
func (p *pipeline) recycle(b []metrics.Sample) {
	if len(p.outputs) > 0 || cap(b) <= smallBuffer {
		return
	}
	clear(b)
	select {
	case p.free <- b[:0]:
	default:
	}
}

// buffer returns an empty buffer for n samples: a recycled one that fits (not more than
// four times too big, so that idle VUs do not hold big ones), or a new one.
func (p *pipeline) buffer(n int) []metrics.Sample {
	if n > smallBuffer {
		select {
		case b := <-p.free:
			if cap(b) >= n && cap(b) <= 4*n {
				return b
			}
		default:
		}
	}
	return make([]metrics.Sample, 0, n)
}

// newBuffer returns a new VU's pusher, registered for sweeping.
func (p *pipeline) newBuffer() *vuBuffer {
	b := &vuBuffer{p: p}
	p.mu.Lock()
	p.buffers = append(p.buffers, b)
	p.mu.Unlock()
	return b
}

// run is the aggregator goroutine. It returns after stop is closed and every queued and
// buffered sample has been processed and the last thresholds evaluation done.
func (p *pipeline) run(start time.Time) {
	defer close(p.stopped)
	p.start = start
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	vusT := time.NewTicker(vusEvery)
	defer vusT.Stop()
	thrT := time.NewTicker(p.thresholdsEvery)
	defer thrT.Stop()
	if p.vus != nil {
		_, maxV := p.vus()
		p.process([]metrics.Sample{
			{Metric: p.builtin.VUs, Tags: p.runTags, Time: start, Value: float64(p.initialVUs)},
			{Metric: p.builtin.VUsMax, Tags: p.runTags, Time: start, Value: float64(maxV)},
		})
	}
	for {
		select {
		case b := <-p.inbox:
			p.process(b)
			p.recycle(b)
		case <-sweep.C:
			p.sweep()
		case now := <-vusT.C:
			p.emitVUs(now)
		case now := <-thrT.C:
			p.evaluate(now.Sub(p.start), true)
		case f := <-p.asks:
			f()
		case <-p.stop:
		drain:
			for {
				select {
				case b := <-p.inbox:
					p.process(b)
				default:
					break drain
				}
			}
			p.sweep()
			return
		}
	}
}

func (p *pipeline) sweep() {
	p.mu.Lock()
	bufs := p.buffers
	p.mu.Unlock()
	for _, b := range bufs {
		if s := b.take(); len(s) > 0 {
			p.process(s)
			b.giveBack(s)
		}
	}
}

func (p *pipeline) emitVUs(now time.Time) {
	if p.vus == nil {
		return
	}
	active, max := p.vus()
	p.process([]metrics.Sample{
		{Metric: p.builtin.VUs, Tags: p.runTags, Time: now, Value: float64(active)},
		{Metric: p.builtin.VUsMax, Tags: p.runTags, Time: now, Value: float64(max)},
	})
}

func (p *pipeline) state(m *metrics.Metric) *metricState {
	if m.ID >= len(p.states) {
		n := max(m.ID+1, p.reg.Len())
		p.states = append(p.states, make([]*metricState, n-len(p.states))...)
	}
	st := p.states[m.ID]
	if st == nil {
		st = &metricState{m: m, sink: metrics.NewSink(m.Type)}
		for _, d := range p.subDefs[m.Name] {
			st.subs = append(st.subs, &subState{key: d.key, tags: d.tags, sink: metrics.NewSink(m.Type)})
		}
		p.states[m.ID] = st
	}
	return st
}

// process folds one batch into the sinks and hands it to the outputs.
func (p *pipeline) process(batch []metrics.Sample) {
	var last *metrics.Metric
	var st *metricState
	for i := range batch {
		s := &batch[i]
		if s.Metric != last {
			st = p.state(s.Metric)
			last = s.Metric
		}
		st.sink.AddValue(s.Value, s.Time)
		for _, sub := range st.subs {
			if sub.matches(s.Tags) {
				sub.sink.AddValue(s.Value, s.Time)
			}
		}
		if s.Metric == p.builtin.Checks {
			p.countCheck(s)
		}
		if p.trackGroups && s.Tags != p.lastGroup {
			p.lastGroup = s.Tags
			if g, ok := s.Tags.Get("group"); ok {
				p.seeGroup(g)
			}
		}
		if p.full {
			p.addScoped(s)
		}
	}
	for _, o := range p.outputs {
		o.AddSamples(batch)
	}
}

// addScoped folds s into its scenario's sink and its scenario's group's sink.
func (p *pipeline) addScoped(s *metrics.Sample) {
	scen, ok := s.Tags.Get("scenario")
	if !ok {
		return
	}
	group, _ := s.Tags.Get("group")
	keys := [2]scopeKey{{scen, allGroups, s.Metric}, {scen, group, s.Metric}}
	n := 2
	if group == "" {
		n = 1
	}
	for _, k := range keys[:n] {
		sink := p.scoped[k]
		if sink == nil {
			sink = metrics.NewSink(s.Metric.Type)
			p.scoped[k] = sink
		}
		sink.AddValue(s.Value, s.Time)
	}
}

func (p *pipeline) countCheck(s *metrics.Sample) {
	name, _ := s.Tags.Get("check")
	group, _ := s.Tags.Get("group")
	scen, _ := s.Tags.Get("scenario")
	k := checkKey{scen, group, name}
	i, ok := p.checkIdx[k]
	if !ok {
		i = len(p.checks)
		p.checkIdx[k] = i
		p.checks = append(p.checks, &checkCount{key: k})
	}
	if s.Value != 0 {
		p.checks[i].passes++
	} else {
		p.checks[i].fails++
	}
}

// sinkFor returns the sink of a threshold key (nil when the metric got no samples).
func (p *pipeline) sinkFor(mt metrics.MetricThresholds) metrics.Sink {
	m := p.reg.Get(mt.Metric)
	if m == nil || m.ID >= len(p.states) || p.states[m.ID] == nil {
		return nil
	}
	st := p.states[m.ID]
	if !mt.HasSubmetric {
		return st.sink
	}
	for _, s := range st.subs {
		if s.tags == mt.Submetric {
			return s.sink
		}
	}
	return nil
}

// evaluate checks every threshold; during the run (live) a failing abortOnFail threshold
// past its delayAbortEval calls onAbort once.
func (p *pipeline) evaluate(elapsed time.Duration, live bool) {
	var abortKeys []string
	for _, ts := range p.thr {
		sink := p.sinkFor(ts.mt)
		for i, th := range ts.mt.Thresholds {
			obs, pass := th.Check(sink, elapsed)
			ts.observed[i] = obs
			ts.failed[i] = !pass
			if live && !pass && th.AbortOnFail && elapsed >= th.DelayAbortEval {
				abortKeys = append(abortKeys, ts.mt.Key)
			}
		}
	}
	if p.observe != nil {
		ev := ThresholdsEvent{Elapsed: elapsed, Final: !live}
		for _, ts := range p.thr {
			for i, th := range ts.mt.Thresholds {
				ev.Thresholds = append(ev.Thresholds, ThresholdResult{
					Key: ts.mt.Key, Source: th.Source, Agg: th.Agg.String(), OK: !ts.failed[i],
					Observed: ts.observed[i], AbortOnFail: th.AbortOnFail,
				})
			}
		}
		p.observe(ev)
	}
	if len(abortKeys) > 0 && !p.aborted && p.onAbort != nil {
		p.aborted = true
		p.onAbort(dedupe(abortKeys))
	}
}

// failedKeys returns the sorted keys with at least one crossed threshold.
func (p *pipeline) failedKeys() []string {
	var out []string
	for _, ts := range p.thr {
		for _, f := range ts.failed {
			if f {
				out = append(out, ts.mt.Key)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// seeGroup records a group path and its ancestors ("::a::b" after "::a", after the root).
func (p *pipeline) seeGroup(path string) {
	if p.groupSeen == nil {
		p.groupSeen = map[string]bool{"": true}
		p.groupPaths = []string{""}
	}
	if p.groupSeen[path] {
		return
	}
	if i := strings.LastIndex(path, "::"); i > 0 {
		p.seeGroup(path[:i])
	}
	p.groupSeen[path] = true
	p.groupPaths = append(p.groupPaths, path)
}

// groupsSnapshot copies the groups seen and the checks' counts.
func (p *pipeline) groupsSnapshot() GroupsSnapshot {
	g := GroupsSnapshot{Paths: []string{""}}
	if len(p.groupPaths) > 0 {
		g.Paths = slices.Clone(p.groupPaths)
	}
	for _, c := range p.checks {
		g.Checks = append(g.Checks, CheckResult{Scenario: c.key.scenario, Group: c.key.group, Name: c.key.name, Passes: c.passes, Fails: c.fails})
	}
	return g
}

// metricResults are every metric of reg in registration order, each followed by its
// submetrics, with their sinks (copies with clone; nil when a key got no samples) and the
// thresholds' last outcomes. Only the aggregator (or the engine once it exited) calls it.
func (p *pipeline) metricResults(reg *metrics.Registry, clone bool) []MetricResult {
	thr := map[string][]ThresholdResult{}
	for _, ts := range p.thr {
		for i, t := range ts.mt.Thresholds {
			thr[ts.mt.Key] = append(thr[ts.mt.Key], ThresholdResult{
				Key: ts.mt.Key, Source: t.Source, Agg: t.Agg.String(), OK: !ts.failed[i],
				Observed: ts.observed[i], AbortOnFail: t.AbortOnFail,
			})
		}
	}
	var out []MetricResult
	add := func(key string, m *metrics.Metric, sink metrics.Sink) {
		if sink != nil && clone {
			c := metrics.NewSink(m.Type)
			_ = c.Merge(sink) // same type by construction
			sink = c
		}
		out = append(out, MetricResult{Key: key, Metric: m, Sink: sink, Thresholds: thr[key]})
	}
	for _, m := range reg.All() {
		var st *metricState
		if m.ID < len(p.states) {
			st = p.states[m.ID]
		}
		if st == nil {
			add(m.Name, m, nil)
			for _, def := range p.subDefs[m.Name] {
				add(def.key, m, nil)
			}
			continue
		}
		add(m.Name, m, st.sink)
		for _, sub := range st.subs {
			add(sub.key, m, sub.sink)
		}
	}
	return out
}
