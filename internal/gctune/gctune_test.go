package gctune

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, maxPercent},
		{1 << 20, maxPercent}, // a small heap: capped
		{95 << 20, 200},       // the 1,000-VU WebSocket run
		{128 << 20, 200},      // 256 MiB over 128 MiB
		{192 << 20, 133},
		{256 << 20, 100}, // from here on, Go's default
		{330 << 20, 100}, // the 10,000-VU run
		{4 << 30, 100},
	} {
		if got := Percent(tc.live, Headroom); got != tc.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// TestStart: the tuner follows the live heap, sets GOGC only when it changes, and puts 100
// back when stopped; with GOGC or GOMEMLIMIT in the environment it does nothing.
func TestStart(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	var mu sync.Mutex
	var sets []int
	heaps := make(chan uint64, 1)
	heaps <- 128 << 20
	last := uint64(128 << 20)
	live := func() uint64 { // the tuner's goroutine: the next heap when one was queued
		select {
		case last = <-heaps:
		default:
		}
		return last
	}
	set := func(p int) { mu.Lock(); sets = append(sets, p); mu.Unlock() }
	got := func() string { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(sets) }
	stop := start(context.Background(), noEnv, time.Millisecond, live, set)
	for _, h := range []uint64{128 << 20, 192 << 20, 512 << 20} {
		heaps <- h
	}
	want := "[200 133 100]"
	for i := 0; i < 10000 && got() != want; i++ {
		time.Sleep(time.Millisecond)
	}
	heaps <- 95 << 20
	for i := 0; i < 10000 && got() != "[200 133 100 200]"; i++ {
		time.Sleep(time.Millisecond)
	}
	stop()
	if g := got(); g != "[200 133 100 200 100]" {
		t.Errorf("set %s, want [200 133 100 200 100]", g)
	}
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		sets = nil
		stop := start(context.Background(), func(k string) (string, bool) { return "50", k == name }, time.Millisecond, live, set)
		stop()
		if g := got(); g != "[]" {
			t.Errorf("with %s set, the tuner set %s", name, g)
		}
	}
}
