package output

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/pixelk6/pixelk6/internal/jsonx"
	"github.com/pixelk6/pixelk6/metrics"
)

// jsonEncoder writes k6's NDJSON records:
//
//	{"type":"Metric","data":{"name":N,"type":T,"contains":C,"thresholds":[...],"submetrics":null|[...]},"metric":N}
//	{"metric":N,"type":"Point","data":{"time":RFC3339Nano UTC,"value":V,"tags":{sorted},"metadata":{sorted}}}
//
// A metric's Metric record precedes its first Point; "metadata" appears only when set.
type jsonEncoder struct {
	info map[string]MetricInfo
	seen map[*metrics.Metric]bool
	keys []string // scratch for sorting metadata keys
}

func newJSONEncoder(info map[string]MetricInfo) *jsonEncoder {
	return &jsonEncoder{info: info, seen: make(map[*metrics.Metric]bool)}
}

func (e *jsonEncoder) encode(b []byte, samples []metrics.Sample) []byte {
	for i := range samples {
		s := &samples[i]
		if !e.seen[s.Metric] {
			e.seen[s.Metric] = true
			b = appendMetricRecord(b, s.Metric, e.info[s.Metric.Name])
		}
		b = e.appendPoint(b, s)
	}
	return b
}

// appendMetricRecord appends the Metric record of m.
func appendMetricRecord(b []byte, m *metrics.Metric, info MetricInfo) []byte {
	b = append(b, `{"type":"Metric","data":{"name":`...)
	b = jsonx.AppendString(b, m.Name)
	b = append(b, `,"type":`...)
	b = jsonx.AppendString(b, m.Type.String())
	b = append(b, `,"contains":`...)
	b = jsonx.AppendString(b, m.Contains.String())
	b = append(b, `,"thresholds":[`...)
	for i, raw := range info.Thresholds {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendThreshold(b, raw)
	}
	b = append(b, `],"submetrics":`...)
	if len(info.Submetrics) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, sm := range info.Submetrics {
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
// object {"threshold":S,"abortOnFail":true,"delayAbortEval":D}.
func appendThreshold(b []byte, raw json.RawMessage) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return jsonx.AppendString(b, s)
	}
	var o struct {
		Threshold      string `json:"threshold"`
		AbortOnFail    bool   `json:"abortOnFail"`
		DelayAbortEval string `json:"delayAbortEval"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return append(b, "null"...)
	}
	if !o.AbortOnFail {
		return jsonx.AppendString(b, o.Threshold)
	}
	b = append(b, `{"threshold":`...)
	b = jsonx.AppendString(b, o.Threshold)
	b = append(b, `,"abortOnFail":true,"delayAbortEval":`...)
	b = jsonx.AppendString(b, o.DelayAbortEval)
	return append(b, '}')
}

func (e *jsonEncoder) appendPoint(b []byte, s *metrics.Sample) []byte {
	b = append(b, `{"metric":`...)
	b = jsonx.AppendString(b, s.Metric.Name)
	b = append(b, `,"type":"Point","data":{"time":"`...)
	b = s.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","value":`...)
	b = appendJSONFloat(b, s.Value)
	b = append(b, `,"tags":{`...)
	first := true
	s.Tags.Each(func(k, v string) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonx.AppendString(b, k)
		b = append(b, ':')
		b = jsonx.AppendString(b, v)
		return true
	})
	b = append(b, '}')
	if len(s.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		e.keys = sortedKeys(e.keys[:0], s.Metadata)
		b = append(b, '{')
		for i, k := range e.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, k)
			b = append(b, ':')
			b = jsonx.AppendString(b, s.Metadata[k])
		}
		b = append(b, '}')
	}
	return append(b, "}}\n"...)
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
