package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Threshold grammar (k6's), whitespace allowed between any two tokens:
//
//	threshold   ::= aggregation operator number
//	aggregation ::= "count" | "rate" | "value" | "avg" | "min" | "max" | "med" | percentile
//	percentile  ::= "p(" number ")"                 // number ∈ [0,100]
//	operator    ::= ">" | ">=" | "<" | "<=" | "==" | "===" | "!="
//	number      ::= a Go float literal as accepted by strconv.ParseFloat (decimal, sign, exponent)
//
// Which aggregations a metric type allows (Threshold.Validate):
//
//	counter: count, rate     gauge: value (and min, max: a pixelk6 extension)
//	rate: rate               trend: avg, min, max, med, p(N)
//
// Metric keys (ParseMetricKey):
//
//	key       ::= name [ "{" tag { "," tag } "}" ]
//	tag       ::= tagkey ":" tagvalue              // split at the first ':'; the value may
//	                                               // contain ':' ("group:::inference" → "::inference")
//
// Keys and values are trimmed of spaces and of one pair of surrounding quotes.

// AggKind is the kind of an aggregation.
type AggKind uint8

// The aggregations of k6's threshold grammar.
const (
	AggCount      AggKind = iota + 1 // counter: sum of values
	AggRate                          // counter: sum per second; rate: fraction of non-zero values
	AggValue                         // gauge: last value
	AggAvg                           // trend: mean
	AggMin                           // trend (and gauge, beyond k6): minimum
	AggMax                           // trend (and gauge, beyond k6): maximum
	AggMed                           // trend: p(50)
	AggPercentile                    // trend: p(P)
)

// Aggregation is one aggregation of a sink. P ∈ [0,100] is used only by AggPercentile.
type Aggregation struct {
	Kind AggKind
	P    float64
}

var aggNames = map[string]AggKind{
	"count": AggCount, "rate": AggRate, "value": AggValue, "avg": AggAvg,
	"min": AggMin, "max": AggMax, "med": AggMed,
}

// String returns the aggregation as k6 writes it: "avg", "p(95)", "p(99.9)".
func (a Aggregation) String() string {
	switch a.Kind {
	case AggCount:
		return "count"
	case AggRate:
		return "rate"
	case AggValue:
		return "value"
	case AggAvg:
		return "avg"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	case AggMed:
		return "med"
	case AggPercentile:
		return "p(" + strconv.FormatFloat(a.P, 'f', -1, 64) + ")"
	}
	return fmt.Sprintf("AggKind(%d)", a.Kind)
}

// ParseAggregation parses one aggregation ("avg", "p(95)", "p( 99.9 )"), as used in threshold
// expressions and in summaryTrendStats.
func ParseAggregation(s string) (Aggregation, error) {
	p := &exprParser{src: s, kind: "aggregation"}
	a, err := p.aggregation()
	if err != nil {
		return Aggregation{}, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return Aggregation{}, p.errorf("end of aggregation")
	}
	return a, nil
}

// Op is a threshold comparison operator.
type Op uint8

// The operators of k6's threshold grammar.
const (
	OpLT       Op = iota + 1 // <
	OpLE                     // <=
	OpGT                     // >
	OpGE                     // >=
	OpEQ                     // ==
	OpStrictEQ               // === (same as == for numbers)
	OpNE                     // !=
)

var opNames = [...]string{OpLT: "<", OpLE: "<=", OpGT: ">", OpGE: ">=", OpEQ: "==", OpStrictEQ: "===", OpNE: "!="}

// String returns the operator's symbol.
func (o Op) String() string {
	if o >= OpLT && int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Compare reports whether "observed o limit" holds.
func (o Op) Compare(observed, limit float64) bool {
	switch o {
	case OpLT:
		return observed < limit
	case OpLE:
		return observed <= limit
	case OpGT:
		return observed > limit
	case OpGE:
		return observed >= limit
	case OpEQ, OpStrictEQ:
		return observed == limit
	case OpNE:
		return observed != limit
	}
	return false
}

// Threshold is one parsed threshold expression with its k6 options.
type Threshold struct {
	// Source is the expression as written, e.g. "p(95)<500".
	Source string
	Agg    Aggregation
	Op     Op
	// Value is the limit, in the metric's unit (ms for time trends).
	Value float64
	// AbortOnFail stops the test when the threshold fails (k6's abortOnFail).
	AbortOnFail bool
	// DelayAbortEval delays the first abort evaluation (k6's delayAbortEval).
	DelayAbortEval time.Duration
}

// String returns the source expression.
func (t *Threshold) String() string { return t.Source }

// ParseThreshold parses a threshold expression in k6's grammar (see the BNF above).
func ParseThreshold(expr string) (*Threshold, error) {
	p := &exprParser{src: expr}
	agg, err := p.aggregation()
	if err != nil {
		return nil, err
	}
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	v, err := p.number("threshold value")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("end of expression")
	}
	return &Threshold{Source: expr, Agg: agg, Op: op, Value: v}, nil
}

// Validate reports an error when the threshold's aggregation is not defined for metrics of
// type mt (k6's rules, plus min and max for gauges).
func (t *Threshold) Validate(mt MetricType) error {
	ok := false
	switch mt {
	case Counter:
		ok = t.Agg.Kind == AggCount || t.Agg.Kind == AggRate
	case Gauge:
		ok = t.Agg.Kind == AggValue || t.Agg.Kind == AggMin || t.Agg.Kind == AggMax
	case Rate:
		ok = t.Agg.Kind == AggRate
	case Trend:
		switch t.Agg.Kind {
		case AggAvg, AggMin, AggMax, AggMed, AggPercentile:
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("threshold %q: aggregation %s is not allowed on a %s metric (allowed: %s)",
			t.Source, t.Agg, mt, allowedAggs(mt))
	}
	return nil
}

func allowedAggs(mt MetricType) string {
	switch mt {
	case Counter:
		return "count, rate"
	case Gauge:
		return "value, min, max"
	case Rate:
		return "rate"
	case Trend:
		return "avg, min, max, med, p(N)"
	}
	return "none"
}

// Check evaluates the threshold on s. elapsed is the test run duration (for a counter's
// rate). A sink without samples passes, with observed NaN, as in k6 (a threshold on a metric
// that got no data does not fail). An aggregation that the sink does not define fails, with
// observed NaN.
func (t *Threshold) Check(s Sink, elapsed time.Duration) (observed float64, pass bool) {
	if s == nil || s.IsEmpty() {
		return math.NaN(), true
	}
	v, ok := s.Aggregate(t.Agg, elapsed)
	if !ok {
		return math.NaN(), false
	}
	return v, t.Op.Compare(v, t.Value)
}

// exprParser is a hand-written scanner for the threshold grammar with positioned errors.
type exprParser struct {
	src  string
	pos  int
	kind string // "threshold" or "aggregation", for messages
}

func (p *exprParser) errorf(want string) error {
	got := "end of input"
	if p.pos < len(p.src) {
		r := p.src[p.pos:]
		if len(r) > 12 {
			r = r[:12] + "…"
		}
		got = strconv.Quote(r)
	}
	kind := p.kind
	if kind == "" {
		kind = "threshold"
	}
	return fmt.Errorf("%s %q: at column %d: expected %s, found %s", kind, p.src, p.pos+1, want, got)
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *exprParser) aggregation() (Aggregation, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= 'a' && p.src[p.pos] <= 'z' {
		p.pos++
	}
	word := p.src[start:p.pos]
	if word == "p" {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '(' {
			return Aggregation{}, p.errorf(`"(" after p`)
		}
		p.pos++
		v, err := p.number("percentile")
		if err != nil {
			return Aggregation{}, err
		}
		if v < 0 || v > 100 {
			p.pos = start
			return Aggregation{}, p.errorf("a percentile in [0,100]")
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return Aggregation{}, p.errorf(`")" closing p(`)
		}
		p.pos++
		return Aggregation{Kind: AggPercentile, P: v}, nil
	}
	if k, ok := aggNames[word]; ok {
		return Aggregation{Kind: k}, nil
	}
	p.pos = start
	return Aggregation{}, p.errorf("an aggregation (count, rate, value, avg, min, max, med or p(N))")
}

func (p *exprParser) operator() (Op, error) {
	p.skipSpace()
	// Longest first.
	for _, o := range []Op{OpStrictEQ, OpLE, OpGE, OpEQ, OpNE, OpLT, OpGT} {
		s := opNames[o]
		if strings.HasPrefix(p.src[p.pos:], s) {
			p.pos += len(s)
			return o, nil
		}
	}
	return 0, p.errorf("an operator (<, <=, >, >=, ==, ===, !=)")
}

func (p *exprParser) number(what string) (float64, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' || c == '_' {
			p.pos++
			continue
		}
		break
	}
	if start == p.pos {
		return 0, p.errorf("a number (" + what + ")")
	}
	v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
	if err != nil || strings.Contains(p.src[start:p.pos], "_") || math.IsInf(v, 0) || math.IsNaN(v) {
		p.pos = start
		return 0, p.errorf("a number (" + what + ")")
	}
	return v, nil
}

