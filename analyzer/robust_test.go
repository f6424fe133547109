package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNoDataIsNeverAPass: with no samples every report agrees with exit code 2.
func TestNoDataIsNeverAPass(t *testing.T) {
	inputs := map[string]string{
		"empty":          writeTemp(t, "empty.json", nil),
		"dev null":       os.DevNull,
		"foreign csv":    writeTemp(t, "foreign.csv", []byte("a,b,c\n1,2,3\n")),
		"metric records": writeTemp(t, "m.json", []byte(`{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":["value<1"],"submetrics":null},"metric":"vus"}`+"\n")),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			junit, md := filepath.Join(dir, "j.xml"), filepath.Join(dir, "r.md")
			code, out, errOut := run(t, "", "--junit", junit, "--markdown", md, in)
			if code != ExitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(out, "verdict: NO DATA") || strings.Contains(out, "PASS") {
				t.Errorf("text report:\n%s", out)
			}
			if !strings.Contains(errOut, "no samples") {
				t.Errorf("stderr: %s", errOut)
			}
			if j := string(readT(t, junit)); !strings.Contains(j, `failures="1"`) || !strings.Contains(j, "NO DATA") {
				t.Errorf("junit:\n%s", j)
			}
			if m := string(readT(t, md)); !strings.Contains(m, "NO DATA") || strings.Contains(m, "passed") {
				t.Errorf("markdown:\n%s", m)
			}
			code, out, _ = run(t, "", "--format", "json", in)
			var doc struct {
				Pass     bool   `json:"pass"`
				ExitCode int    `json:"exit_code"`
				Verdict  string `json:"verdict"`
				Reason   string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if code != 2 || doc.Pass || doc.ExitCode != 2 || doc.Verdict != "NO DATA" || doc.Reason == "" {
				t.Errorf("exit %d, json %+v", code, doc)
			}
		})
	}
}

// restWith returns the reference run with extra NDJSON lines appended.
func restWith(t *testing.T, extra ...string) string {
	b := readT(t, "testdata/rest.json")
	for _, e := range extra {
		b = append(b, e+"\n"...)
	}
	return writeTemp(t, "rest-extra.json", b)
}

