package influxdb_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/output/internal/servertest"
)

const script = `
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
const bytes = new Counter('payload_bytes');
const odd = new Trend('odd_values');
export const options = { vus: 4, iterations: 120 };
export default function () {
  const r = http.get(__ENV.TARGET + '/a path?q=1', { tags: { name: 'with space, comma=eq "quote"' } });
  check(r, { 'status is 200': (r) => r.status === 200 });
  bytes.add(r.body.length * 1.5, { kind: 'x' });
  odd.add(__ITER * 0.1, { 'tag key': 'v\\al' });
}
`

// TestInfluxDBServer runs a test with --out influxdb and --out json and checks, with
// InfluxQL, that every metric's count and sum in the database equal the JSON output's.
func TestInfluxDBServer(t *testing.T) {
	base, _ := servertest.Influxd(t, false)
	target := servertest.Target(t)
	js := filepath.Join(t.TempDir(), "out.json")
	sc := servertest.Script(t, script)
	t.Setenv("K6_INFLUXDB_PUSH_INTERVAL", "200ms")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "json="+js,
		"--out", "influxdb="+base+"/k6db", sc)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "dropped") {
		t.Fatalf("points dropped: %s", stderr)
	}
	want := servertest.JSONTotals(t, js)
	got := map[string]servertest.Total{}
	for _, s := range servertest.InfluxQL(t, base, "k6db", `SELECT count("value"), sum("value") FROM /.*/`) {
		got[s.Name] = servertest.Total{Count: int(s.Values[0][1].(float64)), Sum: s.Values[0][2].(float64)}
	}
	for m, w := range want {
		g, ok := got[m]
		if !ok {
			t.Errorf("%s: not in InfluxDB", m)
			continue
		}
		if g.Count != w.Count || !servertest.Close(g.Sum, w.Sum) {
			t.Errorf("%s: InfluxDB count %d sum %v, JSON count %d sum %v", m, g.Count, g.Sum, w.Count, w.Sum)
		}
	}
	if len(got) != len(want) {
		t.Errorf("InfluxDB has %d measurements, JSON %d: %v", len(got), len(want), got)
	}
	// k6's layout: tags are tags (escaped as the server parses them), url is a field.
	rows := servertest.InfluxQL(t, base, "k6db", `SELECT count("value") FROM "http_reqs" GROUP BY "name", "status", "method"`)
	if len(rows) != 1 || rows[0].Tags["name"] != `with space, comma=eq "quote"` || rows[0].Tags["status"] != "200" || rows[0].Tags["method"] != "GET" {
		t.Errorf("http_reqs tags: %+v", rows)
	}
	urls := servertest.InfluxQL(t, base, "k6db", `SELECT "url" FROM "http_reqs" LIMIT 1`)
	if len(urls) != 1 || urls[0].Values[0][1] == nil {
		t.Errorf("url field: %+v", urls)
	}
	for _, k := range servertest.InfluxQL(t, base, "k6db", `SHOW TAG KEYS FROM "http_reqs"`)[0].Values {
		if k[0] == "url" {
			t.Errorf("url is a tag, want a field (K6_INFLUXDB_TAGS_AS_FIELDS default)")
		}
	}
	odd := servertest.InfluxQL(t, base, "k6db", `SELECT count("value") FROM "odd_values" GROUP BY "tag key"`)
	if len(odd) != 1 || odd[0].Tags["tag key"] != `v\al` {
		t.Errorf("odd values tags: %+v", odd)
	}
}

// TestInfluxDBKilled kills the server in the middle of a run: the run finishes with the
// exit code it has without the output, and says how many points were dropped.
func TestInfluxDBKilled(t *testing.T) {
	base, proc := servertest.Influxd(t, false)
	target := servertest.Target(t)
	sc := servertest.Script(t, `
import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, duration: '3s' };
export default function () { http.get(__ENV.TARGET); sleep(0.01); }
`)
	t.Setenv("K6_INFLUXDB_PUSH_INTERVAL", "100ms")
	go func() {
		time.Sleep(1200 * time.Millisecond)
		proc.Kill()
	}()
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "influxdb="+base+"/k6db", sc)
	if code != 0 {
		t.Fatalf("exit code %d, want 0 (as without the output): %s", code, stderr)
	}
	if !strings.Contains(stderr, "points could not be written and were dropped") {
		t.Fatalf("no report of the dropped points: %s", stderr)
	}
	t.Log(stderr)
}

// TestInfluxDBCredentials: with authentication on, the output authenticates with
// K6_INFLUXDB_USERNAME/PASSWORD (and creates the database as that admin); wrong
// credentials are not retried, the points are reported dropped, the exit code stays 0.
func TestInfluxDBCredentials(t *testing.T) {
	base, _ := servertest.Influxd(t, true)
	// the first user of a server with no user may be created without credentials
	resp, err := http.PostForm(base+"/query", url.Values{"q": {`CREATE USER "admin" WITH PASSWORD 's3cret' WITH ALL PRIVILEGES`}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	target := servertest.Target(t)
	sc := servertest.Script(t, `
import http from 'k6/http';
export const options = { vus: 1, iterations: 5 };
export default function () { http.get(__ENV.TARGET); }
`)
	t.Setenv("K6_INFLUXDB_USERNAME", "admin")
	t.Setenv("K6_INFLUXDB_PASSWORD", "s3cret")
	code, _, stderr := servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "influxdb="+base+"/authdb", sc)
	if code != 0 || strings.Contains(stderr, "dropped") {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/query?"+url.Values{"db": {"authdb"}, "q": {`SELECT count("value") FROM "http_reqs"`}}.Encode(), nil)
	req.SetBasicAuth("admin", "s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Results []struct {
			Series []servertest.Series `json:"series"`
		} `json:"results"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || len(body.Results) != 1 || len(body.Results[0].Series) != 1 || body.Results[0].Series[0].Values[0][1] != 5.0 {
		t.Fatalf("http_reqs count with credentials: %+v, %v", body, err)
	}

	t.Setenv("K6_INFLUXDB_PASSWORD", "wrong")
	code, _, stderr = servertest.Run(t, "-q", "--no-color", "-e", "TARGET="+target, "--out", "influxdb="+base+"/authdb", sc)
	if code != 0 || !strings.Contains(stderr, "points could not be written and were dropped") || !strings.Contains(stderr, "401") {
		t.Fatalf("wrong password: exit code %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "retrying") {
		t.Fatalf("a 401 was retried: %s", stderr)
	}
}
