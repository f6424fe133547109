package http_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/metrics"
)

// BenchmarkThroughput20VUs runs b.N iterations of a no-sleep `http.get(BASE + '/health')`
// spread over 20 VUs, the shape of the README's throughput budget. It targets
// $PIXELK6_BENCH_URL (e.g. a running pixelsim) and is skipped without it; compare its
// ns/op with wrk -t2 -c20 against the same target.
func BenchmarkThroughput20VUs(b *testing.B) {
	base := os.Getenv("PIXELK6_BENCH_URL")
	if base == "" {
		b.Skip("set PIXELK6_BENCH_URL to a target (e.g. pixelsim) to run")
	}
	const vus = 20
	h := jstest.MustLoad(b, "import http from 'k6/http';\nconst U = __ENV.BASE + '/health';\nexport default function () { const r = http.get(U); if (r.status !== 200) throw new Error(r.error); }\n",
		map[string]string{"BASE": base})
	all := make([]js.VU, vus)
	for i := range all {
		all[i] = h.VU(b, uint64(i+1))
	}
	// Drop samples: the engine's aggregation is not part of this measurement.
	for _, v := range all {
		v.State().Samples = discard{}
	}
	ctx := context.Background()
	work := make(chan struct{}, vus)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, v := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := v.RunIteration(ctx, "default", nil); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
}

type discard struct{}

func (discard) Push(context.Context, []metrics.Sample) {}
