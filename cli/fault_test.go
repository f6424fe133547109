package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	// pixel.stream is one of the blocking calls under test, linked as cmd/pixelk6 links it.
	_ "github.com/pixelk6/pixelk6/extension/pixel"
)

// The black-hole/fault suite (issue 17): every blocking call a VU can make — k6/http, k6/ws
// (its handshake and its session loop), pixel.stream and pixel.streamAsync, sleep and a
// pending timer — against servers that misbehave in every way a network can: refused,
// stalled (accepts TCP, never reads), silent (reads the request, never answers: a WebSocket
// that never handshakes), half-open (answers the headers or the upgrade, then stalls) and
// endless (a body or a stream of messages without end). Each run must end after its
// gracefulStop, and at once on a signal (a cancelled context), with whole output files
// (NDJSON, gzipped NDJSON and CSV, each holding the run's last sample) and summary export.
//
// The script's per-call timeouts (120 s; k6/ws's handshake timeout is 60 s) are far longer
// than the bounds asserted here, so a call that ignores the iteration's end breaks them;
// the bounds are generous enough that only such a hang can. The actual times are logged.
//
// Not covered: the endless body's memory (k6/http has no per-response body limit yet; the
// endless server here is paced so that a run holds a few MB).

// faultKind is how a fault server misbehaves.
type faultKind string

const (
	faultRefused  faultKind = "refused"  // nothing listens
	faultStalled  faultKind = "stalled"  // accepts TCP, never reads nor answers
	faultSilent   faultKind = "silent"   // reads the request, never answers
	faultHalfOpen faultKind = "halfopen" // HTTP: headers and part of the body; WebSocket: the upgrade; then nothing
	faultEndless  faultKind = "endless"  // HTTP: headers, then a body that never ends; WebSocket: the upgrade, then messages without end
)

// faultServer is a loopback server misbehaving as its kind says. hit receives once the
// server has seen what makes the client block (the connection, its request, the headers
// sent). It stops when the test ends.
type faultServer struct {
	addr string
	hit  chan struct{}
}

func startFault(t *testing.T, kind faultKind) *faultServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &faultServer{addr: l.Addr().String(), hit: make(chan struct{}, 1)}
	if kind == faultRefused {
		l.Close()
		return s
	}
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
				s.serve(kind, c, stop)
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
	return s
}

func (s *faultServer) signal() {
	select {
	case s.hit <- struct{}{}:
	default:
	}
}

// serve misbehaves on one connection until stop is closed (or the client goes away).
func (s *faultServer) serve(kind faultKind, c net.Conn, stop <-chan struct{}) {
	if kind == faultStalled {
		s.signal()
		<-stop
		return
	}
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	switch kind {
	case faultSilent:
		s.signal()
	case faultHalfOpen:
		if key := req.Header.Get("Sec-WebSocket-Key"); key != "" {
			upgrade(c, key)
		} else {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10000000\r\n\r\n%s", strings.Repeat("x", 1024))
		}
		s.signal()
	case faultEndless:
		var chunk []byte
		if key := req.Header.Get("Sec-WebSocket-Key"); key != "" {
			if !upgrade(c, key) {
				return
			}
			// Text frames of 1000 bytes, without end.
			chunk = append([]byte{0x81, 126, 0x03, 0xE8}, bytes.Repeat([]byte("y"), 1000)...)
		} else {
			if _, err := fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
				return
			}
			chunk = fmt.Appendf(nil, "%x\r\n%s\r\n", 64<<10, bytes.Repeat([]byte("y"), 64<<10))
		}
		tick := time.NewTicker(10 * time.Millisecond) // paced: ~6.4 MB/s per connection
		defer tick.Stop()
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
			s.signal()
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}
	<-stop
}

// upgrade answers a WebSocket upgrade request with key (RFC 6455 §4.2.2).
func upgrade(c net.Conn, key string) bool {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	_, err := fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	return err == nil
}

// markWriter is a run's stderr: it keeps every line and calls onMark once, the first time
// a line contains mark. Logs come from many goroutines.
type markWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	mark   string
	onMark func()
	fired  bool
}

func (w *markWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.fired && w.mark != "" && bytes.Contains(w.buf.Bytes(), []byte(w.mark)) {
		w.fired = true
		go w.onMark()
	}
	return len(p), nil
}

func (w *markWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// lockedBuffer is a run's stdout.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// readOut reads an output file, decompressing a .gz one (which must be a whole gzip
// stream: a truncated one fails).
func readOut(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--out: %v", err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("--out %s: %v", filepath.Base(path), err)
	}
	b, err = io.ReadAll(zr)
	if err != nil {
		t.Fatalf("--out %s: %v", filepath.Base(path), err)
	}
	return b
}

