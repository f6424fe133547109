package webdashboard

import (
	"bufio"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/dashboard"
	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/metrics"
)

func TestParseConfig(t *testing.T) {
	def := Config{Host: DefaultHost, Port: DefaultPort, Period: DefaultPeriod}
	tests := []struct {
		name    string
		arg     string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"defaults", "", nil, def, ""},
		{"environment", "", map[string]string{"K6_WEB_DASHBOARD_HOST": "0.0.0.0", "K6_WEB_DASHBOARD_PORT": "-1", "K6_WEB_DASHBOARD_PERIOD": "2s",
			"K6_WEB_DASHBOARD_OPEN": "true", "K6_WEB_DASHBOARD_EXPORT": "r.html"}, Config{Host: "0.0.0.0", Port: -1, Period: 2 * time.Second, Open: true, Export: "r.html"}, ""},
		{"argument wins", "port=7000&export=a.html", map[string]string{"K6_WEB_DASHBOARD_PORT": "6000", "K6_WEB_DASHBOARD_PERIOD": "1s"},
			Config{Host: DefaultHost, Port: 7000, Period: time.Second, Export: "a.html"}, ""},
		{"empty variable is unset", "", map[string]string{"K6_WEB_DASHBOARD_PORT": ""}, def, ""},
		{"bad port", "", map[string]string{"K6_WEB_DASHBOARD_PORT": "http"}, def, `K6_WEB_DASHBOARD_PORT="http"`},
		{"port out of range", "port=70000", nil, def, `port="70000"`},
		{"bad period", "", map[string]string{"K6_WEB_DASHBOARD_PERIOD": "0s"}, def, `K6_WEB_DASHBOARD_PERIOD="0s"`},
		{"bad open", "open=yes please", nil, def, `open="yes please"`},
		{"unknown key", "colour=blue", nil, def, `unknown parameter "colour"`},
		{"not key=value", "5665", nil, def, `parameter "5665"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(tt.arg, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// sseClient reads server-sent events from a real HTTP connection.
type sseClient struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func dial(t *testing.T, url string) *sseClient {
	t.Helper()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	return &sseClient{resp, sc}
}

// next returns the next event's name and data; "" at the end of the stream.
func (c *sseClient) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for c.sc.Scan() {
		line := c.sc.Text()
		switch {
		case line == "":
			if name != "" {
				return name, data
			}
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	return "", ""
}

// until reads events until one called name, and decodes it into v.
func (c *sseClient) until(t *testing.T, name string, v any) {
	t.Helper()
	for {
		n, data := c.next(t)
		if n == "" {
			t.Fatalf("the stream ended before a %q event", name)
		}
		if n == name {
			if err := json.Unmarshal([]byte(data), v); err != nil {
				t.Fatalf("%s event: %v", name, err)
			}
			return
		}
	}
}

// TestLive drives a dashboard the way the engine does and reads it as a browser does:
// the page, a snapshot on connection, points, thresholds turning red, the abort, and the
// final report, sent as "done" and written to the export file.
func TestLive(t *testing.T) {
	export := filepath.Join(t.TempDir(), "report.html")
	d := New(Config{Host: "127.0.0.1", Port: 0, Period: time.Hour, Export: export}, Options{Title: "live.js"})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = d.Stop()
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	page, err := http.Get(d.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %s %q", page.Status, page.Header.Get("Content-Type"))
	}

	c := dial(t, d.URL())
	var snap dashboard.Report
	c.until(t, "snapshot", &snap)
	if !snap.Live || snap.Title != "live.js" {
		t.Errorf("snapshot = %+v", snap)
	}

	reg := metrics.NewRegistry()
	dur, _ := reg.NewMetric("http_req_duration", metrics.Trend, metrics.Time)
	reqs, _ := reg.NewMetric("http_reqs", metrics.Counter, metrics.Default)
	now := time.Now()
	d.Observe(engine.PhaseEvent{Phase: engine.PhaseRunning, Time: now})
	var ph map[string]string
	c.until(t, "phase", &ph)
	if ph["phase"] != "running" {
		t.Errorf("phase event %v", ph)
	}
	d.AddSamples([]metrics.Sample{{Metric: dur, Value: 120, Time: now}, {Metric: reqs, Value: 1, Time: now}})
	d.mu.Lock()
	d.flushLocked(time.Second) // what the ticker does every period
	d.mu.Unlock()
	var p dashboard.Point
	c.until(t, "point", &p)
	if p.V["http_req_duration:p95"] != 120 || p.V["http_reqs:rate"] != 1 {
		t.Errorf("point %+v", p)
	}

	d.Observe(engine.ThresholdsEvent{Elapsed: time.Second, Thresholds: []engine.ThresholdResult{
		{Key: "http_req_duration", Source: "p(95)<100", Agg: "p(95)", OK: false, Observed: 120},
		{Key: "http_reqs", Source: "count>10", Agg: "count", OK: false, Observed: math.NaN()},
	}})
	var ths []dashboard.Threshold
	c.until(t, "thresholds", &ths)
	want := []dashboard.Threshold{
		{Key: "http_req_duration", Expr: "p(95)<100", Observed: dashboard.Finite(120), Limit: dashboard.Finite(100), OK: false, Unit: "ms", Source: "script"},
		{Key: "http_reqs", Expr: "count>10", Limit: dashboard.Finite(10), NoData: true, Source: "script"},
	}
	if diff := cmp.Diff(want, ths); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
	d.Observe(engine.AbortEvent{Code: 108, Reason: "test aborted"})
	var ab dashboard.Abort
	c.until(t, "abort", &ab)

	d.AddSamples([]metrics.Sample{{Metric: reqs, Value: 1, Time: now}}) // a short last period
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	var final dashboard.Report
	c.until(t, "done", &final)
	if len(final.Points) == 1 && final.Points[0].V["http_reqs:count"] != 2 {
		t.Errorf("the short last period did not join the point before it: %+v", final.Points)
	}
	if final.Live || final.Phase != "done" || len(final.Points) != 1 || final.Abort == nil || final.Abort.Code != 108 || len(final.Thresholds) != 2 {
		t.Errorf("final report = %+v", final)
	}
	if n, _ := c.next(t); n != "" {
		t.Errorf("event %q after done; want the end of the stream", n)
	}
	// After the run the page is the final one, and a new event stream is only "done".
	late := dial(t, d.URL())
	if n, _ := late.next(t); n != "done" {
		t.Errorf("a browser connecting after the run gets %q, want done", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(d.URL() + "/"); err == nil {
		t.Errorf("the server still answers after Close")
	}
	html, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"live":false`, `"p(95)\u003c100"`, `test aborted`} {
		if !strings.Contains(string(html), s) {
			t.Errorf("export lacks %s", s)
		}
	}
}

