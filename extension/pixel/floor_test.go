package pixel

import (
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/internal/evloop"
	"github.com/pixelk6/pixelk6/metrics"
)

// The floor's traffic: a floorMsg-byte message every floorInterval on each connection,
// and a floorAck-byte answer to each: TestLoadBudget's chunks and acks, with no WebSocket.
const (
	floorMsg      = 640
	floorAck      = 48
	floorInterval = 20 * time.Millisecond
)

// floorGoroutines reports whether the floor runs the goroutine-per-connection design
// (PIXEL_LOAD_FLOOR=goroutines) instead of the event loops that pixel.stream and pixelsim use.
func floorGoroutines() bool { return os.Getenv("PIXEL_LOAD_FLOOR") == "goroutines" }

// TestEchoChild is not a test: TestLoadFloor re-executes the test binary with
// PIXEL_ECHO_CHILD=1 to run a bare TCP acknowledger in its own process: for every
// 640-byte message read it writes 48 bytes back. It serves until its stdin closes.
func TestEchoChild(t *testing.T) {
	if os.Getenv("PIXEL_ECHO_CHILD") == "" {
		t.Skip("helper process for TestLoadFloor")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ECHO " + ln.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); _ = ln.Close() }()
	if floorGoroutines() {
		var wg sync.WaitGroup
		defer wg.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf, ack := make([]byte, floorMsg), make([]byte, floorAck)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write(ack); err != nil {
						return
					}
				}
			})
		}
	}
	l, err := evloop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		l.Add(c, nil, &floorEcho{})
	}
}

// floorEcho is the event-loop acknowledger of one connection.
type floorEcho struct {
	c    *evloop.Conn
	have int // bytes of the current message read
	acks []byte
}

func (e *floorEcho) Opened(c *evloop.Conn) { e.c = c }
func (e *floorEcho) Closed(error)          {}
func (e *floorEcho) Data(b []byte) {
	e.have += len(b)
	e.acks = e.acks[:0]
	for ; e.have >= floorMsg; e.have -= floorMsg {
		e.acks = append(e.acks, make([]byte, floorAck)...)
	}
	_ = e.c.Write(e.acks)
}

// floorClient is one event-loop connection of TestLoadFloor: a timer sends a message
// every floorInterval; answers are matched to messages in order.
type floorClient struct {
	l      *evloop.Loop
	c      *evloop.Conn
	t      *evloop.Timer
	next   time.Time   // the next message's due time
	stop   time.Time   // no message is due at or after stop
	sentAt []time.Time // of the messages not answered yet, oldest first
	have   int         // bytes of the current answer read
	msg    []byte
	res    *floorResults
	done   func()
}

// floorResults gathers the client's figures; the loops' goroutines add to it.
type floorResults struct {
	mu    sync.Mutex
	sent  int
	lat   []float64 // ms
	acked atomic.Int64
}

func (f *floorClient) Opened(c *evloop.Conn) {
	f.c = c
	f.t = f.l.AfterFunc(time.Until(f.next), f.send)
}

func (f *floorClient) send() {
	now := time.Now()
	for !f.next.After(now) && f.next.Before(f.stop) {
		f.sentAt = append(f.sentAt, now)
		if err := f.c.Write(f.msg); err != nil {
			return
		}
		f.res.mu.Lock()
		f.res.sent++
		f.res.mu.Unlock()
		f.next = f.next.Add(floorInterval)
	}
	if !f.next.Before(f.stop) {
		f.c.Close()
		return
	}
	f.t.Reset(time.Until(f.next))
}

func (f *floorClient) Data(b []byte) {
	now := time.Now()
	f.have += len(b)
	for ; f.have >= floorAck && len(f.sentAt) > 0; f.have -= floorAck {
		f.res.mu.Lock()
		f.res.lat = append(f.res.lat, float64(now.Sub(f.sentAt[0]))/1e6)
		f.res.mu.Unlock()
		f.res.acked.Add(1)
		f.sentAt = f.sentAt[1:]
	}
}

func (f *floorClient) Closed(error) {
	if f.t != nil {
		f.t.Stop()
	}
	f.done()
}

