package pixelmetrics

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/metrics"
)

// TestContract pins the contract's types and units (DESIGN.md): a change here is a change
// users' thresholds and k6verdict's profiles see.
func TestContract(t *testing.T) {
	want := map[string]string{
		"inference_latency": "trend/time", "successful_inferences": "counter/default",
		"crisis_detections": "counter/default", "bias_detections": "counter/default",
		"inference_parse_errors": "counter/default",
		"crisis_recall":          "rate/default", "crisis_false_alarms": "rate/default",
		"bias_recall": "rate/default", "bias_false_alarms": "rate/default",
		"chunk_latency": "trend/time", "message_latency": "trend/time",
		"ws_connection_failed": "rate/default", "stream_sessions": "counter/default",
		"chunks_sent": "counter/default",
	}
	all := All()
	if len(all) != len(want) {
		t.Errorf("%d metrics in the contract, want %d", len(all), len(want))
	}
	for _, d := range all {
		if got := d.Type.String() + "/" + d.Contains.String(); got != want[d.Name] {
			t.Errorf("%s: %s, want %s", d.Name, got, want[d.Name])
		}
		if l, ok := Lookup(d.Name); !ok || l != d {
			t.Errorf("Lookup(%q) = %+v, %v", d.Name, l, ok)
		}
	}
	if _, ok := Lookup("http_req_duration"); ok {
		t.Error("Lookup found a k6 built-in metric")
	}
	all[0].Type = metrics.Gauge
	if All()[0].Type == metrics.Gauge {
		t.Error("All shares its slice with the contract")
	}
}

// TestNoJavaScriptRuntime: the analyzer imports this package, so it must not pull in goja.
func TestNoJavaScriptRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "goja") || strings.Contains(dep, "esbuild") {
			t.Errorf("depends on %s", dep)
		}
	}
}
