package output_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/pixelk6/pixelk6/extension/pixel" // k6/x/pixel, as pixelk6 links it
	"github.com/pixelk6/pixelk6/output/internal/servertest"
	"github.com/pixelk6/pixelk6/simulator"
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

// TestGrafanaDashboards runs the user guide's REST and streaming scripts (k6/x/pixel, the
// real extension) against pixelsim with the InfluxDB and Prometheus remote-write outputs
// into the real servers, then runs every query of examples/grafana's two dashboards
// against them: each must be valid and return data, so the dashboards' metric names,
// stats and units follow what the outputs write of what the guide measures.
func TestGrafanaDashboards(t *testing.T) {
	influx := readDashboard(t, "pixelk6-influxdb.json")
	prom := readDashboard(t, "pixelk6-prometheus.json")
	influxBase, _ := servertest.Influxd(t, false)
	promBase, _ := servertest.Prometheus(t)
	sim, err := simulator.New(simulator.Config{Latency: simulator.FixedLatency(2 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	api, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	t.Setenv("K6_INFLUXDB_PUSH_INTERVAL", "500ms")
	t.Setenv("K6_PROMETHEUS_RW_SERVER_URL", promBase+"/api/v1/write")
	t.Setenv("K6_PROMETHEUS_RW_PUSH_INTERVAL", "500ms")
	t.Setenv("K6_PROMETHEUS_RW_TREND_STATS", "p(50),p(95),p(99)") // as examples/grafana/README.md says
	for _, script := range []string{"k6-rest-inference-load.js", "k6-websocket-streaming-load.js"} {
		code, _, stderr := servertest.Run(t, "-q", "--no-color", "--no-thresholds", "--vus", "2", "--duration", "3s",
			"-e", "API_URL="+api, "-e", "WS_URL=ws"+strings.TrimPrefix(api, "http")+"/ws/pixel-multimodal",
			"-e", "AUDIO_FRAMES=5", "-e", "THINK_TIME=0",
			"--out", "influxdb="+influxBase+"/k6", "--out", "experimental-prometheus-rw",
			filepath.Join("..", "scripts", script))
		if code != 0 {
			t.Fatalf("%s: exit code %d: %s", script, code, stderr)
		}
		if strings.Contains(stderr, "dropped") {
			t.Fatalf("%s: points dropped: %s", script, stderr)
		}
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
