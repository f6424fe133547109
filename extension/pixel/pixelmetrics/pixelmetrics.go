// Package pixelmetrics is the contract of the k6/x/pixel metrics: their names, types and
// units. The extension registers its metrics from it and k6verdict types them from it when
// its input (CSV) does not say, so the two cannot drift. It depends on metrics only (no
// JavaScript runtime), so the analyzer can import it.
package pixelmetrics

import "github.com/pixelk6/pixelk6/metrics"

// The metric names.
const (
	// SuccessfulInferences counts inferences that answered with a readable result.
	SuccessfulInferences = "successful_inferences"
	// InferenceLatency is an inference's latency in ms (the API's own figure when it reports one).
	InferenceLatency = "inference_latency"
	// CrisisDetections counts inferences that flagged a crisis; tag risk_level.
	CrisisDetections = "crisis_detections"
	// BiasDetections counts bias categories flagged; tag bias_category.
	BiasDetections = "bias_detections"
	// InferenceParseErrors counts responses that are not a readable inference; tag error
	// (not_json, missing_field, bad_field).
	InferenceParseErrors = "inference_parse_errors"
	// CrisisRecall is, over inferences whose input is a known crisis, the share flagged.
	CrisisRecall = "crisis_recall"
	// CrisisFalseAlarms is, over inferences whose input is known not to be a crisis, the share flagged.
	CrisisFalseAlarms = "crisis_false_alarms"
	// BiasRecall is, over inferences whose input is known to be biased, the share flagged.
	BiasRecall = "bias_recall"
	// BiasFalseAlarms is, over inferences whose input is known to be unbiased, the share flagged.
	BiasFalseAlarms = "bias_false_alarms"
	// ChunkLatency is a streamed chunk's time from sent to its ack, ms.
	ChunkLatency = "chunk_latency"
	// MessageLatency is a streamed message's time from its end sent to its final result, ms.
	MessageLatency = "message_latency"
	// WSConnectionFailed is the share of streaming sessions that could not connect.
	WSConnectionFailed = "ws_connection_failed"
	// StreamSessions counts streaming sessions.
	StreamSessions = "stream_sessions"
	// ChunksSent counts streamed chunks sent.
	ChunksSent = "chunks_sent"
)

// Def is one metric of the contract.
type Def struct {
	Name     string
	Type     metrics.MetricType
	Contains metrics.ValueType
}

var defs = []Def{
	{SuccessfulInferences, metrics.Counter, metrics.Default},
	{InferenceLatency, metrics.Trend, metrics.Time},
	{CrisisDetections, metrics.Counter, metrics.Default},
	{BiasDetections, metrics.Counter, metrics.Default},
	{InferenceParseErrors, metrics.Counter, metrics.Default},
	{CrisisRecall, metrics.Rate, metrics.Default},
	{CrisisFalseAlarms, metrics.Rate, metrics.Default},
	{BiasRecall, metrics.Rate, metrics.Default},
	{BiasFalseAlarms, metrics.Rate, metrics.Default},
	{ChunkLatency, metrics.Trend, metrics.Time},
	{MessageLatency, metrics.Trend, metrics.Time},
	{WSConnectionFailed, metrics.Rate, metrics.Default},
	{StreamSessions, metrics.Counter, metrics.Default},
	{ChunksSent, metrics.Counter, metrics.Default},
}

// All returns every metric of the contract, in a fixed order (a fresh slice).
func All() []Def { return append([]Def(nil), defs...) }

// Lookup returns the contract's definition of the metric called name; ok is false for a
// name that is not a pixel metric.
func Lookup(name string) (d Def, ok bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}
