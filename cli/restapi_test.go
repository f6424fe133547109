package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/internal/testtool"
)

// TestPausedWithAddress: --paused (or K6_PAUSED, or options.paused) initialises the VUs
// and waits; the REST API on --address (or K6_ADDRESS) shows it paused, resumes it, and
// the run ends with its summary and code 0. With --linger the API stays up after the test.
func TestPausedWithAddress(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("t.js", "export const options = { vus: 2, iterations: 4 };\nexport default function () {}\n")
	inScript := write("paused.js", "export const options = { vus: 2, iterations: 4, paused: true };\nexport default function () {}\n")
	for _, tc := range []struct {
		name   string
		args   func(addr string) []string
		env    func(addr string) []string
		linger bool
	}{
		{"flags", func(a string) []string { return []string{"run", "--paused", "--address", a, plain} }, nil, false},
		{"short flags", func(a string) []string { return []string{"run", "-p", "-a", a, plain} }, nil, false},
		{"global address before run", func(a string) []string { return []string{"-a", a, "run", "-p", plain} }, nil, false},
		{"environment", func(string) []string { return []string{"run", plain} }, func(a string) []string { return []string{"K6_PAUSED=true", "K6_ADDRESS=" + a} }, false},
		{"script option", func(a string) []string { return []string{"run", "-a", a, inScript} }, nil, false},
		{"linger", func(a string) []string { return []string{"run", "-p", "-a", a, "--linger", plain} }, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
			d := defaultDeps()
			var env []string
			if tc.env != nil {
				env = tc.env(addr)
			}
			d.environ = func() []string { return env }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, append([]string{"-q"}, tc.args(addr)...), &stdout, &stderr, d) }()
			base := "http://" + addr
			waitAPI(t, base, done, &stderr, func(a map[string]any) bool { return a["status"] == 4.0 && a["paused"] == true && a["vus-max"] == 2.0 })
			patch(t, base, `{"data":{"type":"status","id":"default","attributes":{"paused":false}}}`)
			if tc.linger {
				waitAPI(t, base, done, &stderr, func(a map[string]any) bool { return a["status"] == 9.0 && a["running"] == false })
				select {
				case code := <-done:
					t.Fatalf("returned %d while lingering", code)
				default:
				}
				cancel()
			}
			if code := <-done; code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "TOTAL RESULTS") {
				t.Errorf("no summary:\n%s", stdout.String())
			}
			if _, err := http.Get(base + "/v1/status"); err == nil {
				t.Error("the API is still up after the command returned")
			}
		})
	}
}

// TestStopThroughAPI: PATCH stopped ends the run with k6's code 103.
func TestStopThroughAPI(t *testing.T) {
	script := filepath.Join(t.TempDir(), "t.js")
	if err := os.WriteFile(script, []byte("export const options = { vus: 1, duration: '1h' };\nexport default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"run", "-q", "-a", addr, script}, &stdout, &stderr, d)
	}()
	waitAPI(t, "http://"+addr, done, &stderr, func(a map[string]any) bool { return a["running"] == true })
	patch(t, "http://"+addr, `{"data":{"type":"status","id":"default","attributes":{"stopped":true}}}`)
	if code := <-done; code != 103 {
		t.Fatalf("exit %d, want 103\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "test run stopped from REST API") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
}

// TestAddressBusy: a busy --address fails the run with k6's code 106 naming the address,
// before anything runs.
func TestAddressBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runCLI(t, []string{"run", "-q", "--address", ln.Addr().String(), "x.js"}, `{"iterations":1}`, nil, nil)
	if r.code != 106 || !strings.Contains(r.stderr, ln.Addr().String()) || !strings.Contains(r.stderr, "address already in use") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.fr.setups != 0 {
		t.Fatal("setup() ran")
	}
}

// waitAPI polls GET /v1/status until ok holds for its attributes.
func waitAPI(t *testing.T, base string, done <-chan int, stderr *syncBuffer, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last map[string]any
	for {
		if resp, err := http.Get(base + "/v1/status"); err == nil {
			var doc struct {
				Data struct {
					Attributes map[string]any `json:"attributes"`
				} `json:"data"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			last = doc.Data.Attributes
			if ok(last) {
				return
			}
		}
		select {
		case code := <-done:
			t.Fatalf("returned %d early (last status %v)\n%s", code, last, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never reached (last %v)\n%s", last, stderr.String())
		}
	}
}

func patch(t *testing.T, base, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, base+"/v1/status", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH /v1/status: %d", resp.StatusCode)
	}
}

// TestProfilingEnabled: --profiling-enabled (or K6_PROFILING_ENABLED set to anything, as in
// k6) serves pprof on the REST API; without --address it warns that nothing serves it.
func TestProfilingEnabled(t *testing.T) {
	script := filepath.Join(t.TempDir(), "t.js")
	if err := os.WriteFile(script, []byte("export const options = { vus: 1, iterations: 1 };\nexport default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		flag []string
		env  []string
		want bool
	}{
		{"flag", []string{"--profiling-enabled"}, nil, true},
		{"environment, any value", nil, []string{"K6_PROFILING_ENABLED=false"}, true},
		{"off", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
			d := defaultDeps()
			d.environ = func() []string { return tc.env }
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			args := append([]string{"run", "-q", "-p", "-a", addr}, append(tc.flag, script)...)
			go func() { done <- run(context.Background(), args, &stdout, &stderr, d) }()
			base := "http://" + addr
			waitAPI(t, base, done, &stderr, func(a map[string]any) bool { return a["paused"] == true })
			resp, err := http.Get(base + "/debug/pprof/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.Contains(string(b), "goroutine"); got != tc.want || resp.StatusCode != http.StatusOK {
				t.Errorf("/debug/pprof/: %s %.120q, want profiles %v", resp.Status, b, tc.want)
			}
			patch(t, base, `{"data":{"type":"status","id":"default","attributes":{"paused":false}}}`)
			if code := <-done; code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr.String())
			}
		})
	}
	t.Run("no address", func(t *testing.T) {
		r := runCLI(t, []string{"run", "-q", "--profiling-enabled", "x.js"}, `{"iterations":1}`, nil, nil)
		if r.code != 0 || !strings.Contains(r.stderr, "profiling is enabled but the REST API is off") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}
