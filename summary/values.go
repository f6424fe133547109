package summary

// The exported face of the value formatting in format.go: the one place that spells k6's numbers,
// durations, byte sizes and percentages. pixelk6's summary and k6verdict's reports both
// print through it, so a value reads the same in both (golden-tested against k6's output).

// FormatNumber formats a plain value with at most 6 decimals: "1444", "142.550717".
func FormatNumber(v float64) string { return formatNumber(v) }

// FormatDuration formats ms milliseconds as k6 does: "185.32µs", "5.6ms", "1m30.5s".
// timeUnit "" picks the unit per value; "s", "ms" or "us" fix it (--summary-time-unit).
func FormatDuration(ms float64, timeUnit string) string { return formatDuration(ms, timeUnit) }

// FormatAggregate formats an aggregation's value as k6 prints it beside a threshold or in a
// metric line: a rate metric's "rate" as a percentage, a counter's "rate" per second, every
// other value by what the metric contains ("time" in ms as a duration, "data" in bytes as
// "6.4 kB", else a number). metricType is "counter", "gauge", "rate" or
// "trend"; agg is the aggregation's name ("rate", "count", "p(95)", "avg", ...).
func FormatAggregate(metricType, contains, agg string, v float64, timeUnit string) string {
	switch {
	case metricType == "rate" && agg == "rate":
		return formatPercent(v)
	case metricType == "counter" && agg == "rate":
		return formatValue(v, contains, timeUnit) + "/s"
	}
	return formatValue(v, contains, timeUnit)
}
