package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// z99 is the standard normal quantile at 0.99.
const z99 = 2.3263478740408408

// Latency is the model-latency distribution: log-normal with the given median and 99th
// percentile. Median == P99 gives a fixed delay; both zero gives no delay at all.
type Latency struct {
	Median time.Duration
	P99    time.Duration
}

// FixedLatency returns a distribution that always yields d.
func FixedLatency(d time.Duration) Latency { return Latency{Median: d, P99: d} }

// Validate reports a negative duration or a p99 below the median.
func (l Latency) Validate() error {
	if l.Median < 0 || l.P99 < 0 {
		return fmt.Errorf("latency %s: durations must not be negative", l)
	}
	if l.P99 < l.Median {
		return fmt.Errorf("latency %s: p99 must not be below the median", l)
	}
	if l.Median == 0 && l.P99 != 0 {
		return fmt.Errorf("latency %s: a log-normal needs a positive median", l)
	}
	return nil
}

// IsZero reports whether the distribution always yields zero.
func (l Latency) IsZero() bool { return l.Median == 0 && l.P99 == 0 }

// Quantile returns the latency at standard normal score z (z = 0 is the median, z ≈ 2.326
// is the p99). It is pure: Sample draws z from a random source.
func (l Latency) Quantile(z float64) time.Duration {
	if l.Median == l.P99 || l.Median <= 0 {
		return l.Median
	}
	mu := math.Log(float64(l.Median))
	sigma := (math.Log(float64(l.P99)) - mu) / z99
	v := math.Exp(mu + sigma*z)
	if v >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(v)
}

// Sample draws one latency using r.
func (l Latency) Sample(r *rand.Rand) time.Duration {
	if l.Median == l.P99 {
		return l.Median
	}
	return l.Quantile(r.NormFloat64())
}

// String formats l in the syntax ParseLatency accepts.
func (l Latency) String() string {
	switch {
	case l.IsZero():
		return "0"
	case l.Median == l.P99:
		return "fixed:" + l.Median.String()
	default:
		return "lognormal:" + l.Median.String() + "," + l.P99.String()
	}
}

// ParseLatency parses a latency model: "0" or "none" (no delay), "fixed:50ms" or just "50ms"
// (constant delay), "lognormal:20ms,120ms" (median, p99).
func ParseLatency(s string) (Latency, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "0" || s == "none":
		return Latency{}, nil
	case strings.HasPrefix(s, "fixed:"):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "fixed:"))
		if err != nil {
			return Latency{}, fmt.Errorf("latency %q: %w", s, err)
		}
		l := FixedLatency(d)
		return l, l.Validate()
	case strings.HasPrefix(s, "lognormal:"):
		med, p99, ok := strings.Cut(strings.TrimPrefix(s, "lognormal:"), ",")
		if !ok {
			return Latency{}, fmt.Errorf("latency %q: want lognormal:MEDIAN,P99", s)
		}
		m, err := time.ParseDuration(strings.TrimSpace(med))
		if err != nil {
			return Latency{}, fmt.Errorf("latency %q: median: %w", s, err)
		}
		p, err := time.ParseDuration(strings.TrimSpace(p99))
		if err != nil {
			return Latency{}, fmt.Errorf("latency %q: p99: %w", s, err)
		}
		l := Latency{Median: m, P99: p}
		return l, l.Validate()
	default:
		d, err := time.ParseDuration(s)
		if err != nil {
			return Latency{}, fmt.Errorf("latency %q: want 0, fixed:D, D or lognormal:MEDIAN,P99: %w", s, err)
		}
		l := FixedLatency(d)
		return l, l.Validate()
	}
}
