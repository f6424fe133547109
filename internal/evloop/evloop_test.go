package evloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// loops runs a test against every waiter: epoll on a thread of its own, epoll waited for in
// Go's poller (NewShared) and the portable one.
func loops(t *testing.T, f func(t *testing.T, l *Loop)) {
	t.Run("default", func(t *testing.T) {
		l, err := New()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		f(t, l)
	})
	t.Run("shared", func(t *testing.T) {
		l, err := NewShared()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		f(t, l)
	})
	t.Run("portable", func(t *testing.T) {
		l := newPortable()
		t.Cleanup(func() { _ = l.Close() })
		f(t, l)
	})
}

// event is what a recorder saw.
type event struct {
	kind string // opened, data, closed, drained
	data string
	err  error
}

// recorder is a Handler that reports its events on a channel; onData, when set, runs on
// the loop for every Data call.
type recorder struct {
	c      *Conn
	ev     chan event
	onData func(r *recorder, b []byte)
	inside bool // a handler call is running (checks Closed is not reentrant)
	// drained: report Drained events (the portable waiter reports one whenever output
	// was still queued when more was written, which most tests do not care about).
	drained bool
}

func newRecorder() *recorder { return &recorder{ev: make(chan event, 1024)} }

func (r *recorder) Opened(c *Conn) { r.c = c; r.ev <- event{kind: "opened"} }
func (r *recorder) Data(b []byte) {
	r.inside = true
	defer func() { r.inside = false }()
	r.ev <- event{kind: "data", data: string(b)}
	if r.onData != nil {
		r.onData(r, b)
	}
}
func (r *recorder) Closed(err error) {
	if r.inside {
		panic("Closed called from inside Data")
	}
	r.ev <- event{kind: "closed", err: err}
}
func (r *recorder) Drained() {
	if r.drained {
		r.ev <- event{kind: "drained"}
	}
}

func (r *recorder) next(t *testing.T) event {
	t.Helper()
	select {
	case e := <-r.ev:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
		return event{}
	}
}

// readUntil collects data events until want bytes arrived (or another event).
func (r *recorder) readUntil(t *testing.T, want int) (string, event) {
	t.Helper()
	var sb strings.Builder
	for sb.Len() < want {
		e := r.next(t)
		if e.kind != "data" {
			return sb.String(), e
		}
		sb.WriteString(e.data)
	}
	return sb.String(), event{}
}

// pair returns a loopback TCP connection pair: the client end and the accepted end.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}

func TestEchoAndPeerClose(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		peer, mine := pair(t)
		r := newRecorder()
		r.onData = func(r *recorder, b []byte) { _ = r.c.Write(bytes.ToUpper(b)) }
		l.Add(mine, []byte("first "), r)
		if e := r.next(t); e.kind != "opened" {
			t.Fatalf("first event %+v, want opened", e)
		}
		if _, err := peer.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		got, e := r.readUntil(t, len("first hello"))
		if got != "first hello" {
			t.Fatalf("data %q (then %+v), want the buffered bytes first", got, e)
		}
		buf := make([]byte, 64)
		if _, err := io.ReadFull(peer, buf[:len("FIRST HELLO")]); err != nil {
			t.Fatal(err)
		}
		if string(buf[:11]) != "FIRST HELLO" {
			t.Fatalf("echo %q", buf[:11])
		}
		_ = peer.Close()
		if e := r.next(t); e.kind != "closed" || !errors.Is(e.err, io.EOF) {
			t.Fatalf("after the peer closed: %+v, want closed with EOF", e)
		}
	})
}

