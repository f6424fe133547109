package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/analyzer"
)

// segmentTally is what a set of --out json files say of one scenario.
type segmentTally struct {
	iterations, dropped int64
	// vus is the number of distinct VUs that ran an iteration, summed over the files
	// (each instance numbers its own VUs).
	vus int
	// its counts the requests of each iteration of the whole test
	// (scenario.iterationInTest); vuts the files that have each VU of the whole test
	// (vu.idInTest).
	its  map[string]int
	vuts map[string]int
}

// tallySegments reads --out json files (the vu system tag on) into one tally per scenario.
func tallySegments(t *testing.T, files ...string) map[string]*segmentTally {
	t.Helper()
	out := map[string]*segmentTally{}
	for _, f := range files {
		vus := map[string]map[string]bool{}
		fileVUTs := map[string]map[string]bool{} // vu.idInTest → scenarios
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec struct {
				Type   string `json:"type"`
				Metric string `json:"metric"`
				Data   struct {
					Value    float64           `json:"value"`
					Tags     map[string]string `json:"tags"`
					Metadata map[string]string `json:"metadata"` // vu, as k6 writes it
				} `json:"data"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if rec.Type != "Point" {
				continue
			}
			name := rec.Data.Tags["scenario"]
			if out[name] == nil {
				out[name] = &segmentTally{its: map[string]int{}, vuts: map[string]int{}}
			}
			switch rec.Metric {
			case "iterations":
				out[name].iterations += int64(rec.Data.Value)
				if vus[name] == nil {
					vus[name] = map[string]bool{}
				}
				vus[name][rec.Data.Metadata["vu"]] = true
			case "dropped_iterations":
				out[name].dropped += int64(rec.Data.Value)
			case "http_reqs":
				out[name].its[rec.Data.Tags["it"]]++
				if vt := rec.Data.Tags["vut"]; fileVUTs[vt] == nil {
					fileVUTs[vt] = map[string]bool{}
				}
				fileVUTs[rec.Data.Tags["vut"]][name] = true
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		for name, m := range vus {
			out[name].vus += len(m)
		}
		for vt, names := range fileVUTs {
			for name := range names {
				out[name].vuts[vt]++
			}
		}
	}
	return out
}

// TestSegmentsSplitThreeWays runs one scenario of every executor whole, then split in
// three instances with --execution-segment and --execution-segment-sequence, through the
// real run path against a loopback server. The union of the instances' JSON outputs runs
// exactly the whole test's iterations for the iteration-based executors, exactly the
// schedule's starts (iterations + dropped) for the arrival-rate ones, and the whole
// test's VUs, within its schedule, for the time-based ones; k6verdict --instances over the
// three files gives the verdict of the whole run.
func TestSegmentsSplitThreeWays(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	dir := t.TempDir()
	const tags = "proto,status,method,url,name,group,check,error,error_code,scenario,expected_response,vu"
	runSegment := func(name string, extra ...string) (string, string) {
		t.Helper()
		file := filepath.Join(dir, name+".json")
		args := append([]string{"run", "--system-tags", tags, "--out", "json=" + file, "-e", "BASE_URL=" + srv.URL}, extra...)
		args = append(args, filepath.Join("testdata", "segments.js"))
		d := defaultDeps()
		d.environ = func() []string { return nil }
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, d); code != 0 {
			t.Fatalf("%s: exit code %d\nstderr:\n%s", name, code, stderr.String())
		}
		return file, stdout.String()
	}
	whole, _ := runSegment("whole")
	const seq = "0,1/3,2/3,1"
	var parts []string
	var banners []string
	for i, seg := range []string{"0:1/3", "1/3:2/3", "2/3:1"} {
		f, banner := runSegment(string(rune('a'+i)), "--execution-segment", seg, "--execution-segment-sequence", seq)
		parts = append(parts, f)
		banners = append(banners, banner)
	}
	for _, want := range []string{"scenarios: (33.33%) 6 scenarios", "* constant: 4 looping VUs for 1s", "* shared: 13 iterations shared among 2 VUs",
		"* steady: 13.33 iterations/s for 1.5s (maxVUs: 2-4,"} {
		if !strings.Contains(banners[0], want) {
			t.Errorf("the first third's banner lacks %q:\n%s", want, banners[0])
		}
	}

	w, u := tallySegments(t, whole), tallySegments(t, parts...)
	var each []map[string]*segmentTally
	for _, p := range parts {
		each = append(each, tallySegments(t, p))
	}
	// Iteration-based: exact.
	for name, want := range map[string]int64{"shared": 31, "pervu": 20} {
		if w[name].iterations != want || u[name].iterations != want {
			t.Errorf("%s: whole %d iterations, the three instances %d; want %d", name, w[name].iterations, u[name].iterations, want)
		}
	}
	if got := []int{each[0]["pervu"].vus, each[1]["pervu"].vus, each[2]["pervu"].vus}; !slices.Equal(got, []int{2, 1, 1}) {
		t.Errorf("pervu: the instances ran %v VUs; want [2 1 1]", got)
	}
	// k6/execution numbers the iterations and VUs in the whole test: no two instances
	// share one, and shared-iterations' are those of the whole run (per-vu-iterations
	// numbers by the VUs' stripe, with gaps, as k6 does).
	for name, tl := range u {
		for it, n := range tl.its {
			if n != 1 {
				t.Errorf("%s: iterationInTest %s was run %d times by the instances", name, it, n)
			}
		}
		for vt, n := range tl.vuts {
			if n != 1 {
				t.Errorf("%s: vu.idInTest %s is in %d instances", name, vt, n)
			}
		}
	}
	for _, name := range []string{"shared"} {
		var a, b []string
		for it := range w[name].its {
			a = append(a, it)
		}
		for it := range u[name].its {
			b = append(b, it)
		}
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: the instances ran the iterations %v, the whole run %v", name, b, a)
		}
	}
	// Arrival rates: every start of the schedule is made (or dropped) by exactly one
	// instance: 40/s for 1.5s; 10→50/s over 1s and 50→0 over 0.5s (30 + 12.5 → 43).
	for name, want := range map[string]int64{"steady": 60, "wave": 43} {
		if got := w[name].iterations + w[name].dropped; got != want {
			t.Errorf("%s: the whole run started %d of %d", name, got, want)
		}
		if got := u[name].iterations + u[name].dropped; got != want {
			t.Errorf("%s: the three instances started %d of %d", name, got, want)
		}
		for i, e := range each {
			if e[name] == nil || e[name].iterations == 0 {
				t.Errorf("%s: instance %d ran no iteration", name, i)
			}
		}
	}
	// Time-based: the whole test's VUs (4+3+3 and 3+2+2), each running at least one
	// iteration and at most one every 200 ms (sleep) for the scenario's duration.
	for _, tc := range []struct {
		name     string
		vus      []int
		maxIters int64
	}{{"constant", []int{4, 3, 3}, 10 * (1000/200 + 1)}, {"ramping", []int{3, 2, 2}, 7 * (1500/200 + 1)}} {
		total := tc.vus[0] + tc.vus[1] + tc.vus[2]
		if w[tc.name].vus != total || u[tc.name].vus != total {
			t.Errorf("%s: whole %d VUs, the three instances %d; want %d", tc.name, w[tc.name].vus, u[tc.name].vus, total)
		}
		for i, e := range each {
			if e[tc.name].vus != tc.vus[i] {
				t.Errorf("%s: instance %d ran %d VUs; want %d", tc.name, i, e[tc.name].vus, tc.vus[i])
			}
		}
		for _, it := range []int64{w[tc.name].iterations, u[tc.name].iterations} {
			if it < int64(total) || it > tc.maxIters {
				t.Errorf("%s: %d iterations, outside the schedule's [%d, %d]", tc.name, it, total, tc.maxIters)
			}
		}
	}

	// k6verdict: the same criteria over the whole run and over the three instances.
	crit := filepath.Join(dir, "criteria.yaml")
	if err := os.WriteFile(crit, []byte(`checks: ["rate==1"]
http_req_failed: ["rate==0"]
"iterations{scenario:shared}": ["count==31"]
"iterations{scenario:pervu}": ["count==20"]
http_req_duration: ["p(99)<10000"]
http_reqs: ["count<10"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	verdict := func(args ...string) (int, []string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := analyzer.Run(context.Background(), append([]string{"--format", "json"}, args...), nil, &stdout, &stderr)
		var rep struct {
			Verdict    string `json:"verdict"`
			Thresholds []struct {
				Key, Expression, Source string
				Pass                    bool
			} `json:"thresholds"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("k6verdict %v: %v\n%s\n%s", args, err, stdout.String(), stderr.String())
		}
		res := []string{rep.Verdict}
		for _, th := range rep.Thresholds {
			res = append(res, th.Source+": "+th.Key+" "+th.Expression+" "+map[bool]string{true: "pass", false: "FAIL"}[th.Pass])
		}
		return code, res
	}
	// The script's thresholds (from the files' Metric records), then with the criteria.
	for _, tc := range []struct {
		args    []string
		code, n int
	}{{nil, 0, 4}, {[]string{"--criteria", crit}, 99, 10}} {
		wc, wv := verdict(append(tc.args, whole)...)
		pc, pv := verdict(append(append(tc.args, "--instances"), parts...)...)
		t.Logf("k6verdict %v, whole and --instances: %q", tc.args, wv)
		if wc != tc.code || pc != wc || !slices.Equal(wv, pv) {
			t.Errorf("k6verdict %v: whole run exit %d %q; --instances exit %d %q (want the same, %d)", tc.args, wc, wv, pc, pv, tc.code)
		}
		if len(wv) != tc.n {
			t.Errorf("k6verdict %v: %d results, want the verdict and %d thresholds: %q", tc.args, len(wv), tc.n-1, wv)
		}
	}
}

// TestSegmentOptions: the segment and the sequence come from the flags, the script's
// options or the config file, with k6's precedence; bad values fail with 104 naming the
// option.
func TestSegmentOptions(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "k6.json")
	if err := os.WriteFile(cfg, []byte(`{"executionSegment":"1/2:1","executionSegmentSequence":"0,1/2,1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		opts string
		code int
		want string
	}{
		{"flags", []string{"--execution-segment", "1/3:2/3", "--execution-segment-sequence", "0,1/3,2/3,1"}, `{"vus":10,"iterations":30}`, 0,
			"scenarios: (33.33%) 1 scenario, 3 max VUs"},
		{"script options", nil, `{"vus":10,"iterations":30,"executionSegment":"0:1/3","executionSegmentSequence":"0,1/3,2/3,1"}`, 0,
			"* default: 12 iterations shared among 4 VUs"},
		{"percentages", []string{"--execution-segment", "50%:75%"}, `{"vus":8,"duration":"1ms"}`, 0,
			"scenarios: (25.00%) 1 scenario, 2 max VUs"},
		{"config file", []string{"-c", cfg}, `{"vus":10,"duration":"1ms"}`, 0, "(50.00%) 1 scenario, 5 max VUs"},
		{"the flag wins over the script", []string{"--execution-segment", "2/3:1"}, `{"vus":10,"duration":"1ms","executionSegment":"0:1/3","executionSegmentSequence":"0,1/3,2/3,1"}`, 0,
			"* default: 3 looping VUs for 1ms"},
		{"a segment with no work", []string{"--execution-segment", "2/3:1", "--execution-segment-sequence", "0,1/3,2/3,1"}, `{"vus":1,"duration":"1ms"}`, 0,
			"* default: 0 looping VUs for 1ms"},
		{"bad segment", []string{"--execution-segment", "2/3:1/3"}, `{"iterations":1}`, 104,
			`invalid executionSegment \"2/3:1/3\": segment start(0.67) must be less than its end(0.33)`},
		{"bad sequence", nil, `{"iterations":1,"executionSegmentSequence":"0,x,1"}`, 104,
			`invalid executionSegmentSequence \"0,x,1\": 'x' is not a valid percentage, decimal, fraction or interval value`},
		{"segment not in the sequence", []string{"--execution-segment", "1/2:1", "--execution-segment-sequence", "0,1/3,2/3,1"}, `{"iterations":1}`, 104,
			"couldn't find segment 1/2:1 in sequence 0,1/3,2/3,1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append(append([]string{"run"}, tc.args...), "x.js"), tc.opts, nil, nil)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Fatalf("exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}
