package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// faultScript runs k6/http, k6/ws, pixel.stream and sleep in four scenarios, one VU each,
// against TARGET (a server that reads requests and never answers), with per-call timeouts
// far longer than any bound below: only the iteration's end can end those calls.
const faultScript = `
import http from 'k6/http';
import ws from 'k6/ws';
import pixel from 'k6/x/pixel';
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';

const marker = new Counter('teardown_marker');
const sc = (exec) => ({ executor: 'constant-vus', exec: exec, vus: 1, duration: __ENV.DURATION, gracefulStop: __ENV.GRACE });
export const options = { scenarios: { http: sc('callHTTP'), ws: sc('callWS'), stream: sc('callStream'), sleep: sc('callSleep') } };

export function callHTTP() { http.get('http://' + __ENV.TARGET + '/', { timeout: '120s' }); sleep(0.05); }
export function callWS() { ws.connect('ws://' + __ENV.TARGET + '/', function (s) { s.on('open', function () {}); }); sleep(0.05); }
export function callStream() { pixel.stream('ws://' + __ENV.TARGET + '/ws/pixel-multimodal', { connectTimeout: '120s', ackTimeout: '120s', sessionTimeout: '120s', chunks: 2 }); sleep(0.05); }
export function callSleep() { sleep(120); }
export function teardown() { marker.add(1); }
`

// silentServer reads each connection's request and never answers (for a WebSocket client:
// a server that never handshakes). requests receives one value per request read.
func silentServer(t *testing.T) (addr string, requests <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				select {
				case ch <- struct{}{}:
				default:
				}
				<-stop
			}()
		}
	}()
	t.Cleanup(func() {
		close(stop)
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String(), ch
}

// lockedBuf is a child's stdout or stderr, read while the child writes it.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPixelk6 starts `pixelk6 run` on a script written to a temp dir; it returns the
// command, its output file and its stdout and stderr.
func startPixelk6(t *testing.T, script string, args ...string) (cmd *exec.Cmd, out string, stdout, stderr *lockedBuf) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "script.js")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "out.json")
	cmd = exec.Command(bin("pixelk6"), append(append([]string{"run", "--no-color", "--out", "json=" + out}, args...), p)...)
	cmd.Dir = dir
	stdout, stderr = &lockedBuf{}, &lockedBuf{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, stdout, stderr
}

// waitExit waits for cmd, killing it and failing the test after bound (a bound only a hang
// breaks); it returns the exit code and how long the wait took.
func waitExit(t *testing.T, cmd *exec.Cmd, bound time.Duration, stderr *lockedBuf) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(bound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("pixelk6 still running after %v\nstderr:\n%s", bound, stderr.String())
	}
	took := time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), took
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, took
}

// checkOutFile checks that the NDJSON file ends with a whole line, that every line parses
// and that it holds the run's last sample (teardown's teardown_marker).
func checkOutFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("output does not end with a whole line (%d bytes)", len(b))
	}
	last := false
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var rec struct{ Type, Metric string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, line)
		}
		last = last || rec.Type == "Point" && rec.Metric == "teardown_marker"
	}
	if !last {
		t.Fatal("output lacks the run's last sample (teardown_marker)")
	}
}

// TestFaultBlockedCallsEndOnTime: VUs blocked in k6/http, k6/ws's handshake, pixel.stream
// and sleep against a server that never answers end with the scenario's gracefulStop, and at
// once on SIGINT (exit 105), with whole output files. Before issue 17's fix, k6/ws's
// handshake held the run for its 60 s timeout.
func TestFaultBlockedCallsEndOnTime(t *testing.T) {
	t.Run("gracefulStop", func(t *testing.T) {
		addr, _ := silentServer(t)
		cmd, out, stdout, stderr := startPixelk6(t, faultScript, "-e", "TARGET="+addr, "-e", "DURATION=2s", "-e", "GRACE=2s")
		// A fixed run ends about 4 s after its start; a call that ignores the iteration's
		// end holds it 60-120 s.
		code, took := waitExit(t, cmd, 40*time.Second, stderr)
		t.Logf("ended %v after the start (duration 2s + gracefulStop 2s)", took.Round(time.Millisecond))
		if code != 0 {
			t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr.String())
		}
		checkOutFile(t, out)
		if !strings.Contains(stdout.String(), "TOTAL RESULTS") {
			t.Errorf("no summary:\n%s", stdout.String())
		}
	})
	t.Run("SIGINT", func(t *testing.T) {
		addr, requests := silentServer(t)
		cmd, out, stdout, stderr := startPixelk6(t, faultScript, "-e", "TARGET="+addr, "-e", "DURATION=10m", "-e", "GRACE=10m")
		// Wait until the http, ws and stream VUs are blocked on the server.
		deadline := time.After(time.Minute)
		for n := 0; n < 3; n++ {
			select {
			case <-requests:
			case <-deadline:
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("only %d requests reached the server\nstderr:\n%s", n, stderr.String())
			}
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		code, took := waitExit(t, cmd, 20*time.Second, stderr)
		t.Logf("ended %v after SIGINT", took.Round(time.Millisecond))
		if code != 105 {
			t.Fatalf("exit %d, want 105\nstderr:\n%s", code, stderr.String())
		}
		checkOutFile(t, out)
		if !strings.Contains(stdout.String(), "TOTAL RESULTS") {
			t.Errorf("no summary after SIGINT:\n%s", stdout.String())
		}
	})
	t.Run("SIGINT during init", func(t *testing.T) {
		script := "console.log('init started');\nfor (;;) {}\nexport default function () {}\n"
		cmd, _, _, stderr := startPixelk6(t, script)
		// Poll the child's stderr for the marker (bounded).
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(stderr.String(), "init started") {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatal("the init context never started")
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		code, took := waitExit(t, cmd, 20*time.Second, stderr)
		t.Logf("ended %v after SIGINT", took.Round(time.Millisecond))
		if code != 105 {
			t.Fatalf("exit %d, want 105 (107 is a script error)", code)
		}
	})
}