// checkCSV checks that the --out csv file ends with a whole line, that every row has the
// header's columns and that it holds the run's last sample (teardown_marker).
func checkCSV(t *testing.T, path string) {
	t.Helper()
	b := readOut(t, path)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("--out csv file does not end with a whole line (%d bytes)", len(b))
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll() // every row has the header's columns
	if err != nil {
		t.Fatalf("--out csv: %v", err)
	}
	last := false
	for _, row := range rows[1:] {
		last = last || row[0] == "teardown_marker"
	}
	if !last {
		t.Fatal("--out csv file lacks the run's last sample (teardown_marker)")
	}
}

// checkNDJSON checks that the --out json file ends with a whole line, that every line is a
// JSON record and that it holds the run's last sample (teardown's teardown_marker).
func checkNDJSON(t *testing.T, path string) {
	t.Helper()
	b := readOut(t, path)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("--out json file does not end with a whole line (%d bytes)", len(b))
	}
	last := false
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var rec struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("--out json line %d: %v: %q", i+1, err, line)
		}
		if rec.Type == "Point" && rec.Metric == "teardown_marker" {
			last = true
		}
	}
	if !last {
		t.Fatal("--out json file lacks the run's last sample (teardown_marker)")
	}
}

func TestFaultSuite(t *testing.T) {
	type tcase struct {
		client string
		kind   faultKind // "" for sleep: no server
	}
	var cases []tcase
	for _, k := range []faultKind{faultRefused, faultStalled, faultSilent, faultHalfOpen, faultEndless} {
		cases = append(cases, tcase{"http", k})
	}
	for _, client := range []string{"ws", "stream", "streamAsync"} {
		for _, k := range []faultKind{faultRefused, faultStalled, faultSilent, faultHalfOpen, faultEndless} {
			cases = append(cases, tcase{client, k})
		}
	}
	cases = append(cases, tcase{"sleep", ""}, tcase{"timer", ""})
	// The runs mostly wait (on black holes, on gracefulStop): they run several at a time,
	// more than -parallel's CPU-bound default, so that the suite takes seconds, not minutes.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, tc := range cases {
		for _, signal := range []bool{false, true} {
			name := tc.client + "/" + string(tc.kind)
			if tc.kind == "" {
				name = tc.client
			}
			if signal {
				name += "/signal"
			} else {
				name += "/gracefulStop"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				t.Run(name, func(t *testing.T) { runFault(t, tc.client, tc.kind, signal) })
			}()
		}
	}
}

// runFault is one run of the suite: client against a kind server, ended by its
// gracefulStop or by a signal.
func runFault(t *testing.T, client string, kind faultKind, signal bool) {
	const (
		duration = 2 * time.Second
		grace    = 2 * time.Second
		// Bounds only a hang breaks: with the fixes a graceful run ends about
		// duration+grace after its start and a cancelled one at once; a call that ignores
		// the iteration's end waits for its own 60-120 s timeout.
		gracefulBound = 40 * time.Second
		cancelBound   = 20 * time.Second
	)
	target := "http://127.0.0.1:1/"
	var hit chan struct{}
	if kind != "" {
		srv := startFault(t, kind)
		scheme := "http"
		if client != "http" {
			scheme = "ws"
		}
		target = scheme + "://" + srv.addr + "/ws/pixel-multimodal"
		hit = srv.hit
	}
	dir := t.TempDir()
	out, export := filepath.Join(dir, "out.json"), filepath.Join(dir, "summary.json")
	outGz, outCSV := filepath.Join(dir, "out.json.gz"), filepath.Join(dir, "out.csv")
	runDur, runGrace := duration, grace
	if signal {
		// Only the signal can end this run in time.
		runDur, runGrace = 10*time.Minute, 10*time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	var cmu sync.Mutex
	doCancel := func() {
		cmu.Lock()
		cancelled = time.Now()
		cmu.Unlock()
		cancel()
	}
	stderr := &markWriter{}
	if signal {
		if hit == nil || kind == faultRefused {
			// Nothing to wait for on a server: cancel once the VUs make their call.
			stderr.mark, stderr.onMark = "calling "+client, doCancel
		} else {
			go func() {
				select {
				case <-hit:
					doCancel()
				case <-ctx.Done():
				}
			}()
		}
	}
	d := defaultDeps()
	d.environ = func() []string { return nil }
	args := []string{"run", "-q", "--out", "json=" + out, "--out", "json=" + outGz, "--out", "csv=" + outCSV,
		"--summary-export", export,
		"-e", "CLIENT=" + client, "-e", "TARGET=" + target,
		"-e", "DURATION=" + runDur.String(), "-e", "GRACE=" + runGrace.String(),
		filepath.Join("testdata", "fault.js")}
	start := time.Now()
	codeCh := make(chan int, 1)
	go func() { codeCh <- run(ctx, args, &lockedBuffer{}, stderr, d) }()
	bound := gracefulBound
	if signal {
		bound = cancelBound + time.Minute // the cancel itself waits for the call to start
	}
	var code int
	select {
	case code = <-codeCh:
	case <-time.After(bound):
		t.Fatalf("the run did not end within %v\nstderr:\n%s", bound, stderr.String())
	}
	ended := time.Now()
	want := 0
	if signal {
		want = 105
		cmu.Lock()
		at := cancelled
		cmu.Unlock()
		if at.IsZero() {
			t.Fatalf("the run ended (exit %d) before the cancel\nstderr:\n%s", code, stderr.String())
		}
		took := ended.Sub(at)
		t.Logf("ended %v after the cancel", took.Round(time.Millisecond))
		if took > cancelBound {
			t.Errorf("ended %v after the cancel; bound %v", took, cancelBound)
		}
	} else {
		t.Logf("ended %v after the scenario's end (gracefulStop %v)", (ended.Sub(start) - duration).Round(time.Millisecond), grace)
	}
	if code != want {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, want, stderr.String())
	}
	checkNDJSON(t, out)
	checkNDJSON(t, outGz)
	checkCSV(t, outCSV)
	if b, err := os.ReadFile(export); err != nil || !json.Valid(b) {
		t.Fatalf("--summary-export: %v %q", err, b)
	}
}

