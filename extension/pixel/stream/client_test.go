package stream

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countObserver counts what a session reports.
type countObserver struct {
	mu                                   sync.Mutex
	connected, sent, chunks, recv, acked int
	status                               int
	seqs                                 map[int]bool
}

func (o *countObserver) Connected(_ time.Time, _ time.Duration, status int, _ string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.connected++
	o.status = status
}

func (o *countObserver) Sent(_ time.Time, chunk bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent++
	if chunk {
		o.chunks++
	}
}

func (o *countObserver) Received(time.Time) { o.mu.Lock(); o.recv++; o.mu.Unlock() }

func (o *countObserver) Acked(_ time.Time, seq int, lat time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seqs == nil {
		o.seqs = map[int]bool{}
	}
	o.seqs[seq] = true
	o.acked++
}

// sessionGoroutines counts live goroutines running a method of this package's types (a
// session has none of its own: it runs on the Driver's loop, and Run has returned). A
// goroutine that has finished its work may still be exiting, so this waits, bounded, for
// the count to reach zero.
func sessionGoroutines() int {
	buf := make([]byte, 1<<20)
	count := func() int {
		n := runtime.Stack(buf, true)
		return strings.Count(string(buf[:n]), "stream.(*")
	}
	for range 2000 { // up to 10 s: a busy machine may be slow to let goroutines exit
		if count() == 0 {
			return 0
		}
		time.Sleep(5 * time.Millisecond)
	}
	return count()
}

// testDriver returns a Driver closed when the test ends: the package keeps none of its own.
func testDriver(tb testing.TB) *Driver {
	tb.Helper()
	d, err := NewDriver(0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("closing the driver: %v", err)
		}
	})
	return d
}

func textConfig(url string, n int) Config {
	chunks, err := BuildChunks(Spec{Chunks: n, ChunkSize: 64})
	if err != nil {
		panic(err)
	}
	return Config{
		URL: url, Chunks: chunks, Interval: time.Millisecond, Acks: true,
		Start:      []byte(`{"type":"start","session_id":"t","modalities":["text"]}`),
		AckTimeout: 2 * time.Second, SessionTimeout: 5 * time.Second,
	}
}

func TestRunSuccess(t *testing.T) {
	cases := []struct {
		name     string
		b        behaviour
		encoding Encoding
		acks     bool
		noStart  bool
	}{
		{"json with client_seq", behaviour{}, JSON, true, false},
		{"binary frames", behaviour{}, Binary, true, false},
		{"acks without client_seq matched in order", behaviour{ackNoSeq: true}, JSON, true, false},
		{"acks off against a server that does not ack", behaviour{noAcks: true}, JSON, false, false},
		{"no start message", behaviour{}, JSON, true, true},
		{"crisis inference", behaviour{crisis: true}, JSON, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newTestServer(t, c.b)
			chunks, err := BuildChunks(Spec{Text: strings.Repeat("hello world ", 10), TextChunkSize: 16,
				Audio: &AudioSpec{Frames: 5}, Image: &ImageSpec{Frames: 2, Bytes: 100}, Encoding: c.encoding})
			if err != nil {
				t.Fatal(err)
			}
			cfg := textConfig(srv.URL, 0)
			cfg.Chunks, cfg.Acks = chunks, c.acks
			if c.noStart {
				cfg.Start = nil
			}
			var sent, recv atomic.Int64
			cfg.Sent, cfg.Received = &sent, &recv
			obs := &countObserver{}
			res := testDriver(t).Run(context.Background(), cfg, obs)
			if res.Err != nil {
				t.Fatalf("Run: %v", res.Err)
			}
			n := len(chunks)
			wantAcks := n
			if !c.acks {
				wantAcks = 0
			}
			starts := 1
			if c.noStart {
				starts = 0
			}
			readies := starts
			if res.Status != 101 || res.ChunksSent != n || res.ChunksAcked != wantAcks ||
				res.MsgsSent != n+1+starts || res.MsgsRecv != wantAcks+1+readies || !res.GotInference || !res.EndSent {
				t.Fatalf("result %+v; want status 101, %d chunks sent, %d acked, %d msgs sent, %d received, an inference",
					res, n, wantAcks, n+1+starts, wantAcks+1+readies)
			}
			if len(res.ChunkLatencies) != wantAcks || obs.acked != wantAcks || obs.chunks != n || obs.sent != res.MsgsSent || obs.recv != res.MsgsRecv || obs.connected != 1 {
				t.Fatalf("observer %+v disagrees with result %+v", obs, res)
			}
			if c.acks && len(obs.seqs) != n {
				t.Fatalf("acked seqs %v: want each of 1..%d once", obs.seqs, n)
			}
			for _, l := range res.ChunkLatencies {
				if l <= 0 {
					t.Fatalf("non-positive chunk latency %v", l)
				}
			}
			if sent.Load() == 0 || recv.Load() == 0 {
				t.Fatalf("bytes sent %d, received %d: want both counted", sent.Load(), recv.Load())
			}
			if !strings.Contains(string(res.Inference), `"type":"inference"`) {
				t.Fatalf("inference %q", res.Inference)
			}
			if g := sessionGoroutines(); g != 0 {
				t.Fatalf("%d session goroutines alive after Run returned", g)
			}
		})
	}
}