// ParseMetricKey splits a thresholds key such as "http_req_duration{name:infer,status:200}"
// into the metric name and the submetric's tags. A key without braces has an empty TagSet.
// Errors quote the key and say what was expected.
func ParseMetricKey(key string) (name string, sub TagSet, err error) {
	k := strings.TrimSpace(key)
	open := strings.IndexByte(k, '{')
	if open < 0 {
		if !ValidMetricName(k) {
			return "", TagSet{}, fmt.Errorf("metric key %q: invalid metric name", key)
		}
		return k, TagSet{}, nil
	}
	name = strings.TrimSpace(k[:open])
	if !ValidMetricName(name) {
		return "", TagSet{}, fmt.Errorf("metric key %q: invalid metric name %q before '{'", key, name)
	}
	if !strings.HasSuffix(k, "}") {
		return "", TagSet{}, fmt.Errorf("metric key %q: expected '}' at the end", key)
	}
	body := k[open+1 : len(k)-1]
	if strings.TrimSpace(body) == "" {
		return "", TagSet{}, fmt.Errorf("metric key %q: expected at least one tag:value inside {}", key)
	}
	tags := map[string]string{}
	for _, part := range strings.Split(body, ",") {
		c := strings.IndexByte(part, ':')
		if c < 0 {
			return "", TagSet{}, fmt.Errorf("metric key %q: expected tag:value, found %q", key, part)
		}
		tk := unquote(strings.TrimSpace(part[:c]))
		tv := unquote(strings.TrimSpace(part[c+1:]))
		if tk == "" {
			return "", TagSet{}, fmt.Errorf("metric key %q: empty tag name in %q", key, part)
		}
		tags[tk] = tv
	}
	return name, NewTagSet(tags), nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// MetricThresholds is the list of thresholds of one key of k6's `thresholds` option.
type MetricThresholds struct {
	// Key is the key as written: "http_req_duration{name:infer}".
	Key string
	// Metric is the metric name part of Key.
	Metric string
	// Submetric holds the tags in braces; HasSubmetric says there were braces.
	Submetric    TagSet
	HasSubmetric bool
	Thresholds   []*Threshold
	// Raw holds each threshold as the script wrote it: a JSON string or an object
	// {"threshold","abortOnFail","delayAbortEval"}.
	Raw []json.RawMessage
}

// thresholdObject is k6's object form of a threshold.
type thresholdObject struct {
	Threshold      *string         `json:"threshold"`
	AbortOnFail    bool            `json:"abortOnFail"`
	DelayAbortEval json.RawMessage `json:"delayAbortEval"`
}

// ParseThresholdRaw parses one threshold as k6 accepts it in options: a JSON string or an
// object {"threshold": "...", "abortOnFail": bool, "delayAbortEval": "10s" | ms number}.
func ParseThresholdRaw(raw json.RawMessage) (*Threshold, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("threshold %s: %w", raw, err)
		}
		return ParseThreshold(s)
	}
	var o thresholdObject
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("threshold %s: expected a string or an object {threshold, abortOnFail, delayAbortEval}: %w", raw, err)
	}
	if o.Threshold == nil {
		return nil, fmt.Errorf("threshold %s: object without a \"threshold\" expression", raw)
	}
	t, err := ParseThreshold(*o.Threshold)
	if err != nil {
		return nil, err
	}
	t.AbortOnFail = o.AbortOnFail
	if d := bytes.TrimSpace(o.DelayAbortEval); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if d[0] == '"' {
			var s string
			if err := json.Unmarshal(d, &s); err != nil {
				return nil, fmt.Errorf("threshold %s: delayAbortEval: %w", raw, err)
			}
			if s != "" {
				dur, err := time.ParseDuration(s)
				if err != nil {
					return nil, fmt.Errorf("threshold %s: delayAbortEval %q: expected a duration such as \"10s\": %w", raw, s, err)
				}
				t.DelayAbortEval = dur
			}
		} else {
			ms, err := strconv.ParseFloat(string(d), 64)
			if err != nil {
				return nil, fmt.Errorf("threshold %s: delayAbortEval %s: expected a duration string or milliseconds", raw, d)
			}
			t.DelayAbortEval = time.Duration(ms * float64(time.Millisecond))
		}
	}
	return t, nil
}

