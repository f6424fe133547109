package dashboard

import (
	"math"
	"slices"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Charted are the metrics the page draws, in the order of its charts: k6's built-ins and the
// pixel metrics (package pixelmetrics' names; a literal list here so that this package
// depends on metrics only). Other metrics are summarised in Totals only.
var Charted = []string{
	"vus", "http_reqs", "http_req_failed", "http_req_duration", "checks", "iterations", "iteration_duration",
	"inference_latency", "chunk_latency", "message_latency", "crisis_detections", "bias_detections",
	"crisis_recall", "bias_recall", "crisis_false_alarms", "bias_false_alarms", "ws_connection_failed",
	"stream_sessions", "chunks_sent", "successful_inferences", "ws_sessions", "ws_msgs_sent",
}

// IsCharted reports whether the page draws metric name.
func IsCharted(name string) bool { return slices.Contains(Charted, name) }

// Stats puts into v the statistics the page draws for a sink of metric name over a span of
// dur (a time point, or the whole run for Totals), keyed "name:stat":
//
//	counter  name:rate (per second over dur), name:count
//	gauge    name:value (last), name:max
//	rate     name:rate (share of non-zero values, in [0,1])
//	trend    name:p50, name:p95, name:p99, name:avg, name:max (the metric's unit: ms for time)
//
// Both feeds call it, so the live page and a report show the same numbers for the same
// samples. An empty sink adds nothing.
func Stats(name string, t metrics.MetricType, s metrics.Sink, dur time.Duration, v map[string]float64) {
	if s == nil || s.IsEmpty() {
		return
	}
	put := func(stat string, a metrics.Aggregation) {
		if x, ok := s.Aggregate(a, dur); ok && !math.IsNaN(x) && !math.IsInf(x, 0) {
			v[name+":"+stat] = x
		}
	}
	switch t {
	case metrics.Counter:
		put("count", metrics.Aggregation{Kind: metrics.AggCount})
		if dur > 0 {
			put("rate", metrics.Aggregation{Kind: metrics.AggRate})
		}
	case metrics.Gauge:
		put("value", metrics.Aggregation{Kind: metrics.AggValue})
		put("max", metrics.Aggregation{Kind: metrics.AggMax})
	case metrics.Rate:
		put("rate", metrics.Aggregation{Kind: metrics.AggRate})
	default:
		put("p50", metrics.Aggregation{Kind: metrics.AggPercentile, P: 50})
		put("p95", metrics.Aggregation{Kind: metrics.AggPercentile, P: 95})
		put("p99", metrics.Aggregation{Kind: metrics.AggPercentile, P: 99})
		put("avg", metrics.Aggregation{Kind: metrics.AggAvg})
		put("max", metrics.Aggregation{Kind: metrics.AggMax})
	}
}
