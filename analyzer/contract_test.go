package analyzer

import (
	"strings"
	"testing"
)

// pixelCSV is k6 CSV output (no type information) with pixel metrics: crisis_recall samples
// that are all 1 but one, so that nothing in the values says "rate" rather than "counter".
func pixelCSV(recall []string) string {
	var b strings.Builder
	b.WriteString("metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n")
	for i, v := range recall {
		b.WriteString("crisis_recall,17958331" + string(rune('0'+i%10)) + "0," + v + ",,,,,,,,,default,,,,,,,\n")
	}
	b.WriteString("chunk_latency,1795833160,12.500000,,,,,,,,,default,,,,,,,\n")
	return b.String()
}

// TestCSVPixelMetricsTypedByContract is the regression test for k6verdict typing
// crisis_recall as a counter when reading CSV: pixel metrics take their types from the
// contract (package pixelmetrics), so a rate threshold evaluates as a rate.
func TestCSVPixelMetricsTypedByContract(t *testing.T) {
	criteria := writeTemp(t, "c.yaml", []byte("crisis_recall: [\"rate>0.99\"]\nchunk_latency: [\"p(95)<200\"]\n"))
	in := pixelCSV([]string{"1.000000", "1.000000", "1.000000", "0.000000"})
	code, out, errOut := run(t, in, "--criteria", criteria, "-")
	if code != 99 {
		t.Fatalf("exit %d, want 99 (crisis_recall is 75%%); stderr: %s\nstdout: %s", code, errOut, out)
	}
	for _, want := range []string{"✗ 'rate>0.99' rate=75.00%", "3 out of 4", "✓ 'p(95)<200' p(95)=12.5ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	// Without a threshold to hint at the type, and with values that all look like counts.
	code, out, errOut = run(t, pixelCSV([]string{"1.000000", "1.000000"}), "--format", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, errOut)
	}
	if !strings.Contains(out, `"name": "crisis_recall",
      "type": "rate",`) {
		t.Fatalf("JSON report does not type crisis_recall as a rate:\n%s", out)
	}
}
