package js

import (
	"testing"
	"time"
)

// TestNextTick: an interval keeps its schedule when a tick runs late (the lateness does not
// add up), and a tick later than a whole period fires at once without a catch-up burst.
func TestNextTick(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		due, now time.Time
		want     time.Time
	}{
		{"on time", t0, t0, t0.Add(20 * ms)},
		{"5 ms late: the next tick stays on the schedule", t0, t0.Add(5 * ms), t0.Add(20 * ms)},
		{"a period late: fire now", t0, t0.Add(35 * ms), t0.Add(35 * ms)},
		{"exactly a period late", t0, t0.Add(20 * ms), t0.Add(20 * ms)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextTick(tc.due, tc.now, 20*ms); !got.Equal(tc.want) {
				t.Fatalf("nextTick = %v, want %v", got.Sub(t0), tc.want.Sub(t0))
			}
		})
	}
}