func TestRunSubprotocolAndHeaders(t *testing.T) {
	srv := newTestServer(t, behaviour{subprotocol: "pixel.v1"})
	cfg := textConfig(srv.URL, 3)
	cfg.Subprotocols = []string{"pixel.v1"}
	cfg.Header = http.Header{"X-Test": {"1"}}
	res := testDriver(t).Run(context.Background(), cfg, nil)
	if res.Err != nil || res.Subprotocol != "pixel.v1" {
		t.Fatalf("Run: err %v, subprotocol %q; want pixel.v1", res.Err, res.Subprotocol)
	}
}

// TestRunFailures runs every failure mode against a misbehaving server and checks that it
// is reported with its kind, and that no goroutine outlives Run.
func TestRunFailures(t *testing.T) {
	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "ws://" + l.Addr().String() + "/ws/pixel-multimodal"
	l.Close()
	// A listener that accepts and never answers the upgrade.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c)
			heldMu.Unlock()
		}
	}()
	defer func() {
		heldMu.Lock()
		for _, c := range held {
			c.Close()
		}
		heldMu.Unlock()
	}()
	silentURL := "ws://" + silent.Addr().String() + "/"

	cases := []struct {
		name       string
		b          behaviour
		url        string
		tweak      func(*Config)
		want       ErrorKind
		wantStatus int
	}{
		{"connection refused", behaviour{}, refusedURL, nil, ErrRefused, 0},
		{"handshake rejected", behaviour{reject: http.StatusForbidden}, "", nil, ErrHandshake, 403},
		{"upgrade never answered", behaviour{}, silentURL, func(c *Config) { c.ConnectTimeout = 200 * time.Millisecond }, ErrConnectTimeout, 0},
		{"bad url", behaviour{}, "ws://127.0.0.1:notaport/", nil, ErrDial, 0},
		{"no ready", behaviour{noReady: true}, "", func(c *Config) { c.AckTimeout = 100 * time.Millisecond }, ErrReadyTimeout, 101},
		{"no acks", behaviour{noAcks: true}, "", func(c *Config) { c.AckTimeout = 100 * time.Millisecond }, ErrAckTimeout, 101},
		{"slow acks", behaviour{ackDelay: 300 * time.Millisecond}, "", func(c *Config) { c.AckTimeout = 100 * time.Millisecond }, ErrAckTimeout, 101},
		{"garbage message", behaviour{garbageAt: 3}, "", nil, ErrMalformed, 101},
		{"binary message from server", behaviour{binaryAt: 2}, "", nil, ErrMalformed, 101},
		{"ack for a chunk never sent", behaviour{ackBadSeq: true}, "", nil, ErrMalformed, 101},
		{"server error message", behaviour{errorAt: 2}, "", nil, ErrServer, 101},
		{"closed mid-stream", behaviour{closeAt: 4}, "", nil, ErrClosed, 101},
		{"dropped mid-stream", behaviour{dropAt: 4}, "", nil, ErrClosed, 101},
		{"never answers end", behaviour{silentEnd: true}, "", func(c *Config) { c.SessionTimeout = 300 * time.Millisecond }, ErrSessionTimeout, 101},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := c.url
			if url == "" {
				url = newTestServer(t, c.b).URL
			}
			cfg := textConfig(url, 10)
			if c.tweak != nil {
				c.tweak(&cfg)
			}
			res := testDriver(t).Run(context.Background(), cfg, &countObserver{})
			if res.Kind != c.want || res.Err == nil {
				t.Fatalf("kind %q (err %v); want %q", res.Kind, res.Err, c.want)
			}
			if !strings.HasPrefix(res.Err.Error(), string(c.want)+": ") {
				t.Fatalf("error %q does not start with its kind", res.Err)
			}
			if res.Status != c.wantStatus {
				t.Fatalf("status %d; want %d", res.Status, c.wantStatus)
			}
			if c.want.ConnectFailed() != (c.wantStatus != 101) {
				t.Fatalf("ConnectFailed(%q) = %v", c.want, c.want.ConnectFailed())
			}
			if g := sessionGoroutines(); g != 0 {
				t.Fatalf("%d session goroutines alive after Run returned", g)
			}
		})
	}
}

