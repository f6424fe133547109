package output_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/extension/pixel/pixelmetrics"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output/internal/servertest"
)

// dashboard is the part of a Grafana dashboard file the test reads: its panels' queries.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			RefID string `json:"refId"`
			Query string `json:"query"` // InfluxQL
			Expr  string `json:"expr"`  // PromQL
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T, name string) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "grafana", name))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(d.Panels) == 0 {
		t.Fatalf("%s has no panels", name)
	}
	return d
}

// dashboardScript makes HTTP requests with a check and adds a sample to every metric of
// the k6/x/pixel contract, with its contract's type, so every panel has data.
func dashboardScript() string {
	var decl, add strings.Builder
	kinds := map[metrics.MetricType]string{metrics.Counter: "Counter", metrics.Gauge: "Gauge", metrics.Rate: "Rate", metrics.Trend: "Trend"}
	for i, d := range pixelmetrics.All() {
		fmt.Fprintf(&decl, "const m%d = new %s(%q%s);\n", i, kinds[d.Type], d.Name, map[bool]string{true: ", true"}[d.Contains == metrics.Time])
		v := "1 + Math.random()"
		if d.Type == metrics.Rate {
			v = "true"
		}
		fmt.Fprintf(&add, "  m%d.add(%s);\n", i, v)
	}
	return `import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
` + decl.String() + `export const options = { vus: 2, duration: '4s' };
export default function () {
  const r = http.get(__ENV.TARGET);
  check(r, { 'status is 200': (r) => r.status === 200 });
` + add.String() + `  sleep(0.1);
}
`
}

// TestGrafanaDashboards runs a test with the InfluxDB and Prometheus remote-write outputs
// into the real servers and runs every query of examples/grafana's two dashboards against
// them: each must be valid and return data, so the dashboards' metric names, stats and
// units follow what the outputs write.
func TestGrafanaDashboards(t *testing.T) {
	influx := readDashboard(t, "pixelk6-influxdb.json")
	prom := readDashboard(t, "pixelk6-prometheus.json")
	influxBase, _ := servertest.Influxd(t, false)
	promBase, _ := servertest.Prometheus(t)
	target := servertest.Target(t)
	t.Setenv("K6_INFLUXDB_PUSH_INTERVAL", "500ms")
	t.Setenv("K6_PROMETHEUS_RW_SERVER_URL", promBase+"/api/v1/write")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "500ms")
	t.Setenv("K6_PROMETHEUS_RW_TREND_STATS", "p(50),p(95),p(99)") // as examples/grafana/README.md says
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target,
		"--out", "influxdb="+influxBase+"/k6", "--out", "experimental-prometheus-rw", servertest.Script(t, dashboardScript()))
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "dropped") {
		t.Fatalf("points dropped: %s", stderr)
	}
	for _, p := range influx.Panels {
		for _, tg := range p.Targets {
			q := strings.NewReplacer("$timeFilter", "time > now() - 1h", "$__interval", "1s").Replace(tg.Query)
			if q == "" || strings.Contains(q, "$") {
				t.Errorf("InfluxDB panel %q %s: query %q has a variable the test does not know", p.Title, tg.RefID, tg.Query)
				continue
			}
			if !hasInfluxData(servertest.InfluxQL(t, influxBase, "k6", q)) {
				t.Errorf("InfluxDB panel %q %s: no data for %s", p.Title, tg.RefID, q)
			}
		}
	}
	for _, p := range prom.Panels {
		for _, tg := range p.Targets {
			q := strings.NewReplacer("$__rate_interval", "1m").Replace(tg.Expr)
			if q == "" || strings.Contains(q, "$") {
				t.Errorf("Prometheus panel %q %s: expression %q has a variable the test does not know", p.Title, tg.RefID, tg.Expr)
				continue
			}
			if len(servertest.PromQL(t, promBase, q)) == 0 {
				t.Errorf("Prometheus panel %q %s: no data for %s", p.Title, tg.RefID, q)
			}
		}
	}
}

// hasInfluxData reports whether some series has a non-null value.
func hasInfluxData(ss []servertest.Series) bool {
	for _, s := range ss {
		for _, row := range s.Values {
			for _, v := range row[1:] {
				if v != nil {
					return true
				}
			}
		}
	}
	return false
}
