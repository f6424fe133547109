package k6file

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/pixelk6/pixelk6/internal/jsonx"
	"github.com/pixelk6/pixelk6/metrics"
)

// Encoder writes k6's NDJSON records. A metric's Metric record precedes its first Point;
// "metadata" appears only when a sample has some. It does not allocate per sample.
type Encoder struct {
	info map[string]MetricInfo
	// prefix is each metric's Point record up to its time: {"metric":N,"type":"Point","data":{"time":"
	// (present once the metric's Metric record was written).
	prefix  map[*metrics.Metric][]byte
	keys    []string // scratch for sorting metadata keys
	scratch []byte   // scratch for AppendRecord's prefix
	tags    tagCache
	clock   secondCache
}

// NewEncoder returns an encoder that describes each metric in its Metric record with
// info[name] (a metric not in info gets "thresholds":[] and "submetrics":null).
func NewEncoder(info map[string]MetricInfo) *Encoder {
	return &Encoder{info: info, prefix: make(map[*metrics.Metric][]byte)}
}

// AppendSamples appends the records of samples to b: each sample's Point, preceded by its
// metric's Metric record the first time the metric appears.
func (e *Encoder) AppendSamples(b []byte, samples []metrics.Sample) []byte {
	for i := range samples {
		s := &samples[i]
		prefix, ok := e.prefix[s.Metric]
		if !ok {
			b = AppendMetric(b, &Metric{Name: s.Metric.Name, Type: s.Metric.Type, Contains: s.Metric.Contains, MetricInfo: e.info[s.Metric.Name]})
			prefix = appendPointPrefix(nil, s.Metric.Name)
			e.prefix[s.Metric] = prefix
		}
		b = e.appendPoint(b, prefix, s.Time, s.Value, s.Tags, s.Metadata)
	}
	return b
}

// AppendRecord appends r as one NDJSON line (a Point or a Metric record, as it is: no Metric
// record is added before a Point).
func (e *Encoder) AppendRecord(b []byte, r *Record) []byte {
	if r.Kind == MetricKind {
		return AppendMetric(b, &r.Metric)
	}
	p := &r.Point
	return e.appendPoint(b, appendPointPrefix(e.scratch[:0], p.Metric), time.Unix(0, p.Time), p.Value, p.Tags, p.Metadata)
}

// AppendMetric appends the Metric record of m.
func AppendMetric(b []byte, m *Metric) []byte {
	b = append(b, `{"type":"Metric","data":{"name":`...)
	b = jsonx.AppendString(b, m.Name)
	b = append(b, `,"type":`...)
	b = jsonx.AppendString(b, m.Type.String())
	b = append(b, `,"contains":`...)
	b = jsonx.AppendString(b, m.Contains.String())
	b = append(b, `,"thresholds":[`...)
	for i, raw := range m.Thresholds {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendThreshold(b, raw)
	}
	b = append(b, `],"submetrics":`...)
	if len(m.Submetrics) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, sm := range m.Submetrics {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = jsonx.AppendString(b, sm.Name)
			b = append(b, `,"suffix":`...)
			b = jsonx.AppendString(b, sm.Suffix)
			b = append(b, `,"tags":`...)
			b = appendStringMap(b, sm.Tags)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `},"metric":`...)
	b = jsonx.AppendString(b, m.Name)
	return append(b, "}\n"...)
}

