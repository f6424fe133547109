package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
)

// timedLoaded wraps a loaded script so that its runner records when each VU's
// initialisation ran.
type timedLoaded struct {
	loaded
	rec *initRecord
}

func (l timedLoaded) Runner(opts modules.Options) script {
	return timedScript{l.loaded.Runner(opts), l.rec}
}

type timedScript struct {
	script
	rec *initRecord
}

func (s timedScript) NewVU(ctx context.Context, spec engine.VUSpec) (engine.VU, error) {
	t0 := time.Now()
	v, err := s.script.NewVU(ctx, spec)
	s.rec.add(t0, time.Now())
	return v, err
}

// initRecord holds the spans of the VUs' initialisations.
type initRecord struct {
	mu    sync.Mutex
	spans [][2]time.Time
}

func (r *initRecord) add(from, to time.Time) {
	r.mu.Lock()
	r.spans = append(r.spans, [2]time.Time{from, to})
	r.mu.Unlock()
}

// BenchmarkArrivalRateScript runs a real script (goja VUs, the whole command line) with
// constant-arrival-rate at 2,000 iterations/s for 3 s and reports each start's lateness
// against its scheduled time, measured on the VU's goroutine as it wakes (p50, p99, max),
// the share of starts no more than 1 ms late, the achieved rate of started iterations and
// the dropped ones. "trivial" has 50 preallocated VUs and an empty iteration. "growing"
// starts with 1 VU and iterations that sleep 100 ms, so that about 200 VUs are needed and
// are initialised during the test (maxVUs 400): it also reports the lateness of the starts
// scheduled while a VU was being initialised (init-p50, init-p99, init-max) and of those
// scheduled between the first and the last VU added (grow-p50, grow-p99, grow-max), how
// many VUs were added and how long one took to initialise (the script imports k6/http, so
// that its init context does some work).
func BenchmarkArrivalRateScript(b *testing.B) {
	for _, bc := range []struct {
		name     string
		pre, max int
		body     string
	}{
		{"trivial", 50, 50, ""},
		{"growing", 1, 400, "sleep(0.1);"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const rate, dur = 2000, 3 * time.Second
			dir := b.TempDir()
			path := filepath.Join(dir, "arrival.js")
			src := fmt.Sprintf(`import http from 'k6/http';
import { sleep } from 'k6';
export const options = { scenarios: { b: { executor: 'constant-arrival-rate', rate: %d, timeUnit: '1s',
  duration: '%s', preAllocatedVUs: %d, maxVUs: %d } } };
export default function () { %s }
export function unused() { return http.get; }
`, rate, dur, bc.pre, bc.max, bc.body)
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				var mu sync.Mutex
				type start struct {
					at         time.Time // scheduled
					wake, disp time.Duration
				}
				starts := make([]start, 0, rate*4)
				rec := &initRecord{}
				d := defaultDeps()
				d.environ = func() []string { return nil }
				load := d.load
				d.load = func(ctx context.Context, path string, opts js.LoadOptions) (loaded, error) {
					l, err := load(ctx, path, opts)
					if err != nil {
						return nil, err
					}
					return timedLoaded{l, rec}, nil
				}
				d.traceStart = func(disp, wake time.Duration) {
					now := time.Now()
					mu.Lock()
					starts = append(starts, start{now.Add(-wake), wake, disp})
					mu.Unlock()
				}
				exp := filepath.Join(dir, "summary.json")
				var stdout, stderr bytes.Buffer
				if code := run(context.Background(), []string{"run", "-q", "--summary-export", exp, path}, &stdout, &stderr, d); code != 0 {
					b.Fatalf("exit code %d\n%s", code, stderr.String())
				}
				mu.Lock()
				wakes := make([]time.Duration, len(starts))
				var inInit, inGrow []time.Duration
				rec.mu.Lock()
				// The VUs initialised before the test are the first pre spans.
				added := rec.spans[min(bc.pre, len(rec.spans)):]
				rec.mu.Unlock()
				for i, s := range starts {
					wakes[i] = s.wake
					if len(added) == 0 || s.at.Before(added[0][0]) || s.at.After(added[len(added)-1][1]) {
						continue
					}
					inGrow = append(inGrow, s.wake)
					for _, a := range added {
						if !s.at.Before(a[0]) && !s.at.After(a[1]) {
							inInit = append(inInit, s.wake)
							break
						}
					}
				}
				mu.Unlock()
				slices.Sort(wakes)
				q := func(x []time.Duration, p float64) float64 {
					if len(x) == 0 {
						return 0
					}
					return float64(x[int(p*float64(len(x)-1))]) / 1e3
				}
				b.ReportMetric(q(wakes, 0.5), "p50-µs")
				b.ReportMetric(q(wakes, 0.99), "p99-µs")
				b.ReportMetric(q(wakes, 1), "max-µs")
				b.ReportMetric(float64(len(wakes))/dur.Seconds(), "started/s")
				if len(wakes) > 0 {
					within, _ := slices.BinarySearch(wakes, time.Millisecond+1) // starts no more than 1 ms late
					b.ReportMetric(100*float64(within)/float64(len(wakes)), "within-1ms-%")
				}
				var sum struct {
					Metrics map[string]map[string]any `json:"metrics"`
				}
				if raw, err := os.ReadFile(exp); err != nil {
					b.Fatal(err)
				} else if err := json.Unmarshal(raw, &sum); err != nil {
					b.Fatal(err)
				}
				dropped, _ := sum.Metrics["dropped_iterations"]["count"].(float64)
				b.ReportMetric(dropped, "dropped")
				if len(added) > 0 {
					slices.Sort(inInit)
					slices.Sort(inGrow)
					took := make([]time.Duration, len(added))
					for i, s := range added {
						took[i] = s[1].Sub(s[0])
					}
					slices.Sort(took)
					b.ReportMetric(float64(len(added)), "VUs-added")
					b.ReportMetric(q(took, 0.5), "VU-init-p50-µs")
					b.ReportMetric(float64(len(inInit)), "starts-in-init")
					b.ReportMetric(q(inInit, 0.5), "init-p50-µs")
					b.ReportMetric(q(inInit, 0.99), "init-p99-µs")
					b.ReportMetric(q(inInit, 1), "init-max-µs")
					b.ReportMetric(float64(len(inGrow)), "starts-in-growth")
					b.ReportMetric(added[len(added)-1][1].Sub(added[0][0]).Seconds()*1e3, "growth-ms")
					b.ReportMetric(q(inGrow, 0.5), "grow-p50-µs")
					b.ReportMetric(q(inGrow, 0.99), "grow-p99-µs")
					b.ReportMetric(q(inGrow, 1), "grow-max-µs")
				}
			}
		})
	}
}
