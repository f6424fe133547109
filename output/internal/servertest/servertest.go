// Package servertest owns what the network outputs' real-server tests share: a process
// started for a test and stopped with it, a loopback target for the scripts, a pixelk6 run
// in-process, and the totals of a run's JSON output, which the servers' answers are
// compared with.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/cli"
)

// Proc is a server process owned by a test.
type Proc struct {
	Cmd  *exec.Cmd
	Log  *bytes.Buffer
	done chan struct{}
}

// Start starts program with args; the test's cleanup kills it.
func Start(t testing.TB, program string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Cmd: exec.Command(program, args...), Log: &bytes.Buffer{}, done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = p.Log, p.Log
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", program, err)
	}
	go func() { _ = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	return p
}

// Kill kills the process and waits for it.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// WaitHTTP polls url until it answers with want, failing t after 60 s or when the process
// exits.
func (p *Proc) WaitHTTP(t testing.TB, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited: %s", p.Cmd.Path, p.Log)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d at %s: %s", p.Cmd.Path, want, url, p.Log)
}

// Target is a loopback HTTP server for the test scripts: it answers 200 "ok".
func Target(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Script writes a test script into the test's temporary directory and returns its path.
func Script(t testing.TB, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Run runs `pixelk6 run ARGS...` in-process and returns its exit code, stdout and stderr.
func Run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"run"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// Total is a metric's number of samples, sum and largest value.
type Total struct {
	Count int
	Sum   float64
	Max   float64
}

// JSONTotals reads a --out json file and totals its points per metric.
func JSONTotals(t testing.TB, path string) map[string]Total {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]Total{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
			Data   struct {
				Value float64 `json:"value"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rec.Type != "Point" {
			continue
		}
		tot := out[rec.Metric]
		if tot.Count == 0 || rec.Data.Value > tot.Max {
			tot.Max = rec.Data.Value
		}
		tot.Count++
		tot.Sum += rec.Data.Value
		out[rec.Metric] = tot
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no points", path)
	}
	return out
}

// Close reports whether a and b agree to 1e-9 relative (sums of many floats added in
// another order).
func Close(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := max(abs(a), abs(b), 1e-12)
	return d/m < 1e-9
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
