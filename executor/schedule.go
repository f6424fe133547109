package executor

import (
	"math"
	"math/big"
	"time"
)

// RateSegment is one piece of an arrival-rate schedule: from Start, for Duration, the rate
// moves linearly from From to To iterations per time unit.
type RateSegment struct {
	Start, Duration time.Duration
	From, To        int64
}

// Schedule is an arrival-rate executor's iteration start times, as arithmetic: the rate is
// piecewise linear in time, and the n-th iteration (0-based) starts at the first instant
// after which the integral of the rate from the scenario's start exceeds n. With a
// constant rate r per second the starts are 0, 1/r, 2/r, ...; a stretch at rate 0 starts
// nothing; the number of starts in [0, d) is ⌈∫₀ᵈ rate⌉, computed exactly.
//
// It has no clock: the engine asks Offset(n) for each n below Count(Duration()) and waits
// until the scenario's start plus that offset.
type Schedule struct {
	// TimeUnit is the period the rates are per (k6's timeUnit, default 1s).
	TimeUnit time.Duration
	// Segments are contiguous from offset 0; zero-length stages are not in them (the rate
	// jumps).
	Segments []RateSegment
	// cum[k] is the integral of the rate up to Segments[k].Start, in units of
	// 1/(2·TimeUnit in ns) iterations, so that it is an exact integer; len(Segments)+1.
	cum []*big.Int
}

// NewSchedule builds the schedule starting at startRate per timeUnit and following the
// stages: each moves linearly to its target over its duration; a zero-duration stage
// jumps to its target. Arguments are assumed valid (timeUnit > 0, no negative rate or
// duration).
func NewSchedule(timeUnit time.Duration, startRate int64, stages []Stage) *Schedule {
	s := &Schedule{TimeUnit: timeUnit, cum: []*big.Int{new(big.Int)}}
	cur := startRate
	var at time.Duration
	for _, st := range stages {
		d := st.Duration.D()
		if d > 0 {
			s.Segments = append(s.Segments, RateSegment{Start: at, Duration: d, From: cur, To: st.Target})
			// ∫ over the segment = (from+to)/2 · d / timeUnit iterations = (from+to)·d units.
			area := new(big.Int).Mul(big.NewInt(cur+st.Target), big.NewInt(int64(d)))
			s.cum = append(s.cum, area.Add(area, s.cum[len(s.cum)-1]))
		}
		cur = st.Target
		at += d
	}
	return s
}

// Duration is the schedule's length: the sum of its stages' durations.
func (s *Schedule) Duration() time.Duration {
	if len(s.Segments) == 0 {
		return 0
	}
	last := s.Segments[len(s.Segments)-1]
	return last.Start + last.Duration
}

// MaxRate is the highest rate of the schedule, per TimeUnit.
func (s *Schedule) MaxRate() int64 {
	var m int64
	for _, g := range s.Segments {
		m = max(m, g.From, g.To)
	}
	return m
}

// PerSecond converts a rate per TimeUnit to iterations per second.
func (s *Schedule) PerSecond(rate float64) float64 {
	return rate * float64(time.Second) / float64(s.TimeUnit)
}

// RateAt is the rate at offset t in iterations per second (0 outside the schedule).
func (s *Schedule) RateAt(t time.Duration) float64 {
	for _, g := range s.Segments {
		if t >= g.Start && t < g.Start+g.Duration {
			e := float64(t - g.Start)
			r := float64(g.From) + float64(g.To-g.From)*e/float64(g.Duration)
			return s.PerSecond(r)
		}
	}
	return 0
}

// Count is the number of iterations the schedule starts in [0, d): ⌈∫₀ᵈ rate⌉, exact.
func (s *Schedule) Count(d time.Duration) int64 {
	if d <= 0 || len(s.Segments) == 0 {
		return 0
	}
	k := len(s.Segments) - 1
	for i, g := range s.Segments {
		if d < g.Start+g.Duration {
			k = i
			break
		}
	}
	g := s.Segments[k]
	e := min(d-g.Start, g.Duration)
	// F(d)·2·tu·D = cum[k]·D + 2·from·e·D + (to−from)·e², over den = 2·tu·D (D the segment's
	// duration, e the time spent in it).
	D := big.NewInt(int64(g.Duration))
	E := big.NewInt(int64(e))
	num := new(big.Int).Mul(s.cum[k], D)
	t := new(big.Int).Mul(big.NewInt(2*g.From), E)
	num.Add(num, t.Mul(t, D))
	t2 := new(big.Int).Mul(E, E)
	num.Add(num, t2.Mul(t2, big.NewInt(g.To-g.From)))
	den := new(big.Int).Mul(big.NewInt(2*int64(s.TimeUnit)), D)
	// ⌈num/den⌉ for num ≥ 0.
	num.Add(num, den)
	num.Sub(num, big.NewInt(1))
	num.Quo(num, den)
	if !num.IsInt64() {
		return math.MaxInt64
	}
	return num.Int64()
}

// Total is the number of iterations of the whole schedule: Count(Duration()).
func (s *Schedule) Total() int64 { return s.Count(s.Duration()) }

// Offset is when the n-th iteration (0-based) starts, from the scenario's start, rounded
// to the nanosecond; false when the schedule ends before it.
func (s *Schedule) Offset(n int64) (time.Duration, bool) {
	if n < 0 || len(s.Segments) == 0 {
		return 0, false
	}
	target := new(big.Int).Mul(big.NewInt(n), big.NewInt(2*int64(s.TimeUnit)))
	// The segment k where the integral crosses n: the first with cum[k+1] > target.
	lo, hi := 0, len(s.Segments)
	for lo < hi {
		m := (lo + hi) / 2
		if s.cum[m+1].Cmp(target) > 0 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(s.Segments) {
		return 0, false
	}
	g := s.Segments[lo]
	x, _ := new(big.Float).SetInt(target.Sub(target, s.cum[lo])).Float64()
	// Within the segment, the integral in units after e ns is 2·from·e + (to−from)·e²/D;
	// solve it for x (the stable root, also for decreasing rates).
	var e float64
	from, to, D := float64(g.From), float64(g.To), float64(g.Duration)
	switch {
	case x <= 0:
		e = 0
	case g.From == g.To:
		e = x / (2 * from)
	default:
		e = x / (from + math.Sqrt(max(from*from+(to-from)*x/D, 0)))
	}
	off := time.Duration(math.Round(e))
	if off >= g.Duration {
		off = g.Duration - 1
	}
	return g.Start + max(off, 0), true
}