// TestSlowBrowserDropped: a browser that reads nothing is disconnected once it is maxQueued
// events behind; the run never waits for it.
func TestSlowBrowserDropped(t *testing.T) {
	d := New(Config{Port: -1, Period: time.Hour}, Options{})
	ch := make(chan []byte, maxQueued)
	d.clients[ch] = struct{}{}
	for range maxQueued + 1 {
		d.Observe(engine.ProgressEvent{})
	}
	if len(d.clients) != 0 {
		t.Fatalf("the slow browser is still connected")
	}
	n := 0
	for range ch {
		n++
	}
	if n != maxQueued {
		t.Errorf("%d events queued, want %d", n, maxQueued)
	}
}

// TestNoServer: port -1 serves nothing and still writes the export.
func TestNoServer(t *testing.T) {
	export := filepath.Join(t.TempDir(), "r.html")
	d := New(Config{Port: -1, Period: time.Hour, Export: export}, Options{})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if d.URL() != "" {
		t.Errorf("URL %q with port -1", d.URL())
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(export); err != nil {
		t.Fatal(err)
	}
}

// TestExportError: an export that cannot be written is Stop's error.
func TestExportError(t *testing.T) {
	d := New(Config{Port: -1, Period: time.Hour, Export: filepath.Join(t.TempDir(), "no", "such", "dir", "r.html")}, Options{})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err == nil || !strings.Contains(err.Error(), "K6_WEB_DASHBOARD_EXPORT") {
		t.Fatalf("Stop = %v, want the export error", err)
	}
}

// TestPortTaken: a port in use is Start's error, naming the setting.
func TestPortTaken(t *testing.T) {
	a := New(Config{Host: "127.0.0.1", Port: 0, Period: time.Hour}, Options{})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer a.Stop()
	port := a.ln.Addr().(interface{ String() string }).String()
	_, p, _ := strings.Cut(port, ":")
	cfg, _ := ParseConfig("port="+p, nil)
	if err := New(cfg, Options{}).Start(); err == nil || !strings.Contains(err.Error(), "K6_WEB_DASHBOARD_PORT") {
		t.Fatalf("Start on a taken port = %v", err)
	}
}

// TestOpenWithoutBrowser: K6_WEB_DASHBOARD_OPEN on a machine without a browser opener is a
// warning naming the setting and the address, and the run goes on.
func TestOpenWithoutBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no xdg-open, no open
	var logged []string
	d := New(Config{Host: "127.0.0.1", Port: 0, Period: time.Hour, Open: true}, Options{Log: func(level, msg string) { logged = append(logged, level+": "+msg) }})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	want := "warning: web dashboard: K6_WEB_DASHBOARD_OPEN: cannot open a browser"
	if len(logged) != 2 || !strings.HasPrefix(logged[1], want) || !strings.Contains(logged[1], d.URL()) {
		t.Errorf("logged %q, want the address then %q", logged, want)
	}
}
