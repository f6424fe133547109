// Package gctune gives Go's garbage collector a floor of headroom: the heap may grow by at
// least Headroom bytes over the live heap between collections, and by the live heap itself
// (Go's default, GOGC=100) once that is larger.
//
// Why: a load test's heap is small next to the machine's memory (1,000 VUs streaming over
// WebSockets keep about 95 MiB live) while its allocation rate is high (goja allocates for
// every call into JavaScript), so with GOGC=100 the collector ran every few hundred
// milliseconds and took about a sixth of pixelk6's CPU in that test. A floor of headroom
// (with GOGC at most 200, so that a small heap grows at most threefold) cuts that where
// memory is plentiful, and leaves big heaps (10,000 VUs) exactly as Go's default would. The tuner stays out of the way of anyone who chose: it does
// nothing when GOGC or GOMEMLIMIT is set in the environment.
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Headroom is the least the heap may grow by between collections.
	Headroom = 256 << 20
	// maxPercent bounds the GOGC the tuner sets: a small live heap would ask for more, and
	// memory per VU at 1000 mostly idle VUs (live heap about 26 KiB per VU) is held to its
	// budget of 120 KiB per VU.
	maxPercent = 200
	// every is how often the live heap is read.
	every = 500 * time.Millisecond
)

// Percent is the GOGC that gives a live heap of live bytes headroom bytes to grow by:
// at least Go's default 100, at most maxPercent.
func Percent(live, headroom uint64) int {
	if live == 0 {
		return maxPercent
	}
	p := headroom * 100 / live
	return int(min(max(p, 100), maxPercent))
}

// Start tunes the collector until ctx ends, unless the environment (env, os.LookupEnv's
// shape) sets GOGC or GOMEMLIMIT; the returned function stops it, waits for its goroutine
// and puts Go's default back.
func Start(ctx context.Context, env func(string) (string, bool)) (stop func()) {
	return start(ctx, env, every, liveHeap, func(p int) { debug.SetGCPercent(p) })
}

// liveHeap reads the live heap (as of the last collection), 0 when unknown.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func start(ctx context.Context, env func(string) (string, bool), period time.Duration, live func() uint64, set func(int)) func() {
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
		apply := func() {
			if p := Percent(live(), Headroom); p != cur {
				cur = p
				set(p)
			}
		}
		apply()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				apply()
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
