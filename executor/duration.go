package executor

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a k6 duration in options JSON: a string like "30s", "1m30s", "1h", "1.5s",
// "250ms", "2d", or a number of milliseconds (JSON number or numeric string).
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d as Go does ("1m30s"), which is what k6 prints.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		v, err := ParseDuration(str)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"30s\" or a number of milliseconds", s)
	}
	v, err := msToDuration(f, s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as k6 does: a string like "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func msToDuration(ms float64, orig string) (time.Duration, error) {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || ms < 0 || ms*float64(time.Millisecond) >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid duration %q: must be a non-negative number of milliseconds", orig)
	}
	return time.Duration(math.Round(ms * float64(time.Millisecond))), nil
}

var durationUnits = map[string]float64{
	"ns": float64(time.Nanosecond),
	"us": float64(time.Microsecond),
	"µs": float64(time.Microsecond),
	"μs": float64(time.Microsecond),
	"ms": float64(time.Millisecond),
	"s":  float64(time.Second),
	"m":  float64(time.Minute),
	"h":  float64(time.Hour),
	"d":  float64(24 * time.Hour),
}

// ParseDuration parses a k6 duration: a sequence of decimal numbers with units
// (ns, us, µs, ms, s, m, h, d), e.g. "1m30s", "1.5s", "2d", or a bare number of
// milliseconds ("500"). Negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("invalid duration %q: empty", orig)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return msToDuration(f, orig)
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: expected a number at %q", orig, s)
		}
		num, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: bad number %q", orig, s[:i])
		}
		s = s[i:]
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		unit, ok := durationUnits[s[:j]]
		if !ok {
			if j == 0 {
				return 0, fmt.Errorf("invalid duration %q: missing unit after %v (use ms, s, m, h or d)", orig, num)
			}
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use ms, s, m, h or d)", orig, s[:j])
		}
		s = s[j:]
		total += num * unit
		if total >= math.MaxInt64 {
			return 0, fmt.Errorf("invalid duration %q: too large", orig)
		}
	}
	return time.Duration(math.Round(total)), nil
}
