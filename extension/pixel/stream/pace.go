package stream

import "time"

// Schedule is the pacing plan of a session: Count chunks, chunk i (0-based) due at
// start + i*Interval. It is pure arithmetic, tested without a clock; the writer walks it with
// one reusable timer. A writer that falls behind sends late chunks at once (it catches up
// rather than skipping), so the chunk count never depends on scheduling jitter.
type Schedule struct {
	Interval time.Duration // ≥ 0; 0 sends every chunk back to back
	Count    int           // number of chunks
}

// Due returns chunk i's offset from the session's stream start.
func (s Schedule) Due(i int) time.Duration { return time.Duration(i) * s.Interval }

// Wait returns how long to wait, elapsed after the stream start, before sending chunk i, and
// done = true when i is past the last chunk. wait is 0 when the chunk is already due or late.
func (s Schedule) Wait(elapsed time.Duration, i int) (wait time.Duration, done bool) {
	if i >= s.Count || i < 0 {
		return 0, true
	}
	if w := s.Due(i) - elapsed; w > 0 {
		return w, false
	}
	return 0, false
}

// Lag returns how late chunk i is when sent elapsed after the stream start (0 when on time).
func (s Schedule) Lag(elapsed time.Duration, i int) time.Duration {
	if l := elapsed - s.Due(i); l > 0 {
		return l
	}
	return 0
}

// PacingGrid is the granularity on which sessions start streaming: every session's stream
// start (and so every chunk's due time, when intervals are multiples of it) falls on a
// multiple of PacingGrid since a process-wide origin. Sessions whose chunks are due in the
// same instant are woken by the runtime in one timer pass instead of one wake-up each, which
// at 1000 sessions × 50 chunks/s saves most of the scheduler's wake-ups. A stream starts at
// most one grid step late.
const PacingGrid = time.Millisecond

// gridOrigin is the immutable origin of the pacing grid (a monotonic clock reading).
var gridOrigin = time.Now()

// AlignUp returns the first instant at or after now that is origin + k*grid for an integer
// k ≥ 0 (now itself when grid ≤ 0 or now is before origin).
func AlignUp(now, origin time.Time, grid time.Duration) time.Time {
	d := now.Sub(origin)
	if grid <= 0 || d < 0 {
		return now
	}
	k := (d + grid - 1) / grid
	return origin.Add(k * grid)
}
