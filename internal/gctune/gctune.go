// Package gctune spaces the garbage collector's cycles out when a test allocates fast: it
// raises GOGC so that a cycle comes about once a second at the current allocation rate
// (GOGC between Go's default 100 and 200), and never lets the heap grow more than
// MaxExtra past where Go's default would let it.
//
// Why: a load test's heap is small next to the machine's memory while goja allocates for
// every call into JavaScript. 1,000 VUs streaming over WebSockets keep about 95 MiB live
// and allocate about 150 MiB/s; with GOGC=100 the collector ran every 0.6 s and took about
// a sixth of pixelk6's CPU in that test. A test that allocates slowly, such as 1,000 VUs
// that mostly sleep, keeps Go's default and its memory per VU, and so does a big heap
// (10,000 VUs) beyond MaxExtra. The tuner stays out of the way of anyone who chose: it does
// nothing when GOGC or GOMEMLIMIT is set in the environment.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// MaxExtra bounds the heap the tuner adds to what Go's default would allow.
	MaxExtra = 256 << 20
	// maxPercent bounds the GOGC the tuner sets (a heap at most three times the live one).
	maxPercent = 200
	// cycle is the time between collections the tuner aims at.
	cycle = time.Second
	// every is how often the heap is read.
	every = 500 * time.Millisecond
)

// Percent is the GOGC for a live heap of live bytes that grows by rate bytes a second:
// enough headroom for a cycle's worth of allocation, at least 100, at most maxPercent and
// at most MaxExtra over Go's default.
func Percent(live, rate uint64) int {
	if live == 0 {
		return 100
	}
	want := rate * uint64(cycle/time.Second) * 100 / live
	limit := 100 + MaxExtra*100/live
	return int(max(min(want, limit, maxPercent), 100))
}

// Start tunes the collector until ctx ends, unless the environment (env, os.LookupEnv's
// shape) sets GOGC or GOMEMLIMIT; the returned function stops it, waits for its goroutine
// and puts Go's default back.
func Start(ctx context.Context, env func(string) (string, bool)) (stop func()) {
	return start(ctx, env, every, time.Now, readHeap, func(p int) { debug.SetGCPercent(p) })
}

// readHeap reads the live heap (as of the last collection) and the bytes allocated so far.
func readHeap() (live, allocated uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		allocated = s[1].Value.Uint64()
	}
	return live, allocated
}

func start(ctx context.Context, env func(string) (string, bool), period time.Duration, now func() time.Time,
	read func() (live, allocated uint64), set func(int)) func() {
	_, gogc := env("GOGC")
	_, limit := env("GOMEMLIMIT")
	if gogc || limit {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cur := 100
		_, last := read()
		lastAt := now()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				live, allocated := read()
				at := now()
				rate := uint64(0)
				if d := at.Sub(lastAt); d > 0 {
					rate = uint64(float64(allocated-min(last, allocated)) / d.Seconds())
				}
				last, lastAt = allocated, at
				if p := Percent(live, rate); p != cur {
					cur = p
					set(p)
				}
			case <-ctx.Done():
				if cur != 100 {
					set(100)
				}
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
