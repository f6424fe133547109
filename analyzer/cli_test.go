package analyzer

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readT(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRunExitCodes(t *testing.T) {
	rest := readT(t, "testdata/rest.json")
	lines := bytes.SplitAfter(rest, []byte("\n"))
	truncated := append(bytes.Join(lines[:200], nil), lines[200][:50]...)
	bad := bytes.Join(lines[:100], nil)
	bad = append(bad, []byte("not json\n{\"type\":\"Bogus\"}\n")...)
	bad = append(bad, bytes.Join(lines[100:], nil)...)
	cases := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"pass", []string{"testdata/rest.json"}, "", 0, "✓ 'p(95)<500' p(95)=38.34ms", ""},
		{"fail as k6", []string{"testdata/fail.json"}, "", 99, "✗ 'p(95)<10' p(95)=40.57ms", "thresholds on metrics 'checks, http_req_duration, http_req_failed, inference_latency' have been crossed"},
		{"criteria makes it fail", []string{"--criteria", "testdata/fail-submetrics.yaml", "testdata/fail.json"}, "", 99, "{name:infer}", "http_req_duration{name:infer}"},
		{"gzip", []string{writeTemp(t, "rest.json.gz", gz(t, rest))}, "", 0, "✓ 'rate>0.99'", ""},
		{"truncated gzip", []string{writeTemp(t, "cut.json.gz", gz(t, rest)[:len(gz(t, rest))/2])}, "", 0, "gzip stream is truncated", ""},
		{"gzip csv", []string{"--criteria", "testdata/ws-thresholds.yaml", writeTemp(t, "ws.csv.gz", gz(t, readT(t, "testdata/ws.csv")))}, "", 0, "ws_chunk_latency", ""},
		{"stdin", []string{"-"}, string(readT(t, "testdata/fail.json")), 99, "✗ 'avg<1'", ""},
		{"no samples", []string{writeTemp(t, "empty.json", nil)}, "", 2, "", "no samples"},
		{"only metric records", []string{writeTemp(t, "m.json", lines[0])}, "", 2, "", "no samples"},
		{"missing file", []string{"testdata/nope.json"}, "", 2, "", "nope.json"},
		{"no args", nil, "", 2, "", "no input files"},
		{"bad flag", []string{"--bogus", "x"}, "", 2, "", "unknown flag"},
		{"bad format", []string{"--format", "xml", "testdata/rest.json"}, "", 2, "", "--format"},
		{"bad criteria", []string{"--criteria", writeTemp(t, "c.yaml", []byte("x: [\"p95<1\"]")), "testdata/rest.json"}, "", 2, "", `threshold "p95<1": at column 2`},
		{"unknown profile", []string{"--profile", "grpc", "testdata/rest.json"}, "", 2, "", "unknown profile"},
		{"truncated last line warns", []string{writeTemp(t, "t.json", truncated)}, "", 0, "last line is truncated", ""},
		{"bad lines under the limit", []string{writeTemp(t, "b.json", bad)}, "", 0, "2 bad line(s)", ""},
		{"bad lines over the limit", []string{"--max-bad-lines", "1", writeTemp(t, "b.json", bad)}, "", 2, "", "too many bad lines"},
		{"profile rest", []string{"--profile", "rest", "testdata/rest.json"}, "", 99, "[profile:rest]", "http_reqs"},
		{"profile websocket passes without data except vus", []string{"--profile", "websocket", "testdata/ws.json"}, "", 99, "✗ 'max>=500' max=3", "vus"},
		{"windows", []string{"--windows", "testdata/rest.json"}, "", 0, "█ WINDOWS", ""},
		{"fixed windows", []string{"--window", "2s", "testdata/fail.json"}, "", 99, "breaking point: window 0", ""},
		{"bad window", []string{"--window", "1500ms", "testdata/fail.json"}, "", 2, "", "whole number of seconds"},
		{"help", []string{"--help"}, "", 0, "", "Usage:"},
		{"bad trend stat", []string{"--summary-trend-stats", "avg,p95", "testdata/rest.json"}, "", 2, "", "--summary-trend-stats"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, c.stdin, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			if !strings.Contains(out, c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, out)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errOut)
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("colour on a non-terminal")
			}
		})
	}
}

func TestBadLinePositions(t *testing.T) {
	rest := readT(t, "testdata/rest.json")
	lines := bytes.SplitAfter(rest, []byte("\n"))
	data := append(bytes.Join(lines[:10], nil), []byte("garbage\n")...)
	data = append(data, bytes.Join(lines[10:], nil)...)
	p := writeTemp(t, "b.json", data)
	for _, w := range []int{1, 2} {
		r := analyzeT(t, Options{Files: []string{p}, Workers: w, blockSize: 512})
		if r.BadLineCount != 1 || len(r.BadLines) != 1 || r.BadLines[0].Line != 11 || r.BadLines[0].File != p {
			t.Errorf("workers=%d: bad lines %+v (count %d), want one at %s:11", w, r.BadLines, r.BadLineCount, p)
		}
	}
}

