package secrets

import (
	"testing"
	"time"
)

// TestTokenBucket: burst requests pass at once, the next waits an interval, and tokens come
// back with time, no more than the burst (no clock: times are given).
func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newTokenBucket(200*time.Millisecond, 2)
	b.last = t0
	steps := []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, 0}, {0, 0}, // the burst
		{0, 200 * time.Millisecond},                // one interval for the next token
		{0, 400 * time.Millisecond},                // and two for the one after
		{10 * time.Second, 0},                      // refilled (to the burst only)
		{10 * time.Second, 0},                      //
		{10 * time.Second, 200 * time.Millisecond}, // the burst is spent again
	}
	for i, s := range steps {
		if got := b.reserve(t0.Add(s.at)); got != s.want {
			t.Errorf("step %d: wait %v, want %v", i, got, s.want)
		}
	}
}
