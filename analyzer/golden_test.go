package analyzer

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// referenceDir is the repository's copy of real k6 output (testdata/k6-reference at the
// module root, see its README). The analyzer's testdata/{rest,fail,ws}.* are links to it.
func referenceDir(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "testdata", "k6-reference", "samples")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Fatalf("the k6 reference samples are missing from the repository: %s: %v", p, err)
	}
	return p
}

var samples = []string{"rest", "fail", "ws"}

// TestTestdataIsCurrent checks that the testdata files are present and equal the reference files.
func TestTestdataIsCurrent(t *testing.T) {
	ref := referenceDir(t)
	for _, s := range samples {
		for _, ext := range []string{".json", ".csv", "-summary.json", "-stdout.txt", "-exitcode.txt"} {
			a, err := os.ReadFile(filepath.Join(ref, s+ext))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("testdata", s+ext))
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Errorf("testdata/%s%s differs from %s", s, ext, ref)
			}
		}
	}
}

// k6Verdicts parses the THRESHOLDS block of k6's stdout: key + " " + expression → passed.
func k6Verdicts(t *testing.T, sample string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", sample+"-stdout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	in := false
	metric, sub := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case strings.Contains(line, "█ THRESHOLDS"):
			in = true
			continue
		case strings.Contains(line, "█ TOTAL RESULTS"):
			in = false
		}
		if !in || trim == "" {
			continue
		}
		switch {
		case strings.HasPrefix(trim, "✓ ") || strings.HasPrefix(trim, "✗ "):
			rest := trim[len("✓ "):]
			expr := rest[1 : 1+strings.Index(rest[1:], "'")]
			out[metric+sub+" "+expr] = strings.HasPrefix(trim, "✓")
		case strings.HasPrefix(trim, "{"):
			sub = trim
		default:
			metric, sub = trim, ""
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no thresholds in k6's stdout", sample)
	}
	return out
}

func ourVerdicts(t *testing.T, r *Result) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, tr := range r.Thresholds {
		k := tr.Key + " " + tr.Expression
		if prev, ok := out[k]; ok && prev != tr.Pass {
			t.Errorf("%s: sources disagree", k)
		}
		out[k] = tr.Pass
	}
	return out
}

