// Package metrics owns the semantics that the runner (pixelk6) and the analyzer (k6verdict)
// share, so the two can never disagree: metric definitions and their registry, tag sets,
// samples, the per-metric sinks (counter, gauge, rate, trend), the percentile formula, and the
// threshold grammar and its evaluation. It imports no JavaScript engine.
//
// # Stable API (thresholds and sinks)
//
// Thresholds (threshold.go):
//
//	type AggKind uint8                  // AggCount, AggRate, AggValue, AggAvg, AggMin, AggMax, AggMed, AggPercentile
//	type Aggregation struct{ Kind AggKind; P float64 } // P ∈ [0,100], only for AggPercentile
//	func ParseAggregation(s string) (Aggregation, error) // "avg", "p(99.9)", "count", ... (also summaryTrendStats)
//	func (a Aggregation) String() string                 // "p(95)", "avg"
//	type Op uint8                        // OpLT, OpLE, OpGT, OpGE, OpEQ, OpStrictEQ, OpNE
//	func (o Op) String() string; func (o Op) Compare(observed, limit float64) bool
//	type Threshold struct {
//		Source         string        // the expression as written, e.g. "p(95)<500"
//		Agg            Aggregation
//		Op             Op
//		Value          float64
//		AbortOnFail    bool
//		DelayAbortEval time.Duration
//	}
//	func ParseThreshold(expr string) (*Threshold, error)
//	func (t *Threshold) Validate(mt MetricType) error
//	func (t *Threshold) Check(s Sink, elapsed time.Duration) (observed float64, pass bool)
//	func ParseMetricKey(key string) (name string, sub TagSet, err error)
//	type MetricThresholds struct {
//		Key, Metric  string            // "http_req_duration{name:infer}", "http_req_duration"
//		Submetric    TagSet
//		HasSubmetric bool
//		Thresholds   []*Threshold
//		Raw          []json.RawMessage // as written: strings or {threshold,abortOnFail,delayAbortEval}
//	}
//	func ParseThresholdsJSON(raw json.RawMessage) ([]MetricThresholds, error) // sorted by Key
//
// Sinks (sink.go):
//
//	type Sink interface {
//		Add(s Sample)                             // uses s.Value and s.Time
//		AddValue(v float64, at time.Time)         // the same without building a Sample
//		Merge(o Sink) error                       // o must be the same type; exact (see below)
//		Count() uint64                            // samples added
//		IsEmpty() bool
//		Aggregate(a Aggregation, elapsed time.Duration) (float64, bool) // false: not defined here
//		Values(elapsed time.Duration, trendStats []string) map[string]float64
//	}
//	func NewSink(t MetricType) Sink // *CounterSink, *GaugeSink, *RateSink, *TrendSink
//	CounterSink{Sum, N}.Rate(elapsed); GaugeSink{Last, LastTime, Min, Max, N}; RateSink{Passes, Total}.Rate()
//	(*TrendSink) AddValues(vs), Grow(n), Sorted(), Avg(), Min(), Max(), P(p)
//	func Percentile(sorted []float64, p float64) float64 // THE percentile, p ∈ [0,100]
//	var DefaultTrendStats = []string{"avg", "min", "med", "max", "p(90)", "p(95)"}
//
// Values keys are k6's summary keys: counter {count, rate}; gauge {value, min, max};
// rate {rate, passes, fails}; trend: the requested stats (default DefaultTrendStats; "count"
// is also accepted). elapsed is the test run duration and is used only for a counter's rate
// (count / elapsed seconds).
//
// Merging is exact: counts and rates are integers, a counter's sum is a float sum of the
// (normally integral) values, a gauge keeps the value with the latest time (min/max exact),
// and a trend keeps every value; its avg is computed at read time over the sorted values
// with compensated summation, so it does not depend on the order of Add or Merge calls.
//
// Beyond k6: gauges accept the aggregations min and max in thresholds as well as value.
package metrics
