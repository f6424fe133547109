package gctune

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const MiB = 1 << 20
	for _, tc := range []struct {
		live, rate uint64
		want       int
	}{
		{0, 0, 100},
		{95 * MiB, 150 * MiB, 157},   // the 1,000-VU WebSocket run
		{95 * MiB, 400 * MiB, 200},   // capped
		{30 * MiB, 20 * MiB, 100},    // 1,000 VUs that mostly sleep: Go's default
		{330 * MiB, 100 * MiB, 100},  // 10,000 VUs
		{512 * MiB, 1024 * MiB, 150}, // a big heap: at most MaxExtra over the default
		{4096 * MiB, 8192 * MiB, 106},
	} {
		if got := Percent(tc.live, tc.rate); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB/s) = %d, want %d", tc.live/MiB, tc.rate/MiB, got, tc.want)
		}
	}
}

// TestStart: the tuner follows the allocation rate, sets GOGC only when it changes, and
// puts 100 back when stopped; with GOGC or GOMEMLIMIT in the environment it does nothing.
func TestStart(t *testing.T) {
	const MiB = 1 << 20
	noEnv := func(string) (string, bool) { return "", false }
	var mu sync.Mutex
	var sets []int
	// Each tick (1 ms of real time, 1 s of the fake clock) allocates the last step's bytes,
	// with a live heap of 100 MiB.
	steps := make(chan uint64, 8)
	var allocated, step uint64
	read := func() (uint64, uint64) {
		select {
		case step = <-steps:
		default:
		}
		allocated += step
		return 100 * MiB, allocated
	}
	clock := time.Unix(0, 0)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	set := func(p int) { mu.Lock(); sets = append(sets, p); mu.Unlock() }
	got := func() string { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(sets) }
	stop := start(context.Background(), noEnv, time.Millisecond, now, read, set)
	wait := func(want string) {
		t.Helper()
		for i := 0; i < 10000 && got() != want; i++ {
			time.Sleep(time.Millisecond)
		}
		if g := got(); g != want {
			t.Fatalf("set %s, want %s", g, want)
		}
	}
	steps <- 150 * MiB
	wait("[150]")
	steps <- 500 * MiB
	wait("[150 200]")
	steps <- 10 * MiB
	wait("[150 200 100]")
	steps <- 150 * MiB
	wait("[150 200 100 150]")
	stop()
	wait("[150 200 100 150 100]")
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		sets = nil
		stop := start(context.Background(), func(k string) (string, bool) { return "50", k == name }, time.Millisecond, now, read, set)
		stop()
		if g := got(); g != "[]" {
			t.Errorf("with %s set, the tuner set %s", name, g)
		}
	}
}