func k6ExitCode(t *testing.T, sample string) int {
	b, err := os.ReadFile(filepath.Join("testdata", sample+"-exitcode.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// k6Duration is the test duration k6 used for counter rates: iterations count / rate.
func k6Duration(t *testing.T, summary map[string]map[string]any) time.Duration {
	it := summary["iterations"]
	return time.Duration(it["count"].(float64) / it["rate"].(float64) * float64(time.Second))
}

func loadSummary(t *testing.T, sample string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", sample+"-summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Metrics
}

func analyzeT(t *testing.T, o Options) *Result {
	t.Helper()
	if o.MaxBadLines == 0 {
		o.MaxBadLines = 10
	}
	r, err := Analyze(context.Background(), o)
	if err != nil {
		t.Fatalf("Analyze(%v): %v", o.Files, err)
	}
	return r
}

// TestGoldenVerdicts: every threshold's pass/fail and the exit code equal k6's, from NDJSON
// (script thresholds + the submetric ones k6 does not record) and from CSV (all thresholds
// from a criteria file), and NDJSON and CSV agree.
func TestGoldenVerdicts(t *testing.T) {
	for _, s := range samples {
		want := k6Verdicts(t, s)
		code := k6ExitCode(t, s)
		cases := []struct {
			name string
			o    Options
		}{
			{"ndjson script+criteria", Options{Files: []string{"testdata/" + s + ".json"}, Criteria: []string{"testdata/" + s + "-submetrics.yaml"}}},
			{"ndjson criteria only", Options{Files: []string{"testdata/" + s + ".json"}, NoScript: true, Criteria: []string{"testdata/" + s + "-thresholds.yaml"}}},
			{"csv criteria", Options{Files: []string{"testdata/" + s + ".csv"}, Criteria: []string{"testdata/" + s + "-thresholds.yaml"}}},
			{"ndjson one worker small blocks", Options{Files: []string{"testdata/" + s + ".json"}, Workers: 1, blockSize: 4096, Criteria: []string{"testdata/" + s + "-submetrics.yaml"}}},
		}
		for _, c := range cases {
			t.Run(s+"/"+c.name, func(t *testing.T) {
				r := analyzeT(t, c.o)
				got := ourVerdicts(t, r)
				for k, w := range want {
					g, ok := got[k]
					if !ok {
						t.Errorf("threshold %s missing", k)
					} else if g != w {
						t.Errorf("threshold %s: pass=%v, k6 says %v", k, g, w)
					}
				}
				if len(got) != len(want) {
					t.Errorf("got %d thresholds, k6 has %d: %v", len(got), len(want), got)
				}
				if r.ExitCode() != code {
					t.Errorf("exit code %d, k6's %d", r.ExitCode(), code)
				}
			})
		}
	}
}

func relClose(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// TestGoldenNumbers: trend stats equal k6's summary to 1e-9 relative, counts exactly,
// counter rates within 1 % (with k6's test duration), gauges and rates exactly.
func TestGoldenNumbers(t *testing.T) {
	for _, s := range samples {
		t.Run(s, func(t *testing.T) {
			sum := loadSummary(t, s)
			dur := k6Duration(t, sum)
			r := analyzeT(t, Options{Files: []string{"testdata/" + s + ".json"}, Duration: dur,
				Criteria: []string{"testdata/" + s + "-submetrics.yaml"}})
			ours := map[string]MetricSummary{}
			for _, m := range r.Metrics {
				ours[m.Name] = m
			}
			for name, kv := range sum {
				m, ok := ours[name]
				if !ok {
					t.Errorf("metric %s: missing", name)
					continue
				}
				for k, v := range kv {
					if k == "thresholds" {
						continue
					}
					want := v.(float64)
					key := k
					if m.Type == "rate" && k == "value" {
						key = "rate"
					}
					got, ok := m.Values[key]
					if !ok {
						t.Errorf("%s %s: missing", name, k)
						continue
					}
					tol := 1e-9
					if m.Type == "counter" && k == "rate" {
						tol = 0.01
					}
					if (m.Type == "counter" && k == "count") || k == "passes" || k == "fails" {
						tol = 0
					}
					if !relClose(got, want, tol) {
						t.Errorf("%s %s = %v, k6 %v", name, k, got, want)
					}
				}
			}
		})
	}
}

// TestSpanDuration: without --duration the test duration is the sample span; for runs that
// end with their last sample (fail, ws) it is within 1 % of k6's.
func TestSpanDuration(t *testing.T) {
	for _, s := range []string{"fail", "ws"} {
		sum := loadSummary(t, s)
		r := analyzeT(t, Options{Files: []string{"testdata/" + s + ".json"}})
		if !relClose(r.Elapsed.Seconds(), k6Duration(t, sum).Seconds(), 0.01) {
			t.Errorf("%s: span %v, k6 %v", s, r.Elapsed, k6Duration(t, sum))
		}
	}
}

// thresholdBlock returns the lines of the THRESHOLDS block of a summary, trimmed, without
// blank lines and without k6verdict's "[source]" suffix.
func thresholdBlock(text string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.Contains(line, "█ THRESHOLDS"):
			in = true
			continue
		case strings.Contains(line, "█ "):
			in = false
		}
		line = strings.TrimSpace(line)
		if !in || line == "" {
			continue
		}
		if i := strings.Index(line, " [criteria:"); i >= 0 {
			line = line[:i]
		}
		out = append(out, line)
	}
	return out
}

// TestGoldenThresholdText: the THRESHOLDS block reads like k6's, line for line, values
// formatted as k6 formats them.
func TestGoldenThresholdText(t *testing.T) {
	for _, s := range samples {
		t.Run(s, func(t *testing.T) {
			r := analyzeT(t, Options{Files: []string{"testdata/" + s + ".json"}, Criteria: []string{"testdata/" + s + "-submetrics.yaml"}})
			var b strings.Builder
			if err := r.WriteText(&b, false); err != nil {
				t.Fatal(err)
			}
			got := thresholdBlock(b.String())
			want := thresholdBlock(string(readT(t, "testdata/"+s+"-stdout.txt")))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("THRESHOLDS block differs from k6's:\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestCSVNumbersEqualNDJSON: the CSV of a run gives the same statistics as its NDJSON
// (counter rates aside: CSV times have whole seconds).
func TestCSVNumbersEqualNDJSON(t *testing.T) {
	for _, s := range samples {
		t.Run(s, func(t *testing.T) {
			crit := []string{"testdata/" + s + "-thresholds.yaml"}
			nd := analyzeT(t, Options{Files: []string{"testdata/" + s + ".json"}, Criteria: crit, NoScript: true})
			cs := analyzeT(t, Options{Files: []string{"testdata/" + s + ".csv"}, Criteria: crit})
			byName := map[string]MetricSummary{}
			for _, m := range cs.Metrics {
				byName[m.Name] = m
			}
			for _, m := range nd.Metrics {
				c, ok := byName[m.Name]
				if !ok {
					t.Errorf("%s: missing from CSV", m.Name)
					continue
				}
				if c.Samples != m.Samples {
					t.Errorf("%s: %d samples in CSV, %d in NDJSON", m.Name, c.Samples, m.Samples)
				}
				if c.Type != m.Type && (m.Type == "trend" || c.Type == "trend" || m.Type == "rate") {
					t.Errorf("%s: CSV type %s, NDJSON %s", m.Name, c.Type, m.Type)
					continue
				}
				for k, v := range m.Values {
					if k == "rate" && m.Type == "counter" {
						continue
					}
					if cv, ok := c.Values[k]; ok && !relClose(cv, v, 1e-9) {
						t.Errorf("%s %s: CSV %v, NDJSON %v", m.Name, k, cv, v)
					}
				}
			}
		})
	}
}
