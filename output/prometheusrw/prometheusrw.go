// Package prometheusrw owns --out experimental-prometheus-rw: k6's Prometheus remote-write
// output. Every push interval it sends the series that got samples, as the Prometheus
// project's own remote-write types (prompb.WriteRequest, snappy-compressed protobuf), with
// k6's mapping: every name starts with k6_; a counter is k6_NAME_total (its running total),
// a gauge k6_NAME (its last value), a rate k6_NAME_rate (the running fraction of non-zero
// values), and a trend either one gauge per trend stat, k6_NAME_STAT (p(99) → p99, in
// seconds for time metrics), or with K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM a native
// histogram k6_NAME_seconds (client_golang's, bucket factor 1.1). Values are cumulative
// over the run, so a failed push loses a point of the graph, not the totals. Sending is
// package push's: retried with back-off, never blocking the test, dropped points reported.
package prometheusrw

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output/push"
)

// Output is the Prometheus remote-write output.
type Output struct {
	cfg    Config
	client *http.Client
	pusher *push.Pusher
	warn   func(string)

	// series is the running state of every series seen; the accumulator, which push calls
	// under its lock, and Stop (after the pusher stopped) are its only users.
	series map[metrics.TimeSeries]*series
	stats  []trendStat
}

// trendStat is one K6_PROMETHEUS_RW_TREND_STATS entry: the name suffix and its value.
type trendStat struct {
	suffix string
	count  bool // a count is not converted to seconds
	value  func(*metrics.TrendSink) float64
}

// series is one k6 time series' running aggregate.
type series struct {
	metric *metrics.Metric
	labels []prompb.Label // sorted, __name__ without its suffix
	sink   metrics.Sink
	hist   prometheus.Histogram // native histogram trends
	latest int64                // ms of the newest sample
	sent   int64                // ms of the last point prepared (-1: none)
}

// New returns the output; arg (the --out argument) is the server URL when not empty.
func New(arg string, env map[string]string, warn func(string)) (*Output, error) {
	cfg, err := ParseConfig(arg, env)
	if err != nil {
		return nil, err
	}
	if warn == nil {
		warn = func(string) {}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.InsecureSkipTLSVerify, MinVersion: tls.VersionTLS13} //nolint:gosec // the user asked for it
	if cfg.TLSMinVersion == "1.2" {
		tr.TLSClientConfig.MinVersion = tls.VersionTLS12
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("K6_PROMETHEUS_RW_CLIENT_CERTIFICATE: %w", err)
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	}
	o := &Output{cfg: cfg, client: &http.Client{Transport: tr}, warn: warn, series: map[metrics.TimeSeries]*series{}}
	for _, st := range cfg.TrendStats {
		o.stats = append(o.stats, newTrendStat(st))
	}
	// The series are cumulative and bounded by their number: nothing is dropped unsent.
	o.pusher = push.New(push.Config{Name: "experimental-prometheus-rw", Interval: cfg.PushInterval, Concurrency: 1,
		Acc: &accumulator{o: o, dirty: map[*series]struct{}{}}, MaxPending: -1, Warn: warn})
	return o, nil
}

func newTrendStat(st string) trendStat {
	switch st {
	case "sum":
		return trendStat{suffix: "sum", value: func(t *metrics.TrendSink) float64 {
			s := 0.0
			for _, v := range t.Sorted() {
				s += v
			}
			return s
		}}
	case "count":
		return trendStat{suffix: "count", count: true, value: func(t *metrics.TrendSink) float64 { return float64(t.Count()) }}
	}
	a, _ := metrics.ParseAggregation(st) // validated by ParseConfig
	suffix := st
	if a.Kind == metrics.AggPercentile {
		suffix = "p" + strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(st, "p("), ")"), ".", "")
	}
	return trendStat{suffix: suffix, value: func(t *metrics.TrendSink) float64 { v, _ := t.Aggregate(a, 0); return v }}
}

// Config returns the configuration.
func (o *Output) Config() Config { return o.cfg }

// Start starts the flusher.
func (o *Output) Start() error {
	o.pusher.Start()
	return nil
}

// AddSamples buffers samples.
func (o *Output) AddSamples(samples []metrics.Sample) { o.pusher.AddSamples(samples) }