// TestSignalDuringInit: a signal during a long init context exits 105 (the run was
// interrupted), not 107 (a script error), whether it comes while pixelk6 reads the options
// (the first init context) or while the VUs initialise.
func TestSignalDuringInit(t *testing.T) {
	for _, tc := range []struct{ name, onlyVUs, mark string }{
		{"loading the script", "no", "init started 0"},
		{"initialising the VUs", "yes", "init started 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stderr := &markWriter{mark: tc.mark, onMark: cancel}
			d := defaultDeps()
			d.environ = func() []string { return nil }
			args := []string{"run", "-q", "-e", "ONLY_VUS=" + tc.onlyVUs, filepath.Join("testdata", "init_busy.js")}
			codeCh := make(chan int, 1)
			go func() { codeCh <- run(ctx, args, &lockedBuffer{}, stderr, d) }()
			select {
			case code := <-codeCh:
				if code != 105 {
					t.Fatalf("exit %d, want 105\nstderr:\n%s", code, stderr.String())
				}
			case <-time.After(time.Minute): // only a hang breaks this bound
				t.Fatalf("still running a minute after the cancel\nstderr:\n%s", stderr.String())
			}
			if s := stderr.String(); !strings.Contains(s, "aborted") || strings.Contains(s, "script error") {
				t.Errorf("stderr:\n%s", s)
			}
		})
	}
}

// TestUnwritableSummaryFiles: a --summary-export file or a handleSummary output file that
// cannot be written used to be logged with exit 0; it now exits 255 (a run that already has
// a non-zero code keeps it). The path runs through a regular file, which no user (root
// included) can create a directory in.
func TestUnwritableSummaryFiles(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(blocker, "sub", "out.json")
	good := filepath.Join(dir, "ok.json")
	tests := []struct {
		name    string
		opts    string
		summary map[string]string
		args    []string
		code    int
		stderr  string
	}{
		{"summary export", `{"iterations":1}`, nil, []string{"--summary-export", bad}, 255, "--summary-export"},
		{"handleSummary file", `{"iterations":1}`, map[string]string{"stdout": "s\n", bad: "{}", good: "{}"}, nil, 255, "handleSummary output"},
		{"writable files", `{"iterations":1}`, map[string]string{good: "{}"}, []string{"--summary-export", good}, 0, ""},
		{"crossed thresholds keep 99", `{"iterations":1,"thresholds":{"iterations":["count<1"]}}`, nil, []string{"--summary-export", bad}, 99, "--summary-export"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{opts: tt.opts, summary: tt.summary}
			if tt.summary != nil {
				fr.exports = map[string]bool{"default": true, "handleSummary": true}
			}
			code, _, stderr := runFake(t, context.Background(), fr, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if tt.stderr != "" && (!strings.Contains(stderr, tt.stderr) || !strings.Contains(stderr, "level=error")) {
				t.Errorf("stderr lacks a level=error line about %q:\n%s", tt.stderr, stderr)
			}
			if tt.code == 255 {
				if b, err := os.ReadFile(good); tt.summary != nil && (err != nil || string(b) != "{}") {
					t.Errorf("the writable handleSummary output was not written: %v %q", err, b)
				}
			}
		})
	}
}

// TestSignalDuringSetup: a signal while setup() waits on a server that never answers ends
// the run at once with 105.
func TestSignalDuringSetup(t *testing.T) {
	srv := startFault(t, faultSilent)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-srv.hit: // setup's request has arrived
			cancel()
		case <-ctx.Done():
		}
	}()
	d := defaultDeps()
	d.environ = func() []string { return nil }
	stderr := &markWriter{}
	args := []string{"run", "-q", "-e", "TARGET=http://" + srv.addr + "/", filepath.Join("testdata", "setup_blocked.js")}
	codeCh := make(chan int, 1)
	go func() { codeCh <- run(ctx, args, &lockedBuffer{}, stderr, d) }()
	select {
	case code := <-codeCh:
		if code != 105 {
			t.Fatalf("exit %d, want 105\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute): // only a hang breaks this bound
		t.Fatalf("still running a minute after the start\nstderr:\n%s", stderr.String())
	}
}