// ParseThresholdsJSON parses the `thresholds` object of k6 options:
// {"key": ["expr", {"threshold": "expr", "abortOnFail": true}], "key2": "expr"}. The result is
// sorted by key. Errors name the key and the expression.
func ParseThresholdsJSON(raw json.RawMessage) ([]MetricThresholds, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("thresholds: expected an object of metric key → list of thresholds: %w", err)
	}
	out := make([]MetricThresholds, 0, len(obj))
	for key, v := range obj {
		name, sub, err := ParseMetricKey(key)
		if err != nil {
			return nil, err
		}
		mt := MetricThresholds{Key: key, Metric: name, Submetric: sub, HasSubmetric: strings.Contains(key, "{")}
		v = bytes.TrimSpace(v)
		var items []json.RawMessage
		switch {
		case len(v) > 0 && v[0] == '[':
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, fmt.Errorf("thresholds[%q]: %w", key, err)
			}
		case len(v) > 0 && (v[0] == '"' || v[0] == '{'):
			items = []json.RawMessage{v}
		case bytes.Equal(v, []byte("null")):
		default:
			return nil, fmt.Errorf("thresholds[%q]: expected a list of thresholds, found %s", key, v)
		}
		for _, it := range items {
			th, err := ParseThresholdRaw(it)
			if err != nil {
				return nil, fmt.Errorf("thresholds[%q]: %w", key, err)
			}
			mt.Thresholds = append(mt.Thresholds, th)
			mt.Raw = append(mt.Raw, append(json.RawMessage(nil), it...))
		}
		out = append(out, mt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