// Stop sends what is left, the stale markers when asked for, and reports dropped points
// as a warning; a failing server is no error of the test.
func (o *Output) Stop() error {
	st := o.pusher.Stop()
	if o.cfg.StaleMarkers && len(o.series) > 0 {
		r := o.request(o.staleMarkers(time.Now()))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.Send(ctx); err != nil {
			st.Dropped += int64(r.points)
			st.LastErr = "stale markers: " + err.Error()
		} else {
			st.Written += int64(r.points)
		}
		cancel()
	}
	if msg := st.Report("experimental-prometheus-rw"); msg != "" {
		o.warn(msg)
	}
	o.client.CloseIdleConnections()
	return nil
}

// Stats returns what the output wrote and dropped so far (without the stale markers).
func (o *Output) Stats() push.Stats { return o.pusher.Stats() }

// accumulator is the Output's push.Accumulator: Add folds samples into the running
// series, Take makes the write request of the series that got samples, each at the time
// of its newest sample, or 1 ms after its previous point when that is later (Prometheus
// takes one value per series and timestamp).
type accumulator struct {
	o       *Output
	dirty   map[*series]struct{}
	pending int
}

func (a *accumulator) Add(batch []metrics.Sample) int {
	o := a.o
	for _, s := range batch {
		ser := o.series[s.Series()]
		if ser == nil {
			ser = o.newSeries(s.Series())
			o.series[s.Series()] = ser
		}
		ser.latest = max(ser.latest, s.Time.UnixMilli())
		a.dirty[ser] = struct{}{}
		if ser.hist != nil {
			ser.hist.Observe(inBaseUnit(s.Metric, s.Value))
		} else {
			ser.sink.Add(s)
		}
	}
	a.pending += len(batch)
	return a.pending
}

func (a *accumulator) Take() push.Request {
	if len(a.dirty) == 0 {
		return nil
	}
	var ts []prompb.TimeSeries
	for ser := range a.dirty {
		ser.sent = max(ser.latest, ser.sent+1)
		ts = append(ts, a.o.mapSeries(ser, ser.sent)...)
	}
	clear(a.dirty)
	a.pending = 0
	return a.o.request(ts)
}

func (o *Output) newSeries(key metrics.TimeSeries) *series {
	ser := &series{metric: key.Metric, labels: o.labels(key), sent: -1}
	if key.Metric.Type == metrics.Trend && o.cfg.TrendAsNativeHistogram {
		ser.hist = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "k6", NativeHistogramBucketFactor: 1.1})
	} else {
		ser.sink = metrics.NewSink(key.Metric.Type)
	}
	return ser
}

