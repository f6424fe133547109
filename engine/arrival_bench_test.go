package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// BenchmarkArrivalRateStartError runs constant-arrival-rate at 2,000 iterations/s for 2s
// and reports each start's lateness against the schedule, measured on the VU's goroutine
// as it wakes (p50, p99, max) and when the scheduler handed it over (dispatch-p50,
// dispatch-p99), and the achieved rate of started iterations. "growing" starts
// with 1 VU and initialises up to 200 during the run (each taking 2ms of CPU, iterations
// 20ms): the scheduler must keep its times while VUs are added.
func BenchmarkArrivalRateStartError(b *testing.B) {
	for _, bc := range []struct {
		name      string
		pre, max  int
		iter      time.Duration
		initDelay time.Duration
	}{
		{"preallocated", 50, 50, 0, 0},
		{"growing", 1, 200, 20 * time.Millisecond, 2 * time.Millisecond},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const rate, dur = 2000, 2 * time.Second
			for b.Loop() {
				var mu sync.Mutex
				lates := make([]time.Duration, 0, rate*3)
				dispatch := make([]time.Duration, 0, rate*3)
				fr := &fakeRunner{initDelay: bc.initDelay}
				if bc.iter > 0 {
					fr.iter = sleepIter(bc.iter)
				}
				reg := metrics.NewRegistry()
				fr.reg, fr.builtin = reg, metrics.RegisterBuiltin(reg)
				script := fmt.Sprintf(`{"scenarios":{"b":{"executor":"constant-arrival-rate","rate":%d,"duration":"%s","preAllocatedVUs":%d,"maxVUs":%d}}}`,
					rate, dur, bc.pre, bc.max)
				res := Run(context.Background(), Config{
					Runner: fr, Registry: reg, Test: testFromJSON(b, script),
					TraceStart: func(d, late time.Duration) {
						mu.Lock()
						dispatch, lates = append(dispatch, d), append(lates, late)
						mu.Unlock()
					},
				})
				if res.ExitCode() != 0 {
					b.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
				}
				mu.Lock()
				slices.Sort(lates)
				slices.Sort(dispatch)
				q := func(x []time.Duration, p float64) float64 { return float64(x[int(p*float64(len(x)-1))]) / 1e3 }
				b.ReportMetric(q(lates, 0.5), "p50-µs")
				b.ReportMetric(q(lates, 0.99), "p99-µs")
				b.ReportMetric(q(lates, 1), "max-µs")
				b.ReportMetric(q(dispatch, 0.5), "dispatch-p50-µs")
				b.ReportMetric(q(dispatch, 0.99), "dispatch-p99-µs")
				b.ReportMetric(float64(len(lates))/dur.Seconds(), "started/s")
				b.ReportMetric(float64(rate*dur.Seconds()-float64(len(lates))), "dropped")
				mu.Unlock()
			}
		})
	}
}
