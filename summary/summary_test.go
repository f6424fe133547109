package summary

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDataJSONMatchesHandleSummaryData(t *testing.T) {
	raw, err := os.ReadFile(samplePath(t, "handlesummary-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	got, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("re-encoded handleSummary data differs (-k6 +pixelk6):\n%s", diff)
	}
	var walk func(g *Group)
	walk = func(g *Group) {
		if g.ID != GroupID(g.Path) {
			t.Errorf("group %q: id %s, GroupID gives %s", g.Path, g.ID, GroupID(g.Path))
		}
		for _, c := range g.Checks {
			if c.ID != GroupID(c.Path) {
				t.Errorf("check %q: id %s, GroupID gives %s", c.Path, c.ID, GroupID(c.Path))
			}
		}
		for _, s := range g.Groups {
			walk(s)
		}
	}
	walk(d.RootGroup)
}

func TestGroupBuilder(t *testing.T) {
	root := NewRootGroup()
	inf := root.Group("inference")
	c := inf.Check("status is 200")
	c.Passes = 97
	if root.Group("inference") != inf || inf.Check("status is 200") != c {
		t.Fatal("Group/Check do not return existing entries")
	}
	got, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"","path":"","id":"d41d8cd98f00b204e9800998ecf8427e","groups":[{"name":"inference","path":"::inference","id":"96b19e88e8c00a1484395e782ecc17ca","groups":[],"checks":[{"name":"status is 200","path":"::inference::status is 200","id":"a3e641816bc973326149e98f1f2336de","passes":97,"fails":0}]}],"checks":[]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestThresholdsJSON(t *testing.T) {
	m := &Metric{Type: "trend", Contains: "time", Values: map[string]float64{"avg": 1},
		Thresholds: Thresholds{{Source: "p(95)<500", OK: true}, {Source: "avg<1", OK: false}}}
	d := &Data{Metrics: map[string]*Metric{"m": m}}
	all, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var pick struct{ Metrics map[string]json.RawMessage }
	if err := json.Unmarshal(all, &pick); err != nil {
		t.Fatal(err)
	}
	got := pick.Metrics["m"]
	want := `{"type":"trend","contains":"time","values":{"avg":1},"thresholds":{"p(95)<500":{"ok":true},"avg<1":{"ok":false}}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	m.Thresholds = nil
	got, _ = json.Marshal(m)
	if strings.Contains(string(got), "thresholds") {
		t.Errorf("thresholds not omitted: %s", got)
	}
}

func TestExportGolden(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			run := readNDJSON(t, samplePath(t, name+".json"))
			path := samplePath(t, name+"-summary.json")
			d := dataFromExport(t, path, run)
			var buf bytes.Buffer
			if err := Export(&buf, d); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("export differs (-k6 +pixelk6):\n%s", diff)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("{\n    \"")) {
				t.Errorf("export is not indented with four spaces: %.40q", buf.String())
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		ms   float64
		unit string
		want string
	}{
		{0, "", "0s"},
		{0.0005, "", "500ns"},
		{0.185325, "", "185.32µs"},
		{5.608238, "", "5.6ms"},
		{44.956307, "", "44.95ms"},
		{1, "", "1ms"},
		{1250, "", "1.25s"},
		{90500, "", "1m30.5s"},
		{3723000, "", "1h2m3s"},
		{44.956307, "s", "0.04s"},
		{44.956307, "us", "44956.3µs"},
		{-2.5, "", "-2.5ms"},
	}
	for _, tc := range tests {
		if got := formatDuration(tc.ms, tc.unit); got != tc.want {
			t.Errorf("formatDuration(%v, %q) = %q, want %q", tc.ms, tc.unit, got, tc.want)
		}
	}
}

func TestFormatOthers(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"bytes small", formatBytes(7), "7 B"},
		{"bytes kB", formatBytes(148077), "148 kB"},
		{"bytes one decimal", formatBytes(6400.2), "6.4 kB"},
		{"bytes MB", formatBytes(2_345_678), "2.3 MB"},
		{"bytes +Inf (hostile input)", formatBytes(math.Inf(1)), "+Inf B"},
		{"bytes NaN", formatBytes(math.NaN()), "NaN B"},
		{"percent truncates", formatPercent(186.0 / 207), "89.85%"},
		{"percent zero", formatPercent(0), "0.00%"},
		{"percent one", formatPercent(1), "100.00%"},
		{"number six decimals", formatNumber(142.55071712345), "142.550717"},
		{"number integer", formatNumber(1444), "1444"},
		{"toFixed half away from zero", toFixed(0.125, 2), "0.13"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextColor checks that colour only adds ANSI sequences to the plain text.
func TestTextColor(t *testing.T) {
	run := readNDJSON(t, samplePath(t, "fail.json"))
	d := dataFromExport(t, samplePath(t, "fail-summary.json"), run)
	var plain, color bytes.Buffer
	if err := Text(&plain, d, TextOptions{NoColor: true}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&color, d, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("NoColor output has escape sequences")
	}
	if !strings.Contains(color.String(), "\x1b[31m✗") || !strings.Contains(color.String(), "\x1b[32m✓") {
		t.Error("colour output lacks red ✗ / green ✓")
	}
	if stripped := ansiRE.ReplaceAllString(color.String(), ""); stripped != plain.String() {
		t.Errorf("colour output without escapes differs from plain:\n%s", stripped)
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Compact, "compact": Compact, "full": Full, "disabled": Disabled} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMode("legacy"); err == nil || !strings.Contains(err.Error(), `"legacy"`) {
		t.Errorf("ParseMode(legacy) error = %v", err)
	}
}

// TestTextSynthetic covers what the reference runs lack: no thresholds, a check that never
// passed, a counter threshold, a gauge of time values, a non-time trend, nested groups.
func TestTextSynthetic(t *testing.T) {
	root := NewRootGroup()
	c := root.Check("always fails")
	c.Fails = 3
	d := &Data{
		Options: Options{SummaryTrendStats: []string{"avg", "p(99)"}},
		State:   State{TestRunDurationMs: 2000},
		Metrics: map[string]*Metric{
			"checks":    {Type: "rate", Contains: "default", Values: map[string]float64{"rate": 0, "passes": 0, "fails": 3}},
			"queue_len": {Type: "trend", Contains: "default", Values: map[string]float64{"avg": 2.5, "p(99)": 7.123456789}},
			"warmup":    {Type: "gauge", Contains: "time", Values: map[string]float64{"value": 1500, "min": 0.5, "max": 65000}},
			"ws_pings":  {Type: "counter", Contains: "default", Values: map[string]float64{"count": 4, "rate": 2}},
		},
		RootGroup: root,
	}
	want := `  █ TOTAL RESULTS 

    checks_total.......: 3       1.5/s
    checks_succeeded...: 0.00%   0 out of 3
    checks_failed......: 100.00% 3 out of 3

    ✗ always fails
      ↳  0% — ✓ 0 / ✗ 3

    CUSTOM
    queue_len...: avg=2.5 p(99)=7.123457
    warmup......: 1.5s min=500µs max=1m5s

    WEBSOCKET
    ws_pings....: 4    2/s
`
	var got bytes.Buffer
	if err := Text(&got, d, TextOptions{NoColor: true}); err != nil {
		t.Fatal(err)
	}
	compareLines(t, got.String(), want)

	d.Metrics["ws_pings"].Thresholds = Thresholds{{Source: "count>10", OK: false, Agg: "count", Observed: 4}, {Source: "rate>1", OK: true, Agg: "rate", Observed: 2}}
	got.Reset()
	if err := Text(&got, d, TextOptions{NoColor: true}); err != nil {
		t.Fatal(err)
	}
	wantTh := "  █ THRESHOLDS \n\n    ws_pings\n    ✗ 'count>10' count=4\n    ✓ 'rate>1' rate=2/s\n\n\n  █ TOTAL RESULTS \n"
	if !strings.HasPrefix(got.String(), wantTh) {
		t.Errorf("thresholds block:\n%s\nwant prefix\n%s", got.String(), wantTh)
	}
}

func TestTextFullNestedGroups(t *testing.T) {
	root := NewRootGroup()
	outer := root.Group("outer")
	inner := outer.Group("inner")
	inner.Check("ok").Passes = 2
	outer.Metrics = map[string]*Metric{"iterations": {Type: "counter", Contains: "default", Values: map[string]float64{"count": 2, "rate": 1}}}
	inner.Metrics = map[string]*Metric{"data_sent": {Type: "counter", Contains: "data", Values: map[string]float64{"count": 2048, "rate": 1024}}}
	d := &Data{
		State:     State{TestRunDurationMs: 2000},
		Metrics:   map[string]*Metric{},
		RootGroup: NewRootGroup(),
		Scenarios: []*Scenario{{Name: "default", Metrics: map[string]*Metric{}, RootGroup: root}},
	}
	want := `  █ TOTAL RESULTS 


  █ SCENARIO: default 

    checks_total.......: 2       1/s
    checks_succeeded...: 100.00% 2 out of 2
    checks_failed......: 0.00%   0 out of 2

    ✓ ok

    ↳ GROUP: outer 

      EXECUTION
      iterations...: 2 1/s

      ↳ GROUP: inner 

        checks_total.......: 2       1/s
        checks_succeeded...: 100.00% 2 out of 2
        checks_failed......: 0.00%   0 out of 2

        ✓ ok

        NETWORK
        data_sent...: 2.0 kB 1.0 kB/s
`
	var got bytes.Buffer
	if err := Text(&got, d, TextOptions{Mode: Full, NoColor: true}); err != nil {
		t.Fatal(err)
	}
	compareLines(t, got.String(), want)
}

// FuzzFormatDuration checks that any duration formats without panicking and, below an
// hour, reads back to within the truncation step of its unit.
func FuzzFormatDuration(f *testing.F) {
	for _, v := range []float64{0, 0.0005, 0.185325, 44.956307, 1250, 90500, -3, 1e300} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, ms float64) {
		s := formatDuration(ms, "")
		if s == "" {
			t.Fatal("empty")
		}
		if ms < 0 || ms >= 60000 || ms != ms {
			return
		}
		for _, u := range []struct {
			suffix string
			ms     float64
		}{{"ns", 1e-6}, {"µs", 1e-3}, {"ms", 1}, {"s", 1000}} {
			if num, ok := strings.CutSuffix(s, u.suffix); ok {
				v, err := strconv.ParseFloat(num, 64)
				if err != nil {
					t.Fatalf("%v → %q: %v", ms, s, err)
				}
				// Whole nanoseconds (±0.5 ns), then truncated to a hundredth of the unit.
				back, step := v*u.ms, u.ms/100
				if back > ms+1e-6 || back < ms-step-1e-6 {
					t.Fatalf("%v → %q reads back as %v", ms, s, back)
				}
				return
			}
		}
		t.Fatalf("%v → %q has no unit", ms, s)
	})
}

// TestTrendCountNotATime checks that a trend's count is printed as a number, in every
// summaryTimeUnit: it counts samples, it is not a duration.
func TestTrendCountNotATime(t *testing.T) {
	for _, unit := range []string{"", "s", "ms", "us"} {
		t.Run("unit="+unit, func(t *testing.T) {
			p := &printer{stats: []string{"count", "avg"}, timeUnit: unit}
			r := p.metricRow(&Metric{Type: "trend", Contains: "time", Values: map[string]float64{"count": 1500, "avg": 2000}})
			if r.trend[0] != "count=1500" {
				t.Errorf("count column = %q, want count=1500", r.trend[0])
			}
			if unit == "s" && r.trend[1] != "avg=2s" {
				t.Errorf("avg column = %q, want avg=2s", r.trend[1])
			}
		})
	}
}
