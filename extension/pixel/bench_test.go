package pixel

import (
	"context"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

type discard struct{ n int }

func (d *discard) Push(_ context.Context, s []metrics.Sample) { d.n += len(s) }

// BenchmarkRecorderChunk is the per-chunk cost of recording a streamed chunk: its send, its
// ack received and its chunk_latency sample (batched pushes included).
func BenchmarkRecorderChunk(b *testing.B) {
	reg := metrics.NewRegistry()
	ms, err := newMetricSet(reg)
	if err != nil {
		b.Fatal(err)
	}
	st := &modules.State{Registry: reg, Builtin: metrics.RegisterBuiltin(reg), Samples: &discard{}}
	s := &session{base: metrics.TagsFromPairs("scenario", "default", "url", "ws://x"), ms: ms, st: st}
	r := newRecorder(context.Background(), s)
	r.Connected(time.Now(), time.Millisecond, 101, "")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		r.Sent(now, true)
		r.Received(now)
		r.Acked(now, 1, 1500*time.Microsecond)
	}
}

func BenchmarkParseDetection(b *testing.B) {
	body := []byte(crisisBiasBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDetection(body, DefaultPaths); err != nil {
			b.Fatal(err)
		}
	}
}
