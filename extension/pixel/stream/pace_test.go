package stream

import (
	"testing"
	"time"
)

func TestScheduleWait(t *testing.T) {
	ms := time.Millisecond
	s := Schedule{Interval: 20 * ms, Count: 50}
	cases := []struct {
		name     string
		sched    Schedule
		elapsed  time.Duration
		i        int
		wantWait time.Duration
		wantDone bool
		wantLag  time.Duration
	}{
		{"first chunk at start", s, 0, 0, 0, false, 0},
		{"second chunk one interval in", s, 0, 1, 20 * ms, false, 0},
		{"chunk i due at i*interval", s, 15 * ms, 10, 185 * ms, false, 0},
		{"exactly due", s, 200 * ms, 10, 0, false, 0},
		{"late chunk sent at once", s, 230 * ms, 10, 0, false, 30 * ms},
		{"last chunk", s, 970 * ms, 49, 10 * ms, false, 0},
		{"past the end", s, 0, 50, 0, true, 0},
		{"negative index", s, 0, -1, 0, true, 0},
		{"zero interval back to back", Schedule{Count: 3}, 0, 2, 0, false, 0},
		{"empty schedule", Schedule{Interval: ms}, 0, 0, 0, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, d := c.sched.Wait(c.elapsed, c.i)
			if w != c.wantWait || d != c.wantDone {
				t.Fatalf("Wait(%v, %d) = %v, %v; want %v, %v", c.elapsed, c.i, w, d, c.wantWait, c.wantDone)
			}
			if !d {
				if l := c.sched.Lag(c.elapsed, c.i); l != c.wantLag {
					t.Fatalf("Lag(%v, %d) = %v; want %v", c.elapsed, c.i, l, c.wantLag)
				}
			}
		})
	}
}

func TestScheduleDueIsLinear(t *testing.T) {
	s := Schedule{Interval: 20 * time.Millisecond, Count: 50}
	for i := range 50 {
		if got, want := s.Due(i), time.Duration(i)*20*time.Millisecond; got != want {
			t.Fatalf("Due(%d) = %v, want %v", i, got, want)
		}
	}
}

func TestAlignUp(t *testing.T) {
	origin := time.Unix(1000, 0)
	ms := time.Millisecond
	cases := []struct {
		name string
		now  time.Time
		grid time.Duration
		want time.Time
	}{
		{"on the grid", origin.Add(5 * ms), ms, origin.Add(5 * ms)},
		{"just after a step", origin.Add(5*ms + 1), ms, origin.Add(6 * ms)},
		{"just before a step", origin.Add(6*ms - 1), ms, origin.Add(6 * ms)},
		{"at the origin", origin, ms, origin},
		{"coarser grid", origin.Add(21 * ms), 20 * ms, origin.Add(40 * ms)},
		{"no grid", origin.Add(5*ms + 1), 0, origin.Add(5*ms + 1)},
		{"before the origin", origin.Add(-ms), ms, origin.Add(-ms)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AlignUp(c.now, origin, c.grid); !got.Equal(c.want) {
				t.Fatalf("AlignUp(%v) = %v, want %v", c.now.Sub(origin), got.Sub(origin), c.want.Sub(origin))
			}
		})
	}
}