// heapGrowth runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestWindowsCostFollowsSamples: one sample dated 1970 (or 2100) made --windows build a row
// per second of the span (gigabytes, an out-of-memory crash). Windows now cost memory in
// proportion to the samples, leave far samples out and say so.
func TestWindowsCostFollowsSamples(t *testing.T) {
	const far1970 = `{"metric":"vus","type":"Point","data":{"time":"1970-01-01T00:00:01Z","value":3,"tags":{}}}`
	const far2100 = `{"metric":"http_req_duration","type":"Point","data":{"time":"2100-01-01T00:00:01Z","value":3,"tags":{}}}`
	in := restWith(t, far1970, far2100)
	for _, args := range [][]string{{"--windows"}, {"--window", "1s"}, {"--window", "30s"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var code int
			var out, errOut string
			alloc := allocated(func() { code, out, errOut = run(t, "", append(args, "--format", "json", in)...) })
			if alloc > 512<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			var doc struct {
				Windows  []Window `json:"windows"`
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if n := len(doc.Windows); n == 0 || n > 20 {
				t.Errorf("%d windows", n)
			}
			if !strings.Contains(strings.Join(doc.Warnings, "\n"), "2 sample(s) lie far outside the run") || !strings.Contains(errOut, "far outside the run") {
				t.Errorf("warnings %q\nstderr %s", doc.Warnings, errOut)
			}
			if code, _, errOut := run(t, "", append(args, "--strict", in)...); code != ExitUsage || !strings.Contains(errOut, "--strict") {
				t.Errorf("--strict: exit %d\n%s", code, errOut)
			}
		})
	}
	// Without windows too: a data warning, which --strict refuses.
	code, _, errOut := run(t, "", in)
	if code != 0 || !strings.Contains(errOut, "warning: 2 sample(s) lie far outside the run") {
		t.Errorf("no windows: exit %d\n%s", code, errOut)
	}
	if code, out, _ := run(t, "", "--strict", in); code != ExitUsage || !strings.Contains(out, "verdict: REFUSED") {
		t.Errorf("no windows, --strict: exit %d\n%s", code, out)
	}
	// Without far samples, no warning and the same windows as before.
	code, _, errOut = run(t, "", "--strict", "--windows", "testdata/rest.json")
	if code != 0 || strings.Contains(errOut, "far outside") || strings.Contains(errOut, "skipped") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// TestWindowsSkipEmptySpans: a run in two parts an hour apart gives the windows of the two
// parts (not 3,600 empty ones), and says it skipped the gap.
func TestWindowsSkipEmptySpans(t *testing.T) {
	b := readT(t, "testdata/fail.json")
	later := bytes.ReplaceAll(b, []byte(`"time":"2026-11-28T02:`), []byte(`"time":"2026-11-28T03:`))
	in := writeTemp(t, "gap.json", append(append([]byte{}, b...), later...))
	for _, args := range [][]string{{"--windows"}, {"--window", "1s"}} {
		code, out, errOut := run(t, "", append(args, "--format", "json", in)...)
		if code != 99 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		var doc struct {
			Windows []Window `json:"windows"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Windows) == 0 || len(doc.Windows) > 100 || !strings.Contains(errOut, "skipped") {
			t.Errorf("%v: %d windows\n%s", args, len(doc.Windows), errOut)
		}
	}
}

// TestWindowRowsCapped: more rows than maxWindowRows is a clear error, not a huge table.
func TestWindowRowsCapped(t *testing.T) {
	var b strings.Builder
	for i := range maxWindowRows + 5 {
		ts := time.Unix(1795833160+int64(i)*2, 0).UTC().Format(time.RFC3339)
		b.WriteString(`{"metric":"vus","type":"Point","data":{"time":"` + ts + `","value":1,"tags":{}}}` + "\n")
	}
	in := writeTemp(t, "many.json", []byte(b.String()))
	code, _, errOut := run(t, "", "--window", "1s", in)
	if code != ExitUsage || !strings.Contains(errOut, "use a wider window") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// TestInterrupted: a cancelled context ends k6verdict with ExitInterrupted, never a verdict.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{{"testdata/rest.json"}, {"--windows", "testdata/rest.json"}, {"testdata/rest.csv"}, {"compare", "testdata/rest.json", "testdata/fail.json"}} {
		var o, e bytes.Buffer
		if code := Run(ctx, args, nil, &o, &e); code != ExitInterrupted {
			t.Errorf("%v: exit %d\n%s", args, code, e.String())
		}
	}
	// Cancelled while computing windows.
	res, err := Analyze(context.Background(), Options{Files: []string{"testdata/rest.json"}, Bucket: windowBucket})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Windows(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Windows: %v", err)
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

// TestInternalErrorIsNoVerdict: a panic is reported and exits ExitInternal.
func TestInternalErrorIsNoVerdict(t *testing.T) {
	var e bytes.Buffer
	code := Run(context.Background(), []string{"testdata/rest.json"}, nil, panicWriter{}, &e)
	if code != ExitInternal || !strings.Contains(e.String(), "internal error: boom") {
		t.Errorf("exit %d\n%s", code, e.String())
	}
}

// TestDuplicateInputs: the same samples given twice are refused unless told otherwise.
func TestDuplicateInputs(t *testing.T) {
	cp := writeTemp(t, "copy.json", readT(t, "testdata/fail.json"))
	for _, c := range [][]string{
		{"testdata/fail.json", "testdata/fail.json"},
		{"testdata/fail.json", cp},
		{writeTemp(t, "f.json.gz", gz(t, readT(t, "testdata/fail.json"))), cp},
		{"testdata/fail.json", "testdata/fail.csv"},
		{"testdata/rest.csv", "testdata/rest.json"},
	} {
		code, _, errOut := run(t, "", c...)
		if code != ExitUsage || !strings.Contains(errOut, c[0]) || !strings.Contains(errOut, c[1]) || !strings.Contains(errOut, "--allow-duplicate-inputs") {
			t.Errorf("%v: exit %d\n%s", c, code, errOut)
		}
		if code, _, errOut := run(t, "", append([]string{"--allow-duplicate-inputs"}, c...)...); code == ExitUsage {
			t.Errorf("%v with --allow-duplicate-inputs: exit %d\n%s", c, code, errOut)
		}
	}
}

// TestTruncatedGzipStrict: a truncated gzip warns on stderr; --strict refuses it.
func TestTruncatedGzipStrict(t *testing.T) {
	z := gz(t, readT(t, "testdata/rest.json"))
	in := writeTemp(t, "cut.json.gz", z[:len(z)/25])
	code, _, errOut := run(t, "", in)
	if code != 0 || !strings.Contains(errOut, "warning: "+in+": the gzip stream is truncated") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	code, out, errOut := run(t, "", "--strict", "--format", "json", in)
	if code != ExitUsage || !strings.Contains(errOut, "--strict") || !strings.Contains(out, `"verdict": "REFUSED"`) || !strings.Contains(out, `"exit_code": 2`) {
		t.Errorf("--strict: exit %d\n%s\n%s", code, out, errOut)
	}
	// Bad lines too.
	bad := append(readT(t, "testdata/rest.json"), "not json\n"...)
	if code, _, errOut := run(t, "", "--strict", writeTemp(t, "bad.json", bad)); code != ExitUsage || !strings.Contains(errOut, "1 bad line(s)") {
		t.Errorf("--strict bad line: exit %d\n%s", code, errOut)
	}
}

// TestInterruptBlockedRead: Ctrl-C while a read is blocked (a stalled pipe) still ends Run
// with ExitInterrupted, within interruptGrace.
func TestInterruptBlockedRead(t *testing.T) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	var o, e bytes.Buffer
	go func() {
		pw.Write(readT(t, "testdata/rest.json")[:1000]) // then nothing
	}()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"--windows", "-"}, pr, &o, &e) }()
	cancel()
	select {
	case code := <-done:
		if code != ExitInterrupted {
			t.Errorf("exit %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
