package output_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/output/internal/servertest"
)

// TestOutputsIsolated runs three outputs at once: InfluxDB on a server that never
// answers, Prometheus remote write on one that answers 500, and JSON. The failing ones
// cost no sample of the JSON file and no change of the exit code, and each reports its
// own dropped points.
func TestOutputsIsolated(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/query" { // CREATE DATABASE
			return
		}
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a gone client only after the body
		<-r.Context().Done()
	}))
	defer hang.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer failing.Close()
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "100ms")
	t.Setenv("K6_INFLUXDB_PUSH_INTERVAL", "100ms")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target,
		"--out", "influxdb="+hang.URL+"/k6", "--out", "experimental-prometheus-rw="+failing.URL+"/api/v1/write", "--out", "json="+js,
		servertest.Script(t, `
import http from 'k6/http';
export const options = { vus: 2, iterations: 40 };
export default function () { http.get(__ENV.TARGET); }
`))
	if code != 0 {
		t.Fatalf("exit code %d, want 0: %s", code, stderr)
	}
	if got := servertest.JSONTotals(t, js)["http_reqs"].Count; got != 40 {
		t.Fatalf("JSON output has %d http_reqs, want 40", got)
	}
	for _, out := range []string{"influxdb: ", "experimental-prometheus-rw: "} {
		if !strings.Contains(stderr, out) || !strings.Contains(stderr[strings.Index(stderr, out):], "points could not be written and were dropped") {
			t.Errorf("no dropped-points report of %s\n%s", out, stderr)
		}
	}
	t.Log(stderr)
}

// TestBadOutAfterNetworkOutputs: a bad --out after network outputs fails the run with 104
// (regression: the outputs already built were stopped before being started, and their
// flushers' Stop waited forever).
func TestBadOutAfterNetworkOutputs(t *testing.T) {
	code, _, stderr := servertest.Run(t, "-q", "--out", "influxdb=http://127.0.0.1:1/k6", "--out", "experimental-prometheus-rw",
		"--out", "opentelemetry", "--out", "nope", servertest.Script(t, `export default function () {}`))
	if code != 104 || !strings.Contains(stderr, `unsupported output type`) {
		t.Fatalf("exit code %d, want 104: %s", code, stderr)
	}
}
