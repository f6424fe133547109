package servertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pixelk6/pixelk6/internal/testtool"
)

// Influxd starts Debian's influxd (1.x) on free loopback ports with its data in a
// temporary directory, with HTTP authentication when auth is set, and returns its base URL
// and process.
func Influxd(t testing.TB, auth bool) (string, *Proc) {
	t.Helper()
	bin := testtool.Require(t, "influxd", "influxdb")
	dir := t.TempDir()
	httpPort, rpcPort := testtool.FreePort(t), testtool.FreePort(t)
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
  auth-enabled = %t
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort, auth)
	cfg := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Start(t, bin, "-config", cfg)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	p.WaitHTTP(t, base+"/ping", http.StatusNoContent)
	return base, p
}

// InfluxQL runs an InfluxQL query and returns its first result's series.
func InfluxQL(t testing.TB, base, db, q string) []Series {
	t.Helper()
	resp, err := http.Get(base + "/query?" + url.Values{"db": {db}, "q": {q}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Error != "" || len(body.Results) == 0 || body.Results[0].Error != "" {
		t.Fatalf("query %q: %+v", q, body)
	}
	return body.Results[0].Series
}

// Series is one series of an InfluxQL result.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

// Prometheus starts Debian's prometheus with its remote-write receiver (and native
// histograms) on a free loopback port, its storage in a temporary directory.
func Prometheus(t testing.TB) (string, *Proc) {
	t.Helper()
	bin := testtool.Require(t, "prometheus", "prometheus")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testtool.FreePort(t)
	p := Start(t, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--web.enable-remote-write-receiver",
		"--enable-feature=native-histograms")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p.WaitHTTP(t, base+"/-/ready", http.StatusOK)
	return base, p
}

// PromQL runs an instant query and returns its vector's values by the labels' string.
func PromQL(t testing.TB, base, q string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" {
		t.Fatalf("query %q: %s", q, body.Error)
	}
	out := map[string]float64{}
	for _, r := range body.Data.Result {
		v, err := strconv.ParseFloat(r.Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(r.Metric)] = v
	}
	return out
}
