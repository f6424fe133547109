package analyzer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/dashboard"
)

func analyzeForReport(t *testing.T, files ...string) *Result {
	t.Helper()
	res, err := Analyze(context.Background(), Options{Files: files, MaxBadLines: 10, Bucket: windowBucket, AllowDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// reportData extracts the Report a page embeds.
func reportData(t *testing.T, html []byte) dashboard.Report {
	t.Helper()
	const open = `<script id="report-data" type="application/json">`
	s := string(html)
	i := strings.Index(s, open)
	j := strings.Index(s[i:], "</script>")
	if i < 0 || j < 0 {
		t.Fatal("no report data in the page")
	}
	var r dashboard.Report
	if err := json.Unmarshal([]byte(s[i+len(open):i+j]), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportFromK6 builds the report of real k6 files: every threshold with its verdict,
// value and limit, the windows with the breaking point, and time points whose counts add
// up to the run's.
func TestReportFromK6(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			res := analyzeForReport(t, filepath.Join("testdata", name+".json"))
			rep, err := res.Report(context.Background(), ReportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != res.Verdict() || len(rep.Thresholds) != len(res.Thresholds) {
				t.Fatalf("verdict %s with %d thresholds, want %s with %d", rep.Verdict, len(rep.Thresholds), res.Verdict(), len(res.Thresholds))
			}
			for i, th := range rep.Thresholds {
				want := res.Thresholds[i]
				if th.OK != want.Pass || th.Limit == nil || *th.Limit != want.Limit || th.Expr != want.Expression {
					t.Errorf("threshold %d = %+v, want %+v", i, th, want)
				}
			}
			if len(rep.Points) == 0 || len(rep.Windows) == 0 {
				t.Fatalf("%d points, %d windows", len(rep.Points), len(rep.Windows))
			}
			// The points partition the run: their counts add up to the whole.
			for _, m := range []string{"http_reqs", "iterations", "ws_msgs_sent"} {
				sum := 0.0
				for _, p := range rep.Points {
					sum += p.V[m+":count"]
				}
				if sum != rep.Totals[m+":count"] {
					t.Errorf("%s: the points count %g, the run %g", m, sum, rep.Totals[m+":count"])
				}
			}
			breaking := -1
			for i, w := range rep.Windows {
				if len(w.Failed) > 0 {
					breaking = i
					break
				}
			}
			if rep.Breaking != breaking {
				t.Errorf("breaking point %d, want the first window with a failed threshold, %d", rep.Breaking, breaking)
			}
			if name == "fail" && rep.Breaking < 0 {
				t.Errorf("fail.json has failed thresholds but no breaking point")
			}
			var b bytes.Buffer
			if err := WriteHTML(&b, rep); err != nil {
				t.Fatal(err)
			}
			back := reportData(t, b.Bytes())
			if back.Verdict != rep.Verdict || len(back.Windows) != len(rep.Windows) {
				t.Errorf("the page holds %+v", back)
			}
		})
	}
}

// TestTimelineCSVEqualsNDJSON: the same run as CSV and as NDJSON gives the same points
// (but for the counter rates of the partial first and last seconds).
func TestTimelineCSVEqualsNDJSON(t *testing.T) {
	for _, name := range []string{"rest", "ws"} {
		a, _, err := analyzeForReport(t, filepath.Join("testdata", name+".json")).Timeline(context.Background(), dashboard.MaxPoints)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := analyzeForReport(t, filepath.Join("testdata", name+".csv")).Timeline(context.Background(), dashboard.MaxPoints)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: %d points from NDJSON, %d from CSV", name, len(a), len(b))
		}
		for i := range a {
			for k, v := range a[i].V {
				if _, counter := a[i].V[strings.TrimSuffix(k, ":rate")+":count"]; counter && strings.HasSuffix(k, ":rate") && (i == 0 || i == len(a)-1) {
					continue // a partial second: CSV's whole-second times make it another length
				}
				if w, ok := b[i].V[k]; !ok || math.Abs(v-w) > 1e-6*math.Max(1, math.Abs(v)) {
					t.Errorf("%s point %d %s: NDJSON %g, CSV %g (present %v)", name, i, k, v, w, ok)
				}
			}
		}
	}
}

// writeLongRun writes a synthetic NDJSON run of secs seconds with perSec requests a
// second (a duration, a request, a failure flag each) and the vus gauge every second.
func writeLongRun(t *testing.T, path string, secs, perSec int) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tags := `{"method":"GET","name":"health","status":"200","expected_response":"true","scenario":"default"}`
	for s := range secs {
		vus := 10 + s*90/secs
		ts := start.Add(time.Duration(s) * time.Second).Format(time.RFC3339Nano)
		fmt.Fprintf(w, `{"metric":"vus","type":"Point","data":{"time":%q,"value":%d,"tags":{}}}`+"\n", ts, vus)
		for r := range perSec {
			ts := start.Add(time.Duration(s)*time.Second + time.Duration(r)*time.Second/time.Duration(perSec)).Format(time.RFC3339Nano)
			fmt.Fprintf(w, `{"metric":"http_req_duration","type":"Point","data":{"time":%q,"value":%g,"tags":%s}}`+"\n", ts, 20+float64(vus)*0.5+float64(r%7), tags)
			fmt.Fprintf(w, `{"metric":"http_reqs","type":"Point","data":{"time":%q,"value":1,"tags":%s}}`+"\n", ts, tags)
			fmt.Fprintf(w, `{"metric":"http_req_failed","type":"Point","data":{"time":%q,"value":0,"tags":%s}}`+"\n", ts, tags)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestReportSizeBound: a report's size is bounded by the chart resolution, not by its
// input: a run ten times as long, or with ten times the samples a second, gives no more
// than dashboard.MaxPoints points and a page of the same size (a 1 GB input is a long run
// with many samples a second; this checks the bound without writing 1 GB).
func TestReportSizeBound(t *testing.T) {
	if testing.Short() {
		t.Log("-short: smaller inputs")
	}
	dir := t.TempDir()
	type run struct {
		secs, perSec int
	}
	runs := []run{{3000, 1}, {30000, 1}, {3000, 10}}
	pages := map[run]int{}
	for _, r := range runs {
		in := filepath.Join(dir, fmt.Sprintf("run-%d-%d.json", r.secs, r.perSec))
		size := writeLongRun(t, in, r.secs, r.perSec)
		res := analyzeForReport(t, in)
		rep, err := res.Report(context.Background(), ReportOptions{Baseline: res})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Points) > dashboard.MaxPoints || len(rep.Baseline.Points) > dashboard.MaxPoints {
			t.Errorf("%v: %d points (baseline %d), more than %d", r, len(rep.Points), len(rep.Baseline.Points), dashboard.MaxPoints)
		}
		if len(rep.Windows) > maxReportWindows {
			t.Errorf("%v: %d windows, more than %d", r, len(rep.Windows), maxReportWindows)
		}
		var b bytes.Buffer
		if err := WriteHTML(&b, rep); err != nil {
			t.Fatal(err)
		}
		pages[r] = b.Len()
		t.Logf("%d s × %d requests/s: input %d bytes → %d points of %gs, %d windows, page %d bytes", r.secs, r.perSec, size, len(rep.Points), rep.Period, len(rep.Windows), b.Len())
		if b.Len() > 4<<20 {
			t.Errorf("%v: page of %d bytes, more than 4 MiB", r, b.Len())
		}
	}
	base := pages[runs[0]]
	for _, r := range runs[1:] {
		if pages[r] > base*3/2 {
			t.Errorf("page of %v is %d bytes against %d for %v: it grows with the input", r, pages[r], base, runs[0])
		}
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	rest, fail := filepath.Join("testdata", "rest.json"), filepath.Join("testdata", "fail.json")
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		baseline bool
	}{
		{"pass", []string{"report", rest, "-o", out}, ExitOK, "", false},
		{"fail is written and exits 99", []string{"report", fail, "-o", out}, ExitThresholds, "have been crossed", false},
		{"criteria and baseline", []string{"report", "--criteria", filepath.Join("testdata", "rest-thresholds.yaml"), "--baseline", fail, rest, "-o", out}, ExitOK, "", true},
		{"csv input", []string{"report", filepath.Join("testdata", "rest.csv"), "--criteria", filepath.Join("testdata", "rest-thresholds.yaml"), "--output", out, "--window", "2s"}, ExitOK, "", false},
		{"no -o", []string{"report", rest}, ExitUsage, "-o FILE", false},
		{"no input", []string{"report", "-o", out}, ExitUsage, "input files", false},
		{"bad window", []string{"report", rest, "-o", out, "--window", "1500ms"}, ExitUsage, "--window", false},
		{"unreadable input", []string{"report", filepath.Join(dir, "missing.json"), "-o", out}, ExitUsage, "missing.json", false},
		{"unwritable output", []string{"report", rest, "-o", filepath.Join(dir, "no", "dir", "r.html")}, ExitUsage, "r.html", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(out)
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, want %d; stderr lacks %q?\n%s\n%s", code, tt.code, tt.stderr, stdout, stderr)
			}
			if code != ExitOK && code != ExitThresholds {
				return
			}
			rep := reportData(t, readT(t, out))
			if rep.Generator != "k6verdict report" || len(rep.Points) == 0 || len(rep.Thresholds) == 0 {
				t.Errorf("report = %+v", rep)
			}
			if (rep.Baseline != nil) != tt.baseline || (tt.baseline && len(rep.Baseline.Points) == 0) {
				t.Errorf("baseline = %+v, want one: %v", rep.Baseline, tt.baseline)
			}
		})
	}
}

// TestReportUnitsWithoutSamples: a pixel metric's threshold without samples keeps its unit
// (the contract's), so its limit reads "50.0ms", not "50".
func TestReportUnitsWithoutSamples(t *testing.T) {
	res, err := Analyze(context.Background(), Options{Files: []string{filepath.Join("testdata", "ws.json")}, Profiles: []string{"websocket"}, MaxBadLines: 10, Bucket: windowBucket})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := res.Report(context.Background(), ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	for _, th := range rep.Thresholds {
		units[th.Key] = th.Unit
	}
	if units["chunk_latency"] != "ms" || units["message_latency"] != "ms" || units["ws_connection_failed"] != "" {
		t.Errorf("units = %v", units)
	}
}
