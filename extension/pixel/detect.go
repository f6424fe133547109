package pixel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/metrics"
)

// Paths says where an inference response keeps each field: dot-separated member names from
// the top of the JSON object ("crisis.risk_level"). An empty path means the deployment does
// not report that field. CrisisDetected and BiasDetected are required unless empty; when
// CrisisDetected is empty a crisis is a RiskLevel other than "" and "none", and when
// BiasDetected is empty bias is a non-empty BiasCategories.
type Paths struct {
	Response       string `json:"response"`
	LatencyMs      string `json:"latencyMs" js:"latencyMs,latency_ms"`
	CrisisDetected string `json:"crisisDetected"`
	RiskLevel      string `json:"riskLevel" js:"riskLevel,risk_level"`
	Confidence     string `json:"confidence"`
	BiasDetected   string `json:"biasDetected"`
	BiasCategories string `json:"biasCategories"`
	BiasScore      string `json:"biasScore"`
}

// DefaultPaths is the Pixelated Empathy API's schema (/api/ai/pixel/infer and the final
// inference message of /ws/pixel-multimodal).
var DefaultPaths = Paths{
	Response:       "response",
	LatencyMs:      "latency_ms",
	CrisisDetected: "crisis.detected",
	RiskLevel:      "crisis.risk_level",
	Confidence:     "crisis.confidence",
	BiasDetected:   "bias.detected",
	BiasCategories: "bias.categories",
	BiasScore:      "bias.score",
}

// Detection is what an inference reported.
type Detection struct {
	Response   string
	LatencyMs  float64 // API-reported latency, ms; valid when HasLatency
	HasLatency bool
	Crisis     bool
	RiskLevel  string // "" when not reported; "unknown" when a crisis has no level
	Confidence float64
	Bias       bool
	Categories []string // "unknown" alone when bias is flagged without categories
	BiasScore  float64
}

// Parse error kinds: the `error` tag of inference_parse_errors.
const (
	parseNotJSON      = "not_json"
	parseMissingField = "missing_field"
	parseBadField     = "bad_field"
)

// ParseError is a response that is not a readable inference.
type ParseError struct {
	Kind string // not_json, missing_field, bad_field
	Err  error
}

func (e *ParseError) Error() string { return "inference response: " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// ParseDetection reads an inference response body with the given paths.
func ParseDetection(body []byte, p Paths) (Detection, error) {
	var d Detection
	var root any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&root); err != nil {
		return d, &ParseError{parseNotJSON, fmt.Errorf("body %q is not JSON: %w", clip(body), err)}
	}
	if dec.More() {
		return d, &ParseError{parseNotJSON, fmt.Errorf("body %q has data after its JSON value", clip(body))}
	}
	if _, ok := root.(map[string]any); !ok {
		return d, &ParseError{parseNotJSON, fmt.Errorf("body %q is not a JSON object", clip(body))}
	}
	var err error
	if d.Response, _, err = lookupString(root, p.Response); err != nil {
		return d, err
	}
	if d.LatencyMs, d.HasLatency, err = lookupNumber(root, p.LatencyMs); err != nil {
		return d, err
	}
	if d.RiskLevel, _, err = lookupString(root, p.RiskLevel); err != nil {
		return d, err
	}
	if d.Confidence, _, err = lookupNumber(root, p.Confidence); err != nil {
		return d, err
	}
	if p.CrisisDetected != "" {
		v, ok := lookup(root, p.CrisisDetected)
		if !ok {
			return d, &ParseError{parseMissingField, fmt.Errorf("no %q", p.CrisisDetected)}
		}
		if d.Crisis, ok = v.(bool); !ok {
			return d, &ParseError{parseBadField, fmt.Errorf("%q is %v, not a boolean", p.CrisisDetected, v)}
		}
	} else {
		d.Crisis = d.RiskLevel != "" && d.RiskLevel != "none"
	}
	if d.Crisis && d.RiskLevel == "" {
		d.RiskLevel = "unknown"
	}
	if p.BiasCategories != "" {
		if v, ok := lookup(root, p.BiasCategories); ok && v != nil {
			arr, ok := v.([]any)
			if !ok {
				return d, &ParseError{parseBadField, fmt.Errorf("%q is %v, not an array", p.BiasCategories, v)}
			}
			for _, c := range arr {
				s, ok := c.(string)
				if !ok {
					return d, &ParseError{parseBadField, fmt.Errorf("%q has %v, not a string", p.BiasCategories, c)}
				}
				d.Categories = append(d.Categories, s)
			}
		}
	}
	if p.BiasDetected != "" {
		v, ok := lookup(root, p.BiasDetected)
		if !ok {
			return d, &ParseError{parseMissingField, fmt.Errorf("no %q", p.BiasDetected)}
		}
		if d.Bias, ok = v.(bool); !ok {
			return d, &ParseError{parseBadField, fmt.Errorf("%q is %v, not a boolean", p.BiasDetected, v)}
		}
	} else {
		d.Bias = len(d.Categories) > 0
	}
	if d.Bias && len(d.Categories) == 0 {
		d.Categories = []string{"unknown"}
	}
	if !d.Bias {
		d.Categories = nil
	}
	if d.BiasScore, _, err = lookupNumber(root, p.BiasScore); err != nil {
		return d, err
	}
	return d, nil
}