func TestRunCanceled(t *testing.T) {
	srv := newTestServer(t, behaviour{})
	cfg := textConfig(srv.URL, 1000)
	cfg.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	obs := &countObserver{}
	done := make(chan *Result)
	d := testDriver(t)
	go func() { done <- d.Run(ctx, cfg, obs) }()
	// Cancel once the session is streaming.
	for {
		obs.mu.Lock()
		n := obs.chunks
		obs.mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	res := <-done
	if res.Kind != ErrCanceled {
		t.Fatalf("kind %q (%v); want canceled", res.Kind, res.Err)
	}
	if res.ChunksSent >= 1000 {
		t.Fatalf("sent all %d chunks despite the cancel", res.ChunksSent)
	}
	if g := sessionGoroutines(); g != 0 {
		t.Fatalf("%d session goroutines alive after Run returned", g)
	}
}

func TestRunManyConcurrentNoLeak(t *testing.T) {
	srv := newTestServer(t, behaviour{})
	before := runtime.NumGoroutine()
	d, err := NewDriver(0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			cfg := textConfig(srv.URL, 20)
			cfg.Interval = 2 * time.Millisecond
			if res := d.Run(context.Background(), cfg, nil); res.Err != nil || res.ChunksAcked != 20 {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of 50 sessions failed", failed.Load())
	}
	if g := sessionGoroutines(); g != 0 {
		t.Fatalf("%d session goroutines alive", g)
	}
	// Server-side handlers end asynchronously; wait (bounded) for them before comparing.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after 50 sessions, %d before", n, before)
	}
}

func TestDriverPickFillsLoopsInTurn(t *testing.T) {
	d := &Driver{active: make([]atomic.Int32, 3)}
	for _, tc := range []struct {
		name   string
		active [3]int32
		want   int
	}{
		{"empty: the first", [3]int32{0, 0, 0}, 0},
		{"the first below the fill", [3]int32{loopFill - 1, 0, 0}, 0},
		{"the first full: the second", [3]int32{loopFill, 0, 0}, 1},
		{"the first two full: the third", [3]int32{loopFill, loopFill + 5, 3}, 2},
		{"all full: the least busy", [3]int32{loopFill + 9, loopFill + 2, loopFill + 7}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, n := range tc.active {
				d.active[i].Store(n)
			}
			if got := d.pick(); got != tc.want {
				t.Fatalf("pick = %d; want %d", got, tc.want)
			}
		})
	}
}

func TestDriverStartsLoopsWhenNeeded(t *testing.T) {
	d, err := NewDriver(3)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.loops); n != 1 {
		t.Fatalf("%d loops started by NewDriver; want 1", n)
	}
	if _, err := d.loop(2); err != nil {
		t.Fatal(err)
	}
	if n := len(d.loops); n != 3 {
		t.Fatalf("%d loops after asking for the third; want 3", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.loop(0); err == nil {
		t.Fatal("a closed Driver gave a loop")
	}
	srv := newTestServer(t, behaviour{})
	if res := d.Run(context.Background(), textConfig(srv.URL, 2), nil); res.Kind != ErrCanceled {
		t.Fatalf("Run on a closed Driver: kind %q (%v); want canceled", res.Kind, res.Err)
	}
}
