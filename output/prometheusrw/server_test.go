package prometheusrw_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/output/internal/servertest"
)

func one(t *testing.T, base, q string) float64 {
	t.Helper()
	r := servertest.PromQL(t, base, q)
	if len(r) != 1 {
		t.Fatalf("query %q: %d results, want 1: %v", q, len(r), r)
	}
	for _, v := range r {
		return v
	}
	return 0
}

const script = `
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
const bytes = new Counter('payload_bytes');
const lat = new Trend('my_latency', true);
export const options = { vus: 4, iterations: 150 };
export default function () {
  const r = http.get(__ENV.TARGET + '/x', { tags: { name: 'page' } });
  check(r, { 'status is 200': (r) => r.status === 200, 'never': (r) => r.status === 404 });
  bytes.add(r.body.length * 1.5, { kind: 'x' });
  lat.add(__ITER * 0.5 + 1, { 'tag key': 'v' });
}
`

// TestPrometheusRemoteWrite runs a test with --out experimental-prometheus-rw and --out
// json and checks, with PromQL, that the counters' totals and the trends' counts and sums
// equal the JSON output's.
func TestPrometheusRemoteWrite(t *testing.T) {
	base, _ := servertest.Prometheus(t)
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	sc := servertest.Script(t, script)
	t.Setenv("K6_PROMETHEUS_RW_SERVER_URL", base+"/api/v1/write")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "300ms")
	t.Setenv("K6_PROMETHEUS_RW_TREND_STATS", "count,sum,p(99),max")
	t.Setenv("K6_PROMETHEUS_RW_LABELS", "testid=t1,method=overridden")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "json="+js,
		"--out", "experimental-prometheus-rw", sc)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "dropped") {
		t.Fatalf("points dropped: %s", stderr)
	}
	want := servertest.JSONTotals(t, js)
	for _, m := range []string{"http_reqs", "iterations", "data_received", "data_sent", "payload_bytes"} {
		if got := one(t, base, fmt.Sprintf(`sum(k6_%s_total{testid="t1"})`, m)); !servertest.Close(got, want[m].Sum) {
			t.Errorf("k6_%s_total: %v, JSON sum %v", m, got, want[m].Sum)
		}
	}
	for _, m := range []string{"http_req_duration", "iteration_duration", "my_latency"} {
		if got := one(t, base, fmt.Sprintf(`sum(k6_%s_count)`, m)); int(got) != want[m].Count {
			t.Errorf("k6_%s_count: %v, JSON count %d", m, got, want[m].Count)
		}
		if got := one(t, base, fmt.Sprintf(`sum(k6_%s_sum)`, m)); !servertest.Close(got, want[m].Sum/1000) {
			t.Errorf("k6_%s_sum: %v s, JSON sum %v ms", m, got, want[m].Sum)
		}
	}
	if got := one(t, base, `max(k6_my_latency_max)`); got != want["my_latency"].Max/1000 {
		t.Errorf("k6_my_latency_max = %v, JSON max %v ms", got, want["my_latency"].Max)
	}
	// one check always passes, the other never: rates 1 and 0, 0.5 in all.
	if got, w := one(t, base, `k6_checks_rate{check="status is 200"}`)+one(t, base, `k6_checks_rate{check="never"}`),
		want["checks"].Sum/float64(want["checks"].Count); got != 1 || w != 0.5 {
		t.Errorf("k6_checks_rate: %v in all, JSON rate %v", got, w)
	}
	if got := one(t, base, `count(k6_http_reqs_total{method="GET", name="page", status="200"})`); got != 1 {
		t.Errorf("tags as labels (a tag wins over a static label): %v", got)
	}
	if got := one(t, base, `count(k6_my_latency_p99{tag_key="v"})`); got != 1 {
		t.Errorf("a tag key made a valid label name: %v", got)
	}
}

// TestPrometheusNativeHistogram sends trends as native histograms and checks their count
// and sum.
func TestPrometheusNativeHistogram(t *testing.T) {
	base, _ := servertest.Prometheus(t)
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	t.Setenv("K6_PROMETHEUS_RW_SERVER_URL", base+"/api/v1/write")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "300ms")
	t.Setenv("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "true")
	t.Setenv("K6_PROMETHEUS_RW_STALE_MARKERS", "false")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "json="+js,
		"--out", "experimental-prometheus-rw", servertest.Script(t, script))
	if code != 0 || strings.Contains(stderr, "dropped") {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	want := servertest.JSONTotals(t, js)
	if got := one(t, base, `sum(histogram_count(k6_my_latency_seconds))`); int(got) != want["my_latency"].Count {
		t.Errorf("histogram_count: %v, JSON %d", got, want["my_latency"].Count)
	}
	if got := one(t, base, `sum(histogram_sum(k6_my_latency_seconds))`); !servertest.Close(got, want["my_latency"].Sum/1000) {
		t.Errorf("histogram_sum: %v, JSON %v ms", got, want["my_latency"].Sum)
	}
	// the top bucket's upper bound is within a factor 1.1 above the largest value
	if got, w := one(t, base, `histogram_quantile(1, sum(k6_my_latency_seconds))`), want["my_latency"].Max/1000; got < w || got > w*1.1 {
		t.Errorf("histogram_quantile(1) = %v, JSON max %v s", got, w)
	}
}

// TestPrometheusKilled kills the server in the middle of a run, with stale markers on:
// the run finishes with exit code 0 and reports the dropped points.
func TestPrometheusKilled(t *testing.T) {
	base, proc := servertest.Prometheus(t)
	target := servertest.Target(t)
	sc := servertest.Script(t, `
import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, duration: '3s' };
export default function () { http.get(__ENV.TARGET); sleep(0.01); }
`)
	t.Setenv("K6_PROMETHEUS_RW_SERVER_URL", base+"/api/v1/write")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "200ms")
	t.Setenv("K6_PROMETHEUS_RW_STALE_MARKERS", "true")
	go func() {
		time.Sleep(1200 * time.Millisecond)
		proc.Kill()
	}()
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "experimental-prometheus-rw", sc)
	if code != 0 {
		t.Fatalf("exit code %d, want 0: %s", code, stderr)
	}
	if !strings.Contains(stderr, "points could not be written and were dropped") {
		t.Fatalf("no report of the dropped points: %s", stderr)
	}
	t.Log(stderr)
}