func lookup(root any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	cur := root
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func lookupString(root any, path string) (string, bool, error) {
	v, ok := lookup(root, path)
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, &ParseError{parseBadField, fmt.Errorf("%q is %v, not a string", path, v)}
	}
	return s, true, nil
}

func lookupNumber(root any, path string) (float64, bool, error) {
	v, ok := lookup(root, path)
	if !ok || v == nil {
		return 0, false, nil
	}
	f, ok := v.(float64)
	if !ok {
		return 0, false, &ParseError{parseBadField, fmt.Errorf("%q is %v, not a number", path, v)}
	}
	return f, true, nil
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// Expect is the known answer of a labelled prompt: nil fields are unknown.
type Expect struct {
	Crisis *bool
	Bias   *bool
}

// detectionSamples appends the samples of one inspected response to buf: see the README for
// the definitions. err is the parse error, if any (then only inference_parse_errors).
func (ms *metricSet) detectionSamples(buf []metrics.Sample, tags metrics.TagSet, at time.Time, d Detection, exp Expect, err error) []metrics.Sample {
	add := func(m *metrics.Metric, t metrics.TagSet, v float64) {
		buf = append(buf, metrics.Sample{Metric: m, Tags: t, Time: at, Value: v})
	}
	if err != nil {
		kind := parseNotJSON
		var pe *ParseError
		if errors.As(err, &pe) {
			kind = pe.Kind
		}
		add(ms.parseErrors, tags.With("error", kind), 1)
		return buf
	}
	add(ms.successful, tags, 1)
	if d.HasLatency {
		add(ms.latency, tags, d.LatencyMs)
	}
	if d.Crisis {
		add(ms.crisis, tags.With("risk_level", d.RiskLevel), 1)
	}
	for _, c := range d.Categories {
		add(ms.bias, tags.With("bias_category", c), 1)
	}
	if exp.Crisis != nil {
		if *exp.Crisis {
			add(ms.crisisRecall, tags, b2f(d.Crisis))
		} else {
			add(ms.crisisFalseAlarms, tags, b2f(d.Crisis))
		}
	}
	if exp.Bias != nil {
		if *exp.Bias {
			add(ms.biasRecall, tags, b2f(d.Bias))
		} else {
			add(ms.biasFalseAlarms, tags, b2f(d.Bias))
		}
	}
	return buf
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricSet is the extension's metrics in one registry.
type metricSet struct {
	successful, latency, crisis, bias, parseErrors                 *metrics.Metric
	crisisRecall, crisisFalseAlarms, biasRecall, biasFalseAlarms   *metrics.Metric
	chunkLatency, messageLatency, connFailed, sessions, chunksSent *metrics.Metric
}

// newMetricSet registers (or finds) the extension's metrics in r, with the names, types
// and units of the contract (package pixelmetrics).
func newMetricSet(r *metrics.Registry) (*metricSet, error) {
	var ms metricSet
	defs := []struct {
		dst  **metrics.Metric
		name string
	}{
		{&ms.successful, pixelmetrics.SuccessfulInferences},
		{&ms.latency, pixelmetrics.InferenceLatency},
		{&ms.crisis, pixelmetrics.CrisisDetections},
		{&ms.bias, pixelmetrics.BiasDetections},
		{&ms.parseErrors, pixelmetrics.InferenceParseErrors},
		{&ms.crisisRecall, pixelmetrics.CrisisRecall},
		{&ms.crisisFalseAlarms, pixelmetrics.CrisisFalseAlarms},
		{&ms.biasRecall, pixelmetrics.BiasRecall},
		{&ms.biasFalseAlarms, pixelmetrics.BiasFalseAlarms},
		{&ms.chunkLatency, pixelmetrics.ChunkLatency},
		{&ms.messageLatency, pixelmetrics.MessageLatency},
		{&ms.connFailed, pixelmetrics.WSConnectionFailed},
		{&ms.sessions, pixelmetrics.StreamSessions},
		{&ms.chunksSent, pixelmetrics.ChunksSent},
	}
	for _, d := range defs {
		def, ok := pixelmetrics.Lookup(d.name)
		if !ok {
			return nil, fmt.Errorf("k6/x/pixel: metric %q is not in the contract", d.name)
		}
		m, err := r.NewMetric(def.Name, def.Type, def.Contains)
		if err != nil {
			return nil, fmt.Errorf("k6/x/pixel: %w", err)
		}
		*d.dst = m
	}
	return &ms, nil
}
