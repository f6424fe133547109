package summary

import "testing"

// TestFormatAggregate: the exported formatter k6verdict prints through, on the values k6's
// own summaries show (testdata/k6-reference/samples/*-stdout.txt).
func TestFormatAggregate(t *testing.T) {
	cases := []struct {
		name, typ, contains, agg string
		v                        float64
		want                     string
	}{
		{"data count", "counter", "data", "count", 6400, "6.4 kB"},
		{"data rate", "counter", "data", "rate", 6400, "6.4 kB/s"},
		{"data count large", "counter", "data", "count", 57_000, "57 kB"},
		{"plain rate", "counter", "default", "rate", 11.5, "11.5/s"},
		{"rate metric", "rate", "default", "rate", 0.898550724, "89.85%"},
		{"time", "trend", "time", "p(95)", 40.57123, "40.57ms"},
		{"time over a minute", "trend", "time", "max", 90_500, "1m30.5s"},
		{"plain trend", "trend", "default", "avg", 142.5507171, "142.550717"},
		{"gauge", "gauge", "default", "value", 3, "3"},
	}
	for _, c := range cases {
		if got := FormatAggregate(c.typ, c.contains, c.agg, c.v, ""); got != c.want {
			t.Errorf("%s: FormatAggregate(%s, %s, %s, %v) = %q, want %q", c.name, c.typ, c.contains, c.agg, c.v, got, c.want)
		}
	}
	if got := FormatDuration(1250.5, "s"); got != "1.25s" {
		t.Errorf("FormatDuration(1250.5, s) = %q", got)
	}
	if got := FormatNumber(1444); got != "1444" {
		t.Errorf("FormatNumber(1444) = %q", got)
	}
}
