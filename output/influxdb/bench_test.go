package influxdb

import (
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// BenchmarkAccumulate encodes the 13 samples of one /health iteration (9 HTTP, 4
// iteration) as the engine hands them to the output.
func BenchmarkAccumulate(b *testing.B) {
	reg := metrics.NewRegistry()
	bi := metrics.RegisterBuiltin(reg)
	tags := metrics.NewTagSet(map[string]string{"method": "GET", "name": "http://127.0.0.1:5173/health", "url": "http://127.0.0.1:5173/health",
		"proto": "HTTP/1.1", "scenario": "default", "status": "200", "expected_response": "true"})
	itags := metrics.NewTagSet(map[string]string{"scenario": "default"})
	now := time.Now()
	batch := []metrics.Sample{
		{Metric: bi.HTTPReqs, Tags: tags, Time: now, Value: 1}, {Metric: bi.HTTPReqDuration, Tags: tags, Time: now, Value: 0.712345},
		{Metric: bi.HTTPReqBlocked, Tags: tags, Time: now, Value: 0.0021}, {Metric: bi.HTTPReqConnecting, Tags: tags, Time: now, Value: 0},
		{Metric: bi.HTTPReqTLS, Tags: tags, Time: now, Value: 0}, {Metric: bi.HTTPReqSending, Tags: tags, Time: now, Value: 0.013},
		{Metric: bi.HTTPReqWaiting, Tags: tags, Time: now, Value: 0.65}, {Metric: bi.HTTPReqReceiving, Tags: tags, Time: now, Value: 0.04},
		{Metric: bi.HTTPReqFailed, Tags: tags, Time: now, Value: 0}, {Metric: bi.DataSent, Tags: itags, Time: now, Value: 96},
		{Metric: bi.DataReceived, Tags: itags, Time: now, Value: 143}, {Metric: bi.IterationDuration, Tags: itags, Time: now, Value: 0.9},
		{Metric: bi.Iterations, Tags: itags, Time: now, Value: 1},
	}
	cfg := defaultConfig()
	o := &Output{cfg: cfg}
	a := newAccumulator(o)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a.Add(batch)
		if i%1000 == 999 {
			if r := a.Take(); r != nil {
				r.(*request).Release()
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/point")
}
