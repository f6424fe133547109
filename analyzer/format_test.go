package analyzer

import (
	"strings"
	"testing"
)

// TestValuesFormattedAsK6 is the regression test for k6verdict's own byte formatter, which
// printed 6400 bytes as "6 kB" where k6 (and pixelk6's summary) print "6.4 kB": the report
// now formats through the summary package.
func TestValuesFormattedAsK6(t *testing.T) {
	in := `{"type":"Metric","data":{"name":"data_sent","type":"counter","contains":"data","thresholds":["count<10000"],"submetrics":null},"metric":"data_sent"}
{"metric":"data_sent","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":6000,"tags":{}}}
{"metric":"data_sent","type":"Point","data":{"time":"2026-11-28T02:32:41Z","value":400,"tags":{}}}
{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["max<2000"],"submetrics":null},"metric":"http_req_duration"}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":185.329,"tags":{}}}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T02:32:41Z","value":1250.5,"tags":{}}}
`
	code, out, errOut := run(t, in, "-")
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s\nstdout: %s", code, errOut, out)
	}
	for _, want := range []string{"'count<10000' count=6.4 kB", "6.4 kB", "'max<2000' max=1.25s", "min=185.32ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "6 kB") {
		t.Errorf("report prints 6400 bytes as 6 kB:\n%s", out)
	}
}