func TestCloseFromDataIsNotReentrant(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		peer, mine := pair(t)
		r := newRecorder()
		r.onData = func(r *recorder, b []byte) {
			r.c.Close()
			if err := r.c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
				panic("Write after Close: " + errString(err))
			}
		}
		l.Add(mine, nil, r)
		r.next(t)
		_, _ = peer.Write([]byte("bye"))
		if e := r.next(t); e.kind != "data" {
			t.Fatalf("%+v", e)
		}
		if e := r.next(t); e.kind != "closed" || e.err != nil {
			t.Fatalf("%+v, want closed with nil", e)
		}
		// The peer sees the close.
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("peer read %v, want EOF", err)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func TestLoopCloseClosesConnections(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		_, mine := pair(t)
		r := newRecorder()
		l.Add(mine, nil, r)
		r.next(t)
		ran := make(chan bool, 1)
		l.Do(func() { l.AfterFunc(time.Hour, func() { ran <- true }) })
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if e := r.next(t); e.kind != "closed" || !errors.Is(e.err, ErrLoopClosed) {
			t.Fatalf("%+v, want closed with ErrLoopClosed", e)
		}
		if l.Do(func() {}) {
			t.Fatal("Do after Close returned true")
		}
		// Add after Close: Closed(ErrLoopClosed), never Opened.
		_, mine2 := pair(t)
		r2 := newRecorder()
		l.Add(mine2, nil, r2)
		if e := r2.next(t); e.kind != "closed" || !errors.Is(e.err, ErrLoopClosed) {
			t.Fatalf("%+v, want closed with ErrLoopClosed", e)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		select {
		case <-ran:
			t.Fatal("a pending timer ran after Close")
		default:
		}
	})
}

func TestBackpressureAndDrained(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		peer, mine := pair(t)
		r := newRecorder()
		r.drained = true
		l.Add(mine, nil, r)
		r.next(t)
		// Write far more than the socket buffers take while the peer reads nothing.
		const total = 32 << 20
		chunk := bytes.Repeat([]byte("abcdefgh"), 8<<10) // 64 KiB
		pending := make(chan int, 1)
		l.Do(func() {
			for n := 0; n < total; n += len(chunk) {
				if err := r.c.Write(chunk); err != nil {
					panic(err)
				}
			}
			pending <- r.c.Pending()
		})
		if p := <-pending; p == 0 {
			t.Fatal("Pending is 0 after writing 32 MiB to a peer that reads nothing")
		}
		n, err := io.CopyN(io.Discard, peer, total)
		if err != nil || n != total {
			t.Fatalf("peer read %d bytes: %v", n, err)
		}
		// Drained may come more than once (the portable writer reports each time it
		// catches up); after the last, nothing is pending.
		for {
			if e := r.next(t); e.kind != "drained" {
				t.Fatalf("%+v, want drained", e)
			}
			l.Do(func() { pending <- r.c.Pending() })
			if <-pending == 0 {
				break
			}
		}
	})
}

func TestPauseReads(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		peer, mine := pair(t)
		r := newRecorder()
		r.onData = func(r *recorder, b []byte) {
			if strings.Contains(string(b), "pause") {
				r.c.PauseReads(true)
			}
		}
		l.Add(mine, nil, r)
		r.next(t)
		_, _ = peer.Write([]byte("pause"))
		if e := r.next(t); e.kind != "data" || e.data != "pause" {
			t.Fatalf("%+v", e)
		}
		_, _ = peer.Write([]byte("one two"))
		select {
		case e := <-r.ev:
			t.Fatalf("event %+v while paused", e)
		case <-time.After(100 * time.Millisecond):
		}
		l.Do(func() { r.c.PauseReads(false) })
		if got, e := r.readUntil(t, len("one two")); got != "one two" {
			t.Fatalf("after resume: %q then %+v", got, e)
		}
		// A peer that closes while reads are paused is noticed once they resume.
		l.Do(func() { r.c.PauseReads(true) })
		_, _ = peer.Write([]byte("last"))
		_ = peer.Close()
		time.Sleep(50 * time.Millisecond)
		l.Do(func() { r.c.PauseReads(false) })
		if got, e := r.readUntil(t, 4); got != "last" {
			t.Fatalf("after resume: %q then %+v", got, e)
		}
		if e := r.next(t); e.kind != "closed" || !errors.Is(e.err, io.EOF) {
			t.Fatalf("%+v, want closed with EOF", e)
		}
	})
}