func TestLongLine(t *testing.T) {
	long := `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":2,"tags":{"big":"` + strings.Repeat("a", 17<<20) + `"}}}` + "\n"
	p := writeTemp(t, "long.json", []byte(`{"type":"Metric","data":{"name":"x","type":"counter","contains":"default","thresholds":["count==3"],"submetrics":null},"metric":"x"}`+"\n"+long+long+strings.Replace(long, `"value":2`, `"value":-1`, 1)))
	code, out, errOut := run(t, "", p)
	if code != 0 || !strings.Contains(out, "✓ 'count==3' count=3") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

type jsonOut struct {
	Schema     string `json:"schema"`
	Pass       bool   `json:"pass"`
	ExitCode   int    `json:"exit_code"`
	Thresholds []struct {
		Metric     string            `json:"metric"`
		Key        string            `json:"key"`
		Submetric  map[string]string `json:"submetric"`
		Expression string            `json:"expression"`
		Observed   *float64          `json:"observed"`
		Pass       bool              `json:"pass"`
		Source     string            `json:"source"`
	} `json:"thresholds"`
	Run struct {
		Samples         uint64  `json:"samples"`
		DurationSeconds float64 `json:"duration_seconds"`
		Start           string  `json:"start"`
	} `json:"run"`
	Metrics []struct {
		Name   string             `json:"name"`
		Values map[string]float64 `json:"values"`
	} `json:"metrics"`
	Warnings []string `json:"warnings"`
	Windows  []Window `json:"windows"`
	Breaking *int     `json:"breaking_window"`
}

func TestRunFormats(t *testing.T) {
	dir := t.TempDir()
	junit, md := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.md")
	code, out, errOut := run(t, "", "--format", "json", "--junit", junit, "--markdown", md,
		"--criteria", "testdata/fail-submetrics.yaml", "--window", "1s", "testdata/fail.json")
	if code != 99 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc jsonOut
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if doc.Schema != JSONSchema || doc.Pass || doc.ExitCode != 99 || len(doc.Thresholds) != 7 || doc.Run.Samples != 3094 || doc.Run.Start == "" {
		t.Errorf("json document: %+v", doc)
	}
	failed := 0
	for _, th := range doc.Thresholds {
		if !th.Pass {
			failed++
		}
		if th.Observed == nil {
			t.Errorf("%s %s: no observed value", th.Key, th.Expression)
		}
		if th.Key == "http_req_duration{name:infer}" && (th.Submetric["name"] != "infer" || th.Source != "criteria:testdata/fail-submetrics.yaml") {
			t.Errorf("submetric threshold %+v", th)
		}
	}
	if doc.Breaking == nil || *doc.Breaking != 0 {
		t.Errorf("breaking window %v, want 0", doc.Breaking)
	}
	if failed != 5 || len(doc.Windows) < 5 {
		t.Errorf("failed %d (want 5), windows %d", failed, len(doc.Windows))
	}
	var ju struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(readT(t, junit), &ju); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if ju.Tests != 7 || ju.Failures != 5 || len(ju.Suites) != 1 || len(ju.Suites[0].Cases) != 7 {
		t.Errorf("junit counts: %+v", ju)
	}
	for _, c := range ju.Suites[0].Cases {
		if c.Failure != nil && !strings.Contains(c.Failure.Message, "=") {
			t.Errorf("failure without observed value: %+v", c.Failure)
		}
	}
	mdText := string(readT(t, md))
	if !strings.Contains(mdText, "| ❌ | `http_req_duration` | `p(95)<10` | p(95)=40.57ms | script |") || !strings.Contains(mdText, "❌ thresholds crossed") {
		t.Errorf("markdown:\n%s", mdText)
	}
}

// TestSplitMergesExactly: a run split into N files (by lines, as execution segments would
// write it, each with its own Metric records) gives the same verdict and numbers.
func TestSplitMergesExactly(t *testing.T) {
	for _, s := range samples {
		data := readT(t, "testdata/"+s+".json")
		lines := bytes.SplitAfter(data, []byte("\n"))
		var metricLines [][]byte
		for _, l := range lines {
			if bytes.Contains(l, []byte(`"type":"Metric"`)) {
				metricLines = append(metricLines, l)
			}
		}
		whole := analyzeT(t, Options{Files: []string{"testdata/" + s + ".json"}, Criteria: []string{"testdata/" + s + "-submetrics.yaml"}})
		for _, n := range []int{2, 3, 7} {
			dir := t.TempDir()
			var files []string
			parts := make([][]byte, n)
			for i := range parts {
				parts[i] = bytes.Join(metricLines, nil)
			}
			for i, l := range lines {
				if !bytes.Contains(l, []byte(`"type":"Metric"`)) {
					parts[(i*31)%n] = append(parts[(i*31)%n], l...)
				}
			}
			for i, p := range parts {
				f := filepath.Join(dir, s+"-part"+string(rune('a'+i))+".json")
				if err := os.WriteFile(f, p, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			split := analyzeT(t, Options{Files: files, Criteria: []string{"testdata/" + s + "-submetrics.yaml"}})
			if len(split.Thresholds) != len(whole.Thresholds) || split.Points != whole.Points || split.Elapsed != whole.Elapsed {
				t.Fatalf("%s/%d: %d thresholds, %d points; whole %d, %d", s, n, len(split.Thresholds), split.Points, len(whole.Thresholds), whole.Points)
			}
			for i := range whole.Thresholds {
				a, b := whole.Thresholds[i], split.Thresholds[i]
				if a.Key != b.Key || a.Pass != b.Pass || *a.Observed != *b.Observed {
					t.Errorf("%s/%d: %s %s: whole %v %v, split %v %v", s, n, a.Key, a.Expression, a.Pass, *a.Observed, b.Pass, *b.Observed)
				}
			}
			for i := range whole.Metrics {
				for k, v := range whole.Metrics[i].Values {
					if split.Metrics[i].Values[k] != v {
						t.Errorf("%s/%d: %s %s: whole %v, split %v", s, n, whole.Metrics[i].Name, k, v, split.Metrics[i].Values[k])
					}
				}
			}
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
	}{
		{"same run", []string{"compare", "testdata/rest.json", "testdata/rest.json"}, 0, "no regression"},
		{"worse run", []string{"compare", "testdata/rest.json", "testdata/fail.json"}, 99, "REGRESSION"},
		{"better run", []string{"compare", "testdata/fail.json", "testdata/rest.json"}, 0, "no regression"},
		{"huge tolerance", []string{"compare", "--tolerance", "p(95)=1000%,avg=1000%,med=1000%,p99=1000%,rate=100%", "testdata/rest.json", "testdata/fail.json"}, 0, "no regression"},
		{"bad tolerance", []string{"compare", "--tolerance", "p(42)=1%", "testdata/rest.json", "testdata/fail.json"}, 2, ""},
		{"one input", []string{"compare", "testdata/rest.json"}, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := run(t, "", c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) {
				t.Errorf("exit %d (want %d)\n%s\n%s", code, c.code, out, errOut)
			}
		})
	}
	code, out, _ := run(t, "", "compare", "--format", "json", "testdata/rest.json", "testdata/fail.json")
	var doc struct {
		Regression bool     `json:"regression"`
		Changes    []Change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 99 || !doc.Regression {
		t.Fatalf("json compare: %v %d %s", err, code, out)
	}
	found := false
	for _, ch := range doc.Changes {
		if ch.Metric == "http_req_failed" {
			found = ch.Regression && ch.PValue < 0.01 && ch.Test == "two-proportion-z"
		}
	}
	if !found {
		t.Error("http_req_failed 0% → 10% not a significant regression")
	}
}

func TestMannWhitney(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	b := []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if p := MannWhitneyGreater(a, b); p > 0.001 {
		t.Errorf("clearly larger: p=%v", p)
	}
	if p := MannWhitneyGreater(b, a); p < 0.99 {
		t.Errorf("clearly smaller: p=%v", p)
	}
	if p := MannWhitneyGreater(a, a); p < 0.4 {
		t.Errorf("same: p=%v", p)
	}
	if p := MannWhitneyGreater([]float64{1, 1, 1}, []float64{1, 1, 1}); p != 1 {
		t.Errorf("all ties: p=%v", p)
	}
}

// TestScriptThresholdObjects: abortOnFail objects in Metric records are read, and several
// files' records of one metric are merged.
func TestScriptThresholdObjects(t *testing.T) {
	rec := `{"type":"Metric","data":{"name":"jobs","type":"counter","contains":"default","thresholds":[{"threshold":"count>5","abortOnFail":true,"delayAbortEval":"10s"},"rate<1000"],"submetrics":null},"metric":"jobs"}` + "\n"
	pt := `{"metric":"jobs","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":2,"tags":{"k":"v"}}}` + "\n"
	pt2 := `{"metric":"jobs","type":"Point","data":{"time":"2026-11-28T02:32:42Z","value":2,"tags":{"k":"w"}}}` + "\n"
	a := writeTemp(t, "a.json", []byte(rec+pt+pt))
	b := writeTemp(t, "b.json", []byte(rec+pt2))
	code, out, errOut := run(t, "", "--format", "json", a, b)
	var doc jsonOut
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s %s", err, out, errOut)
	}
	if code != 0 || len(doc.Thresholds) != 2 || *doc.Thresholds[0].Observed != 6 || *doc.Thresholds[1].Observed != 3 {
		t.Errorf("exit %d, thresholds %+v", code, doc.Thresholds)
	}
	if !strings.Contains(out, `"abort_on_fail": true`) {
		t.Errorf("abortOnFail lost:\n%s", out)
	}
}

func TestCSVFromStdinWithStats(t *testing.T) {
	code, out, errOut := run(t, string(readT(t, "testdata/fail.csv")), "--criteria", "testdata/fail-thresholds.yaml", "--summary-trend-stats", "avg,p(99.9),count", "-")
	if code != 99 || !strings.Contains(out, "p(99.9)=") || !strings.Contains(out, "count=207") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestInstancesSumVUs: with --instances, the vus gauges of the files add up (two instances
// of 3 VUs are 6 concurrent VUs); without it they merge as one gauge.
func TestInstancesSumVUs(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"one gauge", []string{"--allow-duplicate-inputs", "--profile", "websocket", "testdata/ws.json", "testdata/ws.json"}, "✗ 'max>=500' max=3"},
		{"instances", []string{"--allow-duplicate-inputs", "--instances", "--profile", "websocket", "testdata/ws.json", "testdata/ws.json"}, "✗ 'max>=500' max=6"},
		{"instances windows", []string{"--allow-duplicate-inputs", "--instances", "--windows", "testdata/ws.json", "testdata/ws.json"}, "6 VUs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, out, errOut := run(t, "", c.args...)
			if !strings.Contains(out, c.want) {
				t.Errorf("stdout lacks %q:\n%s\n%s", c.want, out, errOut)
			}
		})
	}
}

// ndjsonTrend writes n samples of a time trend "lat" drawn by gen, as k6 NDJSON.
func ndjsonTrend(t *testing.T, name string, n int, gen func(i int) float64) string {
	var b strings.Builder
	b.WriteString(`{"type":"Metric","data":{"name":"lat","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"lat"}` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `{"metric":"lat","type":"Point","data":{"time":"2026-11-28T02:%02d:%02d.%03dZ","value":%g,"tags":{}}}`+"\n", i/60000%60, i/1000%60, i%1000, gen(i))
	}
	return writeTemp(t, name, []byte(b.String()))
}

// TestCompareNoise: two runs from one distribution are not a regression; a shifted one is.
func TestCompareNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	draw := func(scale float64) func(int) float64 {
		return func(int) float64 { return scale * (50 + 30*rng.NormFloat64()*rng.Float64()) }
	}
	base := ndjsonTrend(t, "base.json", 2000, draw(1))
	same := ndjsonTrend(t, "same.json", 2000, draw(1))
	slower := ndjsonTrend(t, "slow.json", 2000, draw(1.3))
	if code, out, errOut := run(t, "", "compare", base, same); code != 0 {
		t.Errorf("same distribution: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "", "compare", base, slower); code != 99 {
		t.Errorf("30%% slower: exit %d\n%s%s", code, out, errOut)
	}
}

// TestInstancesIdle: instances an execution segment left without work write only zero vus
// and vus_max gauges; two of them in the same second are not duplicates, and the verdict
// is that of the working instance. The same idle file twice still is.
func TestInstancesIdle(t *testing.T) {
	idle := func(ns int) string {
		ts := fmt.Sprintf("2026-12-06T04:40:53.%09dZ", ns)
		return writeTemp(t, fmt.Sprintf("idle%d.json", ns), []byte(
			`{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}`+"\n"+
				`{"metric":"vus","type":"Point","data":{"time":"`+ts+`","value":0,"tags":{}}}`+"\n"+
				`{"type":"Metric","data":{"name":"vus_max","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus_max"}`+"\n"+
				`{"metric":"vus_max","type":"Point","data":{"time":"`+ts+`","value":0,"tags":{}}}`+"\n"))
	}
	b, c := idle(1), idle(2)
	wantCode, wantOut, _ := run(t, "", "--format", "json", "testdata/rest.json")
	code, out, errOut := run(t, "", "--format", "json", "--instances", "testdata/rest.json", b, c)
	verdict := func(s string) string {
		var r struct {
			Verdict    string
			Thresholds []struct{ Pass bool }
		}
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		return fmt.Sprint(r.Verdict, r.Thresholds)
	}
	if code != wantCode || verdict(out) != verdict(wantOut) {
		t.Errorf("exit %d %s, want %d %s\n%s", code, verdict(out), wantCode, verdict(wantOut), errOut)
	}
	if code, _, errOut := run(t, "", "--instances", "testdata/rest.json", b, b); code != 2 || !strings.Contains(errOut, "have the same content") {
		t.Errorf("the same idle file twice: exit %d\n%s", code, errOut)
	}
}
