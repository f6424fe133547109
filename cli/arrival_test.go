package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArrivalRateScripts runs scripts of both arrival-rate executors, with the option
// shapes k6 documents (and a script with too few VUs), against a loopback server. The number of scheduled
// starts is exact (see executor.Schedule), so iterations + dropped_iterations must equal
// it; the banner and the final progress line describe the scenario as k6 does.
func TestArrivalRateScripts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(300 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	tests := []struct {
		script    string
		scheduled float64
		mustDrop  bool // (the examples may drop a start on a busy machine: not asserted)
		stdout    []string
		stderr    []string
	}{
		{"constant_arrival_rate.js", 60, false,
			[]string{"* inference_arrivals: 30.00 iterations/s for 2s (maxVUs: 2-50, gracefulStop: 30s)", "inference_arrivals ✓ [ 100% ] 00/", "VUs  2s  30.00 iters/s"}, nil},
		// 30/s for 250ms (7.5), 30→60 over 500ms (22.5), 60 for 1s (60), 60→6 over 500ms (16.5).
		{"ramping_arrival_rate.js", 107, false,
			[]string{"* daily_profile: Up to 60.00 iterations/s for 2.25s over 4 stages (maxVUs: 5-50, gracefulStop: 30s)"}, nil},
		{"arrival_slow.js", 20, true,
			[]string{"* slow: 20.00 iterations/s for 1s (maxVUs: 1-2, gracefulStop: 30s)", "dropped_iterations"},
			[]string{`level=warning msg="Insufficient VUs, reached 2 active VUs and cannot initialize more" executor=constant-arrival-rate scenario=slow`}},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			exp := filepath.Join(t.TempDir(), "summary.json")
			args := []string{"run", "--summary-export", exp, "-e", "BASE_URL=" + srv.URL, filepath.Join("testdata", tt.script)}
			if code := run(context.Background(), args, &stdout, &stderr, d); code != 0 {
				t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
			}
			b, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var sum struct {
				Metrics map[string]map[string]any `json:"metrics"`
			}
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			count := func(m string) float64 { c, _ := sum.Metrics[m]["count"].(float64); return c }
			iters, dropped := count("iterations"), count("dropped_iterations")
			if iters+dropped != tt.scheduled || iters == 0 || tt.mustDrop && dropped == 0 {
				t.Errorf("iterations %v + dropped %v, want %v scheduled (must drop: %v)", iters, dropped, tt.scheduled, tt.mustDrop)
			}
			if reqs := count("http_reqs"); reqs != iters {
				t.Errorf("http_reqs %v, iterations %v", reqs, iters)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
		})
	}
}

// Invalid arrival-rate scenarios exit 104 before anything runs.
func TestArrivalRateInvalidOptions(t *testing.T) {
	tests := []struct{ scenario, msg string }{
		{`executor: 'constant-arrival-rate', rate: 0, duration: '1s', preAllocatedVUs: 1`, "rate 0 must be more than 0"},
		{`executor: 'constant-arrival-rate', duration: '1s', preAllocatedVUs: 1`, "rate is required"},
		{`executor: 'constant-arrival-rate', rate: 5, preAllocatedVUs: 1`, `duration \"0s\" must be more than 0`},
		{`executor: 'constant-arrival-rate', rate: 5, duration: '1s', preAllocatedVUs: 5, maxVUs: 2`, "maxVUs (2) must not be less than preAllocatedVUs (5)"},
		{`executor: 'ramping-arrival-rate', preAllocatedVUs: 1, stages: []`, "needs at least one stage"},
		{`executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 5 }]`, "preAllocatedVUs is required"},
		{`executor: 'ramping-arrival-rate', preAllocatedVUs: 1, timeUnit: '0s', stages: [{ duration: '1s', target: 5 }]`, `timeUnit \"0s\" must be more than 0`},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.js")
			src := "export const options = { scenarios: { a: { " + tt.scenario + " } } };\nexport default function () {}\n"
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"run", "-q", path}, &stdout, &stderr, d); code != 104 {
				t.Fatalf("exit code %d, want 104\nstderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr lacks %q:\n%s", tt.msg, stderr.String())
			}
		})
	}
}
