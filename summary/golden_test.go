package summary

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/metrics"
)

// samplesDir holds real k6 v2.2.0 output, kept in the repository (see its README.md).
const samplesDir = "../testdata/k6-reference/samples"

func samplePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(samplesDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference sample %s is missing from the repository: %v", p, err)
	}
	return p
}

// ndjsonRun is what a golden test needs from a k6 NDJSON file.
type ndjsonRun struct {
	kinds      map[string][2]string // metric → {type, contains}
	thresholds map[string][]string  // metric → expressions in written order
	points     map[string][]ndPoint // metric → points
	checkOrder []string             // check names in order of first appearance
}

type ndPoint struct {
	value float64
	tags  map[string]string
}

func readNDJSON(t testing.TB, path string) *ndjsonRun {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run := &ndjsonRun{kinds: map[string][2]string{}, thresholds: map[string][]string{}, points: map[string][]ndPoint{}}
	seenCheck := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
			Data   struct {
				Type       string            `json:"type"`
				Contains   string            `json:"contains"`
				Thresholds []json.RawMessage `json:"thresholds"`
				Value      float64           `json:"value"`
				Tags       map[string]string `json:"tags"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch rec.Type {
		case "Metric":
			run.kinds[rec.Metric] = [2]string{rec.Data.Type, rec.Data.Contains}
			for _, raw := range rec.Data.Thresholds {
				var s string
				if json.Unmarshal(raw, &s) != nil {
					var o struct{ Threshold string }
					if err := json.Unmarshal(raw, &o); err != nil {
						t.Fatal(err)
					}
					s = o.Threshold
				}
				run.thresholds[rec.Metric] = append(run.thresholds[rec.Metric], s)
			}
		case "Point":
			run.points[rec.Metric] = append(run.points[rec.Metric], ndPoint{rec.Data.Value, rec.Data.Tags})
			if rec.Metric == "checks" && !seenCheck[rec.Data.Tags["check"]] {
				seenCheck[rec.Data.Tags["check"]] = true
				run.checkOrder = append(run.checkOrder, rec.Data.Tags["check"])
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return run
}

// observe computes an aggregation that the export does not carry (e.g. p(99)) from the
// NDJSON points of the metric or submetric key, with the shared percentile formula.
func (r *ndjsonRun) observe(t testing.TB, key string, agg metrics.Aggregation) float64 {
	t.Helper()
	name, sub, err := metrics.ParseMetricKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var vals []float64
	for _, p := range r.points[name] {
		if metrics.NewTagSet(p.tags).Contains(sub) {
			vals = append(vals, p.value)
		}
	}
	if agg.Kind != metrics.AggPercentile {
		t.Fatalf("%s: cannot observe %s from points", key, agg)
	}
	sort.Float64s(vals)
	return metrics.Percentile(vals, agg.P)
}

type exportGroupIn struct {
	Name   string                    `json:"name"`
	Path   string                    `json:"path"`
	ID     string                    `json:"id"`
	Groups map[string]*exportGroupIn `json:"groups"`
	Checks map[string]*Check         `json:"checks"`
}

// dataFromExport builds the Data of a reference run from its --summary-export file and its
// NDJSON file (types, units, threshold and check order, values the export lacks).
func dataFromExport(t testing.TB, exportPath string, run *ndjsonRun) *Data {
	t.Helper()
	raw, err := os.ReadFile(exportPath)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Metrics   map[string]map[string]json.RawMessage `json:"metrics"`
		RootGroup *exportGroupIn                        `json:"root_group"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	d := &Data{
		Options: Options{SummaryTrendStats: []string{"avg", "min", "med", "max", "p(90)", "p(95)"}},
		Metrics: map[string]*Metric{},
	}
	for key, fields := range ex.Metrics {
		name, _, _ := strings.Cut(key, "{")
		kind, ok := run.kinds[name]
		if !ok {
			t.Fatalf("metric %q has no Metric line", name)
		}
		m := &Metric{Type: kind[0], Contains: kind[1], Values: map[string]float64{}}
		var crossed map[string]bool
		for k, v := range fields {
			if k == "thresholds" {
				if err := json.Unmarshal(v, &crossed); err != nil {
					t.Fatal(err)
				}
				continue
			}
			var f float64
			if err := json.Unmarshal(v, &f); err != nil {
				t.Fatal(err)
			}
			if m.Type == "rate" && k == "value" {
				k = "rate"
			}
			m.Values[k] = f
		}
		order := run.thresholds[key]
		if len(order) == 0 {
			for src := range crossed {
				order = append(order, src)
			}
			sort.Strings(order)
		}
		for _, src := range order {
			th, err := metrics.ParseThreshold(src)
			if err != nil {
				t.Fatal(err)
			}
			obs, ok := m.Values[th.Agg.String()]
			if !ok {
				obs = run.observe(t, key, th.Agg)
			}
			m.Thresholds = append(m.Thresholds, NewThreshold(th, obs, !crossed[src]))
		}
		d.Metrics[key] = m
	}
	it := d.Metrics["iterations"].Values
	d.State.TestRunDurationMs = it["count"] / it["rate"] * 1000

	rank := map[string]int{}
	for i, c := range run.checkOrder {
		rank[c] = i
	}
	var conv func(g *exportGroupIn) *Group
	conv = func(g *exportGroupIn) *Group {
		out := &Group{Name: g.Name, Path: g.Path, ID: g.ID, Groups: []*Group{}, Checks: []*Check{}}
		for _, c := range g.Checks {
			out.Checks = append(out.Checks, c)
		}
		sort.Slice(out.Checks, func(i, j int) bool { return rank[out.Checks[i].Name] < rank[out.Checks[j].Name] })
		for _, s := range g.Groups {
			out.Groups = append(out.Groups, conv(s))
		}
		sort.Slice(out.Groups, func(i, j int) bool { return out.Groups[i].Name < out.Groups[j].Name })
		return out
	}
	d.RootGroup = conv(ex.RootGroup)
	return d
}

// summaryPart returns the end-of-test summary from a k6 stdout capture: from the first
// block header to the last non-empty line before the final progress line.
func summaryPart(t testing.TB, stdout string) string {
	t.Helper()
	start := strings.Index(stdout, "  █ THRESHOLDS")
	if start < 0 {
		start = strings.Index(stdout, "  █ TOTAL RESULTS")
	}
	end := strings.LastIndex(stdout, "\nrunning (")
	if start < 0 || end < start {
		t.Fatal("no summary in stdout capture")
	}
	return strings.TrimRight(stdout[start:end], "\n") + "\n"
}

func TestTextGolden(t *testing.T) {
	tests := []struct{ name, run string }{
		{"rest passing thresholds", "rest"},
		{"fail crossed thresholds and failed check", "fail"},
		{"ws websocket section and submetric threshold without parent", "ws"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := readNDJSON(t, samplePath(t, tc.run+".json"))
			d := dataFromExport(t, samplePath(t, tc.run+"-summary.json"), run)
			want, err := os.ReadFile(samplePath(t, tc.run+"-stdout.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Text(&got, d, TextOptions{NoColor: true}); err != nil {
				t.Fatal(err)
			}
			compareLines(t, got.String(), summaryPart(t, string(want)))
		})
	}
}

func compareLines(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
}