// TestLoadFloor measures the floor under the load budget: the same traffic as
// TestLoadBudget's sessions (PIXEL_LOAD_SESSIONS connections, a 640-byte message every
// 20 ms each, a 48-byte answer to each) over bare TCP, with no WebSocket, no session
// set-up and no metrics, on event loops as in pixel.stream and pixelsim (one per
// GOMAXPROCS in the client, one in the server), or with PIXEL_LOAD_FLOOR=goroutines on a
// reader and a writer goroutine per connection, the design before them. It reports the
// CPU per message of both processes and the answer latency. PIXEL_LOAD=1 runs it.
func TestLoadFloor(t *testing.T) {
	if os.Getenv("PIXEL_LOAD") == "" {
		t.Skip("set PIXEL_LOAD=1 to run the load floor measurement")
	}
	conns := envInt("PIXEL_LOAD_SESSIONS", 200)
	secs := envInt("PIXEL_LOAD_SECONDS", 10)
	addr, pid, stopChild := startChild(t, []string{"-test.run=^TestEchoChild$"}, "PIXEL_ECHO_CHILD", "ECHO ")
	defer stopChild()

	res := &floorResults{}
	design := "event loops"
	cpu0, srv0, t0 := cpuTime(), procCPU(pid), time.Now()
	stop := t0.Add(time.Duration(secs) * time.Second)
	if floorGoroutines() {
		design = "goroutines"
		floorWithGoroutines(t, addr, conns, stop, res)
	} else {
		floorWithLoops(t, addr, conns, t0, stop, res)
	}
	wall, cpu, srv := time.Since(t0), cpuTime()-cpu0, procCPU(pid)-srv0
	res.mu.Lock()
	n, lat := res.sent, slices.Clone(res.lat)
	res.mu.Unlock()
	if n == 0 {
		t.Fatal("nothing sent")
	}
	slices.Sort(lat)
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return math.NaN()
		}
		return metrics.Percentile(lat, q)
	}
	t.Logf("%s, %d connections for %v: %d messages (%.0f/s of %.0f/s intended), %d answered",
		design, conns, wall.Round(time.Millisecond), n, float64(n)/wall.Seconds(), float64(conns)/floorInterval.Seconds(), res.acked.Load())
	if len(lat) > 0 {
		t.Logf("answer latency ms: p50 %.3f p95 %.3f p99 %.3f", pct(50), pct(95), pct(99))
	}
	t.Logf("CPU per message: client %.1f µs (%.2f cores), server %.1f µs (%.2f cores)",
		float64(cpu.Microseconds())/float64(n), cpu.Seconds()/wall.Seconds(),
		float64(srv.Microseconds())/float64(n), srv.Seconds()/wall.Seconds())
}

func floorWithLoops(t *testing.T, addr string, conns int, t0, stop time.Time, res *floorResults) {
	loops := make([]*evloop.Loop, max(1, runtimeProcs()))
	for i := range loops {
		l, err := evloop.New()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		loops[i] = l
	}
	msg := make([]byte, floorMsg)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		l := loops[i%len(loops)]
		wg.Add(1)
		// Spread the connections' ticks over one interval, on a millisecond grid.
		first := t0.Add((time.Duration(i) * floorInterval / time.Duration(conns)).Truncate(time.Millisecond))
		l.Add(c, nil, &floorClient{l: l, next: first, stop: stop, msg: msg, res: res, done: wg.Done})
	}
	wg.Wait()
}

func floorWithGoroutines(t *testing.T, addr string, conns int, stop time.Time, res *floorResults) {
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * floorInterval / time.Duration(conns))
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			var mu sync.Mutex
			var sentAt []time.Time
			done := make(chan struct{})
			go func() { // the connection's reader; ends when c closes
				defer close(done)
				buf := make([]byte, floorAck)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					now := time.Now()
					mu.Lock()
					if len(sentAt) > 0 {
						res.mu.Lock()
						res.lat = append(res.lat, float64(now.Sub(sentAt[0]))/1e6)
						res.mu.Unlock()
						sentAt = sentAt[1:]
					}
					mu.Unlock()
					res.acked.Add(1)
				}
			}()
			msg := make([]byte, floorMsg)
			tm := time.NewTimer(time.Hour)
			next := time.Now()
			for next.Before(stop) {
				next = next.Add(floorInterval)
				tm.Reset(time.Until(next))
				<-tm.C
				mu.Lock()
				sentAt = append(sentAt, time.Now())
				mu.Unlock()
				if _, err := c.Write(msg); err != nil {
					break
				}
				res.mu.Lock()
				res.sent++
				res.mu.Unlock()
			}
			_ = c.Close()
			<-done
		})
	}
	wg.Wait()
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