// labels are the series' tags (empty values left out, names made valid Prometheus label
// names), the static labels that the tags do not override, and __name__ = k6_NAME, sorted.
func (o *Output) labels(key metrics.TimeSeries) []prompb.Label {
	var ls []prompb.Label
	have := map[string]bool{}
	key.Tags.Each(func(k, v string) bool {
		k = labelName(k)
		if v != "" && k != "__name__" && !have[k] {
			ls = append(ls, prompb.Label{Name: k, Value: v})
			have[k] = true
		}
		return true
	})
	for k, v := range o.cfg.Labels {
		if k = labelName(k); !have[k] {
			ls = append(ls, prompb.Label{Name: k, Value: v})
		}
	}
	ls = append(ls, prompb.Label{Name: "__name__", Value: "k6_" + key.Metric.Name})
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// labelName makes k a valid Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
func labelName(k string) string {
	b := []byte(k)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// withSuffix copies labels with "_"+suffix added to __name__.
func withSuffix(labels []prompb.Label, suffix string) []prompb.Label {
	out := make([]prompb.Label, len(labels))
	copy(out, labels)
	if suffix != "" {
		for i := range out {
			if out[i].Name == "__name__" {
				out[i].Value += "_" + suffix
			}
		}
	}
	return out
}

// baseUnit is the Prometheus unit suffix of a metric's values.
func baseUnit(m *metrics.Metric) string {
	switch m.Contains {
	case metrics.Time:
		return "seconds"
	case metrics.Data:
		return "bytes"
	}
	return ""
}

// inBaseUnit converts a time value from ms to s (Prometheus's base unit).
func inBaseUnit(m *metrics.Metric, v float64) float64 {
	if m.Contains == metrics.Time {
		return v / 1000
	}
	return v
}

func (o *Output) mapSeries(ser *series, ms int64) []prompb.TimeSeries {
	one := func(suffix string, v float64) prompb.TimeSeries {
		return prompb.TimeSeries{Labels: withSuffix(ser.labels, suffix), Samples: []prompb.Sample{{Value: v, Timestamp: ms}}}
	}
	if ser.hist != nil {
		var m dto.Metric
		if err := ser.hist.Write(&m); err != nil {
			return nil
		}
		return []prompb.TimeSeries{{Labels: withSuffix(ser.labels, baseUnit(ser.metric)), Histograms: []prompb.Histogram{histogram(m.Histogram, ms)}}}
	}
	switch sink := ser.sink.(type) {
	case *metrics.CounterSink:
		return []prompb.TimeSeries{one("total", sink.Sum)}
	case *metrics.GaugeSink:
		return []prompb.TimeSeries{one("", sink.Last)}
	case *metrics.RateSink:
		return []prompb.TimeSeries{one("rate", sink.Rate())}
	case *metrics.TrendSink:
		out := make([]prompb.TimeSeries, 0, len(o.stats))
		for _, st := range o.stats {
			v := st.value(sink)
			if !st.count {
				v = inBaseUnit(ser.metric, v)
			}
			out = append(out, one(st.suffix, v))
		}
		return out
	}
	return nil
}

func histogram(h *dto.Histogram, ms int64) prompb.Histogram {
	spans := func(s []*dto.BucketSpan) []prompb.BucketSpan {
		out := make([]prompb.BucketSpan, len(s))
		for i, sp := range s {
			out[i] = prompb.BucketSpan{Offset: sp.GetOffset(), Length: sp.GetLength()}
		}
		return out
	}
	return prompb.Histogram{
		Count:          &prompb.Histogram_CountInt{CountInt: h.GetSampleCount()},
		Sum:            h.GetSampleSum(),
		Schema:         h.GetSchema(),
		ZeroThreshold:  h.GetZeroThreshold(),
		ZeroCount:      &prompb.Histogram_ZeroCountInt{ZeroCountInt: h.GetZeroCount()},
		NegativeSpans:  spans(h.GetNegativeSpan()),
		NegativeDeltas: h.GetNegativeDelta(),
		PositiveSpans:  spans(h.GetPositiveSpan()),
		PositiveDeltas: h.GetPositiveDelta(),
		Timestamp:      ms,
	}
}

// staleMarkers marks every series stale, after now and after its last point.
func (o *Output) staleMarkers(now time.Time) []prompb.TimeSeries {
	var out []prompb.TimeSeries
	for _, ser := range o.series {
		ms := max(now.UnixMilli(), ser.sent+1)
		for _, ts := range o.mapSeries(ser, ms) {
			ts.Histograms = nil
			ts.Samples = []prompb.Sample{{Value: math.Float64frombits(value.StaleNaN), Timestamp: ms}}
			out = append(out, ts)
		}
	}
	return out
}

// request is one remote-write request.
type request struct {
	o      *Output
	body   []byte
	points int
}

func (o *Output) request(ts []prompb.TimeSeries) *request {
	r := &request{o: o}
	if len(ts) == 0 {
		return r
	}
	for _, t := range ts {
		r.points += len(t.Samples) + len(t.Histograms)
	}
	wr := prompb.WriteRequest{Timeseries: ts}
	raw, err := wr.Marshal()
	if err != nil { // cannot happen with valid types; say so rather than drop silently
		o.warn(fmt.Sprintf("experimental-prometheus-rw: encoding the write request: %v", err))
		return &request{o: o}
	}
	r.body = snappy.Encode(nil, raw)
	return r
}

func (r *request) Points() int { return r.points }

func (r *request) Send(ctx context.Context) error {
	if r.points == 0 {
		return nil
	}
	o := r.o
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.ServerURL, bytes.NewReader(r.body))
	if err != nil {
		return push.Permanent(err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "pixelk6")
	for k, v := range o.cfg.Headers {
		req.Header.Set(k, v)
	}
	if o.cfg.Username != "" || o.cfg.Password != "" {
		req.SetBasicAuth(o.cfg.Username, o.cfg.Password)
	}
	if o.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+o.cfg.BearerToken)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 == 2 {
		r.points = 0
		return nil
	}
	err = fmt.Errorf("POST %s: %s: %s", req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return push.Permanent(err)
	}
	return err
}
