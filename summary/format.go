package summary

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// toFixed formats v with prec digits after the point, rounding the exact binary value to
// nearest with halves away from zero (JavaScript's Number.prototype.toFixed, which k6's
// summary uses).
func toFixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return new(big.Rat).SetFloat64(v).FloatString(prec)
}

// toFixedTrim is toFixed without trailing zeros (and without a trailing point).
func toFixedTrim(v float64, prec int) string {
	s := toFixed(v, prec)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// formatNumber formats a plain value with at most 6 decimals: 1444, 142.550717.
func formatNumber(v float64) string { return toFixedTrim(v, 6) }

// formatPercent formats a rate ∈ [0,1] as a percentage truncated (not rounded) to two
// decimals: 0.898550… → "89.85%".
func formatPercent(rate float64) string {
	return toFixed(math.Trunc(rate*100*100)/100, 2) + "%"
}

// formatDuration formats ms milliseconds as k6 does: the value is taken in whole
// nanoseconds, shown in the largest unit below it (ns, µs, ms, s) and TRUNCATED to two
// decimals without trailing zeros: "0s", "185.32µs", "5.6ms", "1.25s"; from a minute on it
// is "1m30.5s", "1h2m3s". With timeUnit ("s", "ms", "us") every value uses that unit.
func formatDuration(ms float64, timeUnit string) string {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || math.Abs(ms) > 1e12 { // beyond int64 ns: not a duration k6 can show
		return strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
	}
	ns := int64(math.Round(ms * 1e6))
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	switch timeUnit {
	case "s":
		return neg + fixed2(ns, 1e9) + "s"
	case "ms":
		return neg + fixed2(ns, 1e6) + "ms"
	case "us":
		return neg + fixed2(ns, 1e3) + "µs"
	}
	switch {
	case ns == 0:
		return "0s"
	case ns < 1e3:
		return neg + strconv.FormatInt(ns, 10) + "ns"
	case ns < 1e6:
		return neg + fixed2(ns, 1e3) + "µs"
	case ns < 1e9:
		return neg + fixed2(ns, 1e6) + "ms"
	case ns < 60e9:
		return neg + fixed2(ns, 1e9) + "s"
	}
	h, rest := ns/3600e9, ns%3600e9
	m, rest := rest/60e9, rest%60e9
	var b strings.Builder
	b.WriteString(neg)
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10) + "h")
	}
	b.WriteString(strconv.FormatInt(m, 10) + "m")
	b.WriteString(fixed2(rest, 1e9) + "s")
	return b.String()
}

// fixed2 returns n/unit truncated to two decimals, without trailing zeros.
func fixed2(n, unit int64) string {
	whole := n / unit
	frac := n % unit * 100 / unit
	s := strconv.FormatInt(whole, 10)
	switch {
	case frac == 0:
		return s
	case frac%10 == 0:
		return s + "." + strconv.FormatInt(frac/10, 10)
	case frac < 10:
		return s + ".0" + strconv.FormatInt(frac, 10)
	}
	return s + "." + strconv.FormatInt(frac, 10)
}

// formatBytes formats a byte count with decimal units: "27 B", "6.4 kB", "148 kB", "1.2 MB".
// The value is rounded to one decimal in its unit, shown with one decimal below 10.
func formatBytes(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) { // from hostile input: never an index
		return strconv.FormatFloat(v, 'f', -1, 64) + " B"
	}
	if v < 0 {
		return "-" + formatBytes(-v)
	}
	if v < 10 {
		return toFixedTrim(math.Round(v), 0) + " B"
	}
	units := [...]string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	e := int(math.Floor(math.Log10(v) / 3))
	if e >= len(units) {
		e = len(units) - 1
	}
	val := math.Floor(v/math.Pow(1000, float64(e))*10+0.5) / 10
	if val < 10 {
		return fmt.Sprintf("%.1f %s", val, units[e])
	}
	return fmt.Sprintf("%.0f %s", val, units[e])
}

// formatValue formats one value of a metric by what it contains.
func formatValue(v float64, contains, timeUnit string) string {
	switch contains {
	case "time":
		return formatDuration(v, timeUnit)
	case "data":
		return formatBytes(v)
	default:
		return formatNumber(v)
	}
}
