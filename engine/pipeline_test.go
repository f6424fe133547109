package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// countOutput counts samples.
type countOutput struct{ n atomic.Int64 }

func (o *countOutput) Start() error                  { return nil }
func (o *countOutput) Stop() error                   { return nil }
func (o *countOutput) AddSamples(s []metrics.Sample) { o.n.Add(int64(len(s))) }

func requestSamples(b *metrics.Builtin) []metrics.Sample {
	tags := metrics.TagsFromPairs("name", "infer", "method", "GET", "status", "200", "expected_response", "true", "scenario", "default", "group", "")
	now := time.Now()
	return []metrics.Sample{
		{Metric: b.HTTPReqs, Tags: tags, Time: now, Value: 1},
		{Metric: b.HTTPReqDuration, Tags: tags, Time: now, Value: 5},
		{Metric: b.HTTPReqBlocked, Tags: tags, Time: now, Value: 0.01},
		{Metric: b.HTTPReqConnecting, Tags: tags, Time: now, Value: 0},
		{Metric: b.HTTPReqTLS, Tags: tags, Time: now, Value: 0},
		{Metric: b.HTTPReqSending, Tags: tags, Time: now, Value: 0.02},
		{Metric: b.HTTPReqWaiting, Tags: tags, Time: now, Value: 4.9},
		{Metric: b.HTTPReqReceiving, Tags: tags, Time: now, Value: 0.05},
		{Metric: b.HTTPReqFailed, Tags: tags, Time: now, Value: 0},
		{Metric: b.Checks, Tags: tags.With("check", "ok"), Time: now, Value: 1},
	}
}

func TestPipelineCountsEverySample(t *testing.T) {
	reg := metrics.NewRegistry()
	b := metrics.RegisterBuiltin(reg)
	out := &countOutput{}
	ths, err := metrics.ParseThresholdsJSON([]byte(`{"http_req_duration{name:infer}":["p(95)<1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(reg, b, []Output{out}, ths, nil, nil)
	go p.run(time.Now())
	bufs := []*vuBuffer{p.newBuffer(), p.newBuffer()}
	batch := requestSamples(b)
	const n = 1000
	for i := 0; i < n; i++ {
		bufs[i%2].Push(context.Background(), batch)
	}
	close(p.stop)
	<-p.stopped
	if got := out.n.Load(); got != n*int64(len(batch)) {
		t.Fatalf("output got %d samples, want %d", got, n*len(batch))
	}
	p.evaluate(time.Second, false)
	if keys := p.failedKeys(); len(keys) != 1 || keys[0] != "http_req_duration{name:infer}" {
		t.Fatalf("failed keys %v", keys)
	}
	if c := p.states[b.HTTPReqDuration.ID].subs; len(c) != 2 || c[0].sink.Count() != n || c[1].sink.Count() != n {
		t.Fatalf("submetric sinks: %+v", c)
	}
	if len(p.checks) != 1 || p.checks[0].passes != n {
		t.Fatalf("checks %+v", p.checks)
	}
}

func TestRateLimiter(t *testing.T) {
	base := time.Unix(100, 0)
	r := rateLimiter{perSecond: 2}
	steps := []struct {
		at        time.Duration
		ok        bool
		suppessed int
	}{
		{0, true, 0}, {100 * time.Millisecond, true, 0}, {200 * time.Millisecond, false, 0}, {900 * time.Millisecond, false, 0},
		{time.Second, true, 2}, {1100 * time.Millisecond, true, 0}, {1200 * time.Millisecond, false, 0},
	}
	for i, s := range steps {
		ok, sup := r.allow(base.Add(s.at))
		if ok != s.ok || sup != s.suppessed {
			t.Fatalf("step %d at %v: allow = %v, %d; want %v, %d", i, s.at, ok, sup, s.ok, s.suppessed)
		}
	}
}

// BenchmarkPipeline pushes one HTTP request's 10 samples per op from parallel VUs through
// the per-VU buffers into the aggregator (sinks, one submetric, checks, an output).
func BenchmarkPipeline(b *testing.B) {
	reg := metrics.NewRegistry()
	bi := metrics.RegisterBuiltin(reg)
	ths, _ := metrics.ParseThresholdsJSON([]byte(`{"http_req_duration{name:infer}":["p(95)<500"],"http_req_duration":["p(95)<500"]}`))
	out := &countOutput{}
	p := newPipeline(reg, bi, []Output{out}, ths, nil, nil)
	go p.run(time.Now())
	batch := requestSamples(bi)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := p.newBuffer()
		for pb.Next() {
			buf.Push(ctx, batch)
		}
	})
	close(p.stop)
	<-p.stopped
	b.StopTimer()
	if out.n.Load() != int64(b.N*len(batch)) {
		b.Fatalf("lost samples: %d of %d", out.n.Load(), b.N*len(batch))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
}

// TestBufferReuse: a VU that pushes a steady stream reuses its swept buffer (no allocation
// per sweep) when no output may keep the samples; with an output, every batch is new.
func TestBufferReuse(t *testing.T) {
	reg := metrics.NewRegistry()
	b := metrics.RegisterBuiltin(reg)
	for _, tc := range []struct {
		name string
		outs []Output
		want float64
	}{{"no output", nil, 0}, {"an output", []Output{&countOutput{}}, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(reg, b, tc.outs, nil, nil, nil)
			v := p.newBuffer()
			one := []metrics.Sample{{Metric: b.Iterations, Value: 1}}
			cycle := func() { // a sweep's worth of pushes, then the sweep
				for range 40 {
					v.Push(context.Background(), one)
				}
				s := v.take()
				p.process(s)
				v.giveBack(s)
			}
			cycle()
			cycle()
			if n := testing.AllocsPerRun(50, cycle); n != tc.want {
				t.Errorf("%v allocations per sweep, want %v", n, tc.want)
			}
		})
	}
}