func TestTimers(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		type fired struct {
			name string
			late time.Duration
		}
		out := make(chan fired, 10)
		start := time.Now()
		dues := map[*Timer]*time.Duration{}
		l.Do(func() {
			at := func(name string, d time.Duration) *Timer {
				due := &d
				t := l.AfterFunc(d, func() { out <- fired{name, time.Since(start) - *due} })
				dues[t] = due
				return t
			}
			at("c", 30*time.Millisecond)
			at("a", 10*time.Millisecond)
			stopped := at("x", 20*time.Millisecond)
			if !stopped.Stop() || stopped.Stop() {
				panic("Stop: want true, then false")
			}
			moved := at("b", 50*time.Millisecond)
			*dues[moved] = time.Since(start) + 20*time.Millisecond
			moved.Reset(20 * time.Millisecond)
			at("now", 0)
		})
		var order []string
		for range 4 {
			select {
			case f := <-out:
				if f.late < 0 {
					t.Errorf("timer %s fired %v early", f.name, -f.late)
				}
				order = append(order, f.name)
			case <-time.After(5 * time.Second):
				t.Fatalf("timers fired: %v", order)
			}
		}
		if got := strings.Join(order, ","); got != "now,a,b,c" {
			t.Fatalf("timers fired in order %s, want now,a,b,c", got)
		}
	})
}

func TestDoOrderFromManyGoroutines(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		const goroutines, each = 8, 500
		var seen [goroutines]int
		var wg sync.WaitGroup
		bad := make(chan string, 1)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					l.Do(func() {
						if seen[g] != i {
							select {
							case bad <- "out of order":
							default:
							}
						}
						seen[g]++
					})
				}
			})
		}
		wg.Wait()
		done := make(chan struct{})
		l.Do(func() { close(done) })
		<-done
		select {
		case b := <-bad:
			t.Fatal(b)
		default:
		}
		for g, n := range seen {
			if n != each {
				t.Fatalf("goroutine %d: %d functions ran, want %d", g, n, each)
			}
		}
	})
}

// TestManyConnections echoes on many connections at once and checks every byte.
func TestManyConnections(t *testing.T) {
	loops(t, func(t *testing.T, l *Loop) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		const conns, rounds = 50, 20
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				r := &echo{}
				l.Add(c, nil, r)
			}
		}()
		var wg sync.WaitGroup
		for i := range conns {
			wg.Go(func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				msg := []byte(strings.Repeat(string(rune('a'+i%26)), 100+i))
				buf := make([]byte, len(msg))
				for range rounds {
					if _, err := c.Write(msg); err != nil {
						t.Error(err)
						return
					}
					if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
						t.Errorf("conn %d: echo %q, %v", i, buf, err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

type echo struct{ c *Conn }

func (e *echo) Opened(c *Conn)   { e.c = c }
func (e *echo) Data(b []byte)    { _ = e.c.Write(b) }
func (e *echo) Closed(err error) {}

// TestPipeIsGoroutineDriven: a net.Conn the loop cannot poll works the same way.
func TestPipeIsGoroutineDriven(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, b := net.Pipe()
	defer a.Close()
	r := newRecorder()
	r.onData = func(r *recorder, p []byte) { _ = r.c.Write(p) }
	l.Add(b, nil, r)
	r.next(t)
	go func() { _, _ = a.Write([]byte("ping")) }()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	done := make(chan bool)
	l.Do(func() { done <- r.c.g != nil })
	if !<-done {
		t.Fatal("a net.Pipe connection is not goroutine-driven")
	}
}

// TestNoGoroutineLeak: after Close, the loop's goroutines and every connection's are gone.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		for _, l := range []*Loop{mustNew(t), newPortable()} {
			for range 5 {
				_, mine := pair(t)
				l.Add(mine, nil, newRecorder())
			}
			a, b := net.Pipe()
			l.Add(b, nil, newRecorder())
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			_ = a.Close()
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func mustNew(t *testing.T) *Loop {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// BenchmarkEchoRoundTrip: a 640-byte message written by a plain Go client, echoed by a
// handler on the loop, read back: one round trip through the loop per op.
func BenchmarkEchoRoundTrip(b *testing.B) {
	for _, name := range []string{"default", "portable"} {
		b.Run(name, func(b *testing.B) {
			var l *Loop
			if name == "default" {
				var err error
				if l, err = New(); err != nil {
					b.Fatal(err)
				}
			} else {
				l = newPortable()
			}
			defer l.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					l.Add(c, nil, &echo{})
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg, buf := make([]byte, 640), make([]byte, 640)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