// appendThreshold writes a threshold as k6 does: a string, or, when abortOnFail is set, the
// object {"threshold":S,"abortOnFail":true,"delayAbortEval":D}, D a duration string (a
// script's number of milliseconds is written as one, "" when unset). What is not a
// threshold is written as null.
func appendThreshold(b []byte, raw json.RawMessage) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return jsonx.AppendString(b, s)
	}
	var o struct {
		Threshold      string          `json:"threshold"`
		AbortOnFail    bool            `json:"abortOnFail"`
		DelayAbortEval json.RawMessage `json:"delayAbortEval"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return append(b, "null"...)
	}
	if !o.AbortOnFail {
		return jsonx.AppendString(b, o.Threshold)
	}
	var delay string
	if d := o.DelayAbortEval; len(d) > 0 && json.Unmarshal(d, &delay) != nil {
		var ms float64
		if json.Unmarshal(d, &ms) != nil {
			return append(b, "null"...)
		}
		delay = time.Duration(ms * float64(time.Millisecond)).String()
	}
	b = append(b, `{"threshold":`...)
	b = jsonx.AppendString(b, o.Threshold)
	b = append(b, `,"abortOnFail":true,"delayAbortEval":`...)
	b = jsonx.AppendString(b, delay)
	return append(b, '}')
}

// appendPointPrefix appends the start of a Point record of the metric name, up to its time.
func appendPointPrefix(b []byte, name string) []byte {
	b = append(b, `{"metric":`...)
	b = jsonx.AppendString(b, name)
	return append(b, `,"type":"Point","data":{"time":"`...)
}

// appendPoint appends a Point record that starts with prefix (appendPointPrefix).
func (e *Encoder) appendPoint(b, prefix []byte, t time.Time, v float64, tags metrics.TagSet, md map[string]string) []byte {
	b = append(b, prefix...)
	b = e.clock.appendTime(b, t)
	b = append(b, `","value":`...)
	b = appendJSONFloat(b, v)
	b = append(b, `,"tags":`...)
	b = append(b, e.tags.json(tags)...)
	if len(md) > 0 {
		b = append(b, `,"metadata":`...)
		e.keys = sortedKeys(e.keys[:0], md)
		b = append(b, '{')
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, k)
			b = append(b, ':')
			b = jsonx.AppendString(b, md[k])
		}
		b = append(b, '}')
	}
	return append(b, "}}\n"...)
}

// maxCachedTagSets bounds tagCache: a run has few distinct tag sets (per URL, status, check,
// ...), so the cache is cleared and refilled when a high-cardinality script goes past it.
const maxCachedTagSets = 4096

// tagCache memoises the JSON object of the tag sets seen: consecutive samples usually share
// theirs (the nine samples of an HTTP request have one), and encoding a set costs more than
// the rest of its Point record. Measured with BenchmarkEncodeRun.
type tagCache struct {
	last     metrics.TagSet
	lastJSON []byte
	m        map[metrics.TagSet][]byte
}

// json returns the JSON object of tags: {"k":"v",...}, keys in order.
func (c *tagCache) json(tags metrics.TagSet) []byte {
	if c.lastJSON != nil && tags == c.last {
		return c.lastJSON
	}
	js, ok := c.m[tags]
	if !ok {
		js = appendTagSet(nil, tags)
		if c.m == nil || len(c.m) >= maxCachedTagSets {
			c.m = make(map[metrics.TagSet][]byte)
		}
		c.m[tags] = js
	}
	c.last, c.lastJSON = tags, js
	return js
}

func appendTagSet(b []byte, tags metrics.TagSet) []byte {
	b = append(b, '{')
	first := true
	tags.Each(func(k, v string) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonx.AppendString(b, k)
		b = append(b, ':')
		b = jsonx.AppendString(b, v)
		return true
	})
	return append(b, '}')
}

// secondCache formats times as time.RFC3339Nano in UTC, reusing the "2006-01-02T15:04:05"
// part while consecutive times fall in the same second (samples arrive in time order).
type secondCache struct {
	sec    int64
	prefix []byte // empty: no second cached
}

func (c *secondCache) appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	if sec := t.Unix(); len(c.prefix) == 0 || sec != c.sec {
		c.sec = sec
		c.prefix = t.AppendFormat(c.prefix[:0], "2006-01-02T15:04:05")
	}
	b = append(b, c.prefix...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// sortedKeys appends m's keys to dst and sorts them.
func sortedKeys(dst []string, m map[string]string) []string {
	for k := range m {
		dst = append(dst, k)
	}
	sort.Strings(dst)
	return dst
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(nil, m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, k)
		b = append(b, ':')
		b = jsonx.AppendString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONFloat formats f as encoding/json does (shortest representation; exponent form
// below 1e-6 and from 1e21). NaN and ±Inf, which JSON cannot hold, are written as null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs < 1e15 && f == math.Trunc(f) && !(f == 0 && math.Signbit(f)) {
		// Whole numbers (counts, bytes, 0/1 rates) are most values: their shortest form is
		// the integer's digits.
		return strconv.AppendInt(b, int64(f), 10)
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// "1e-07" → "1e-7", as encoding/json writes it.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
