package k6file

import (
	"encoding/json"
	"fmt"

	"github.com/pixelk6/pixelk6/metrics"
)

// Kind says what a Record holds.
type Kind uint8

const (
	PointKind  Kind = iota + 1 // a sample: Record.Point
	MetricKind                 // a metric's declaration (NDJSON only): Record.Metric
)

// Record is one record of a k6 result file.
type Record struct {
	Kind   Kind
	Line   int64  // 1-based line of the input where the record starts
	Point  Point  // when Kind == PointKind
	Metric Metric // when Kind == MetricKind
}

// Point is one sample.
type Point struct {
	Metric   string
	Time     int64 // Unix nanoseconds
	Value    float64
	Tags     metrics.TagSet
	Metadata map[string]string // nil when the sample has none
}

// Metric is a metric's declaration, which k6 writes before the metric's first Point.
type Metric struct {
	Name     string
	Type     metrics.MetricType
	Contains metrics.ValueType
	MetricInfo
}

// MetricInfo is what a Metric record lists about the script's thresholds on a metric.
type MetricInfo struct {
	// Thresholds are the metric's own (non-submetric) thresholds as the script wrote them:
	// JSON strings such as "p(95)<500", or {"threshold","abortOnFail","delayAbortEval"}
	// objects. An object without abortOnFail: true is written as its threshold string, as
	// k6 does.
	Thresholds []json.RawMessage
	// Submetrics are the metric's submetrics in the order they were defined (the
	// thresholds' order, then "expected_response:true" that k6 adds to http_req_duration).
	Submetrics []Submetric
}

// Submetric is a submetric definition as k6 writes it.
type Submetric struct {
	Name   string            `json:"name"`   // "http_req_duration{name:infer}"
	Suffix string            `json:"suffix"` // "name:infer"
	Tags   map[string]string `json:"tags"`   // {"name": "infer"}
}

// SyntaxError is a line that holds no valid record. It is not fatal: the Scanner counts it
// and goes on.
type SyntaxError struct {
	Line int64 // 1-based
	// Truncated is set for the input's last line when it has no newline: most likely a
	// record torn by a crashed run, which a reader may forgive.
	Truncated bool
	Err       error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *SyntaxError) Unwrap() error { return e.Err }

// MetricInfos builds the Metric-record metadata of a script's thresholds, the one place
// that does: a plain key's expressions become the metric's Thresholds, a submetric key a
// Submetrics entry, and http_req_duration always gets metrics.ExpectedResponseSubmetric
// last, once (also when the script has a threshold on it). order is the thresholds' keys in
// the order the script wrote them (k6 writes submetrics in that order); keys of ths not in
// order follow in ths's order, and a nil order keeps ths's order.
func MetricInfos(ths []metrics.MetricThresholds, order []string) map[string]MetricInfo {
	ordered := ths
	if len(order) > 0 {
		byKey := make(map[string]metrics.MetricThresholds, len(ths))
		for _, mt := range ths {
			byKey[mt.Key] = mt
		}
		seen := map[string]bool{}
		ordered = make([]metrics.MetricThresholds, 0, len(ths))
		for _, k := range order {
			if mt, ok := byKey[k]; ok && !seen[k] {
				ordered = append(ordered, mt)
				seen[k] = true
			}
		}
		for _, mt := range ths {
			if !seen[mt.Key] {
				ordered = append(ordered, mt)
				seen[mt.Key] = true
			}
		}
	}
	out := make(map[string]MetricInfo, len(ordered)+1)
	for _, mt := range ordered {
		info := out[mt.Metric]
		switch {
		case !mt.HasSubmetric:
			info.Thresholds = append(info.Thresholds, mt.Raw...)
		case mt.Key != metrics.ExpectedResponseSubmetric:
			info.Submetrics = append(info.Submetrics, Submetric{
				Name:   mt.Key,
				Suffix: mt.Key[len(mt.Metric)+1 : len(mt.Key)-1],
				Tags:   mt.Submetric.Map(),
			})
		}
		out[mt.Metric] = info
	}
	info := out["http_req_duration"]
	info.Submetrics = append(info.Submetrics, Submetric{
		Name:   metrics.ExpectedResponseSubmetric,
		Suffix: metrics.ExpectedResponseSuffix,
		Tags:   map[string]string{metrics.ExpectedResponseTag: "true"},
	})
	out["http_req_duration"] = info
	return out
}
