// Package evloop runs many network connections on one goroutine: the event loop under the
// per-chunk hot path of both ends of the pixel stream (the pixel.stream client and pixelsim's
// WebSocket server).
//
// A Loop owns one goroutine. Every connection added to it, every timer and every posted
// function runs there, one at a time, so a connection's state needs no lock. On Linux a plain
// TCP or Unix socket is taken out of Go's poller and driven by the loop's own epoll instance:
// a ready connection costs one read system call and a function call, with no goroutine
// wake-up, no park and no read that fails with EAGAIN. Any other net.Conn (TLS, net.Pipe,
// every connection on other systems) is driven by a reader and a writer goroutine of its own
// that hand their work to the loop, with the same contract.
//
// Why: at 1000 concurrent sessions of 50 chunks a second on two cores, the goroutine-per-
// connection design cost about 48 µs of CPU per chunk for both ends together, of which some
// 22 µs were the Go scheduler's parks, wake-ups and failed reads; an epoll prototype cost
// 29 µs. The kernel's share (loopback TCP, about 25 µs) is the same in both.
package evloop

import (
	"container/heap"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler receives one connection's events. Every call a Loop makes (Handler methods, timer
// functions, Do functions) runs on the loop's goroutine, one at a time. Handler methods must
// not block. Closed is never called from inside another call of the same handler: when the
// handler closes its Conn, or a Write fails, Closed is called right after the current call
// returns.
type Handler interface {
	// Opened is called first, once, with the connection's handle.
	Opened(c *Conn)
	// Data is called with bytes read; b is valid, and writable, only during the call.
	Data(b []byte)
	// Closed is called last, once: err is nil after c.Close(), io.EOF when the peer closed,
	// ErrLoopClosed when the Loop closed, and the read or write error otherwise.
	Closed(err error)
}

// Drainer is an optional Handler capability: Drained is called when a Conn's pending output
// (see Conn.Pending) has been written in full after a Write could not hand all of it to the
// socket at once.
type Drainer interface{ Drained() }

// Errors a Handler's Closed may receive, besides io.EOF and network errors.
var (
	ErrLoopClosed = errors.New("evloop: loop closed")
	ErrClosed     = errors.New("evloop: connection closed")
)

// Loop is an event loop: one goroutine that drives connections, timers and posted functions.
// Make it with New; Close stops it.
type Loop struct {
	w waiter

	mu     sync.Mutex
	tasks  []func()
	closed bool
	// woken is set while a wake-up is in flight, so that a burst of Do calls costs one.
	woken atomic.Bool
	done  chan struct{}
	// goConns counts the goroutines of goroutine-driven connections; Close waits for them.
	goConns sync.WaitGroup

	// Owned by the loop goroutine.
	base   time.Time
	timers timerHeap
	conns  map[*Conn]struct{}
	dead   []*Conn // closed connections whose Closed is due
	spare  []func()
}

// New starts a loop's goroutine; Close stops it.
func New() (*Loop, error) {
	w, err := newWaiter()
	if err != nil {
		return nil, err
	}
	return start(w), nil
}

// NewShared starts a loop that waits in Go's own poller instead of on a thread of its own
// (on Linux; elsewhere it is New's loop): for a loop that shares the cores with many busy
// goroutines, such as VUs. Close stops it.
func NewShared() (*Loop, error) {
	w, err := newSharedWaiter()
	if err != nil {
		return nil, err
	}
	return start(w), nil
}

// newPortable starts a loop that drives every connection with goroutines, as on systems
// without epoll (tests run the contract against both).
func newPortable() *Loop { return start(newChanWaiter()) }

func start(w waiter) *Loop {
	l := &Loop{w: w, done: make(chan struct{}), base: time.Now(), conns: map[*Conn]struct{}{}}
	go l.run()
	return l
}

// Close closes every connection (their Closed gets ErrLoopClosed), drops the timers, runs
// the functions posted before it, and waits for the loop's goroutines to exit. It is
// idempotent and may be called from any goroutine but the loop's.
func (l *Loop) Close() error {
	l.mu.Lock()
	already := l.closed
	l.closed = true
	l.mu.Unlock()
	if !already {
		l.wake()
	}
	<-l.done
	l.goConns.Wait()
	if !already {
		return l.w.close()
	}
	return nil
}

// Do runs f on the loop goroutine, after the functions posted before it; it may be called
// from any goroutine. It returns false, and f never runs, when the loop is closed.
func (l *Loop) Do(f func()) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.tasks = append(l.tasks, f)
	l.mu.Unlock()
	l.wake()
	return true
}

func (l *Loop) wake() {
	if l.woken.CompareAndSwap(false, true) {
		l.w.wake()
	}
}

// Add hands nc to the loop; it may be called from any goroutine. The loop takes nc over: the
// caller must not use it again. buffered are bytes already read from nc (by a handshake's
// bufio.Reader), which Data gets first. If the loop is closed or nc cannot be taken over,
// Opened is never called and Closed(err) is, and nc is closed.
func (l *Loop) Add(nc net.Conn, buffered []byte, h Handler) {
	c := &Conn{l: l, h: h, fd: -1}
	if len(buffered) > 0 {
		c.held = append([]byte(nil), buffered...)
	}
	if !l.Do(func() { l.open(c, nc) }) {
		_ = nc.Close()
		h.Closed(ErrLoopClosed)
	}
}

// open runs on the loop: it takes nc over and opens c.
func (l *Loop) open(c *Conn, nc net.Conn) {
	if fd, ok := l.w.take(nc); ok {
		c.fd = fd
		if err := l.w.register(c); err != nil {
			l.w.closeFD(fd)
			c.h.Closed(err)
			return
		}
	} else {
		c.g = newGoConn(l, c, nc)
	}
	l.conns[c] = struct{}{}
	c.h.Opened(c)
	l.flushDead()
	if !c.closed && c.held != nil && !c.paused {
		l.deliverHeld(c)
	}
}

// since is the loop's clock: the monotonic time since the loop started.
func (l *Loop) since() time.Duration { return time.Since(l.base) }

func (l *Loop) run() {
	defer close(l.done)
	l.w.lockThread()
	for {
		l.fireTimers()
		if !l.runTasks() {
			break
		}
		wait := time.Duration(-1)
		if len(l.timers) > 0 {
			wait = max(l.timers[0].when-l.since(), 0)
		}
		l.w.wait(l, wait)
	}
	for c := range l.conns {
		c.fail(ErrLoopClosed)
	}
	l.flushDead()
	l.timers = nil
}

// runTasks runs the posted functions; it returns false once the loop is closed (after
// running those posted before the close).
func (l *Loop) runTasks() bool {
	for {
		l.mu.Lock()
		tasks, closed := l.tasks, l.closed
		if len(tasks) == 0 {
			l.mu.Unlock()
			return !closed
		}
		l.tasks = l.spare[:0]
		l.mu.Unlock()
		for i, f := range tasks {
			tasks[i] = nil
			f()
			l.flushDead()
		}
		l.spare = tasks[:0]
	}
}

// flushDead calls Closed for the connections closed during the last call.
// A Closed may close more connections: they join the list and are called in turn.
func (l *Loop) flushDead() {
	for i := 0; i < len(l.dead); i++ {
		c := l.dead[i]
		l.dead[i] = nil
		c.h.Closed(c.err)
	}
	l.dead = l.dead[:0]
}

// Timer is a function scheduled on a loop by AfterFunc.
type Timer struct {
	l     *Loop
	when  time.Duration // on the loop's clock
	f     func()
	index int // in the heap; -1 when not scheduled
}

// AfterFunc runs f on the loop goroutine once d has passed. It may be called only from the
// loop goroutine. Timers fire in due order and never early (on Linux before 5.11, within
// about a millisecond of their due time: the resolution of epoll_wait's timeout).
func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	t := &Timer{l: l, f: f, index: -1}
	t.Reset(d)
	return t
}

// Stop cancels t; it reports whether t was scheduled. Loop goroutine only.
func (t *Timer) Stop() bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.l.timers, t.index)
	return true
}

// Reset schedules t to fire d from now, whether or not it was scheduled. Loop goroutine only.
func (t *Timer) Reset(d time.Duration) {
	t.when = t.l.since() + max(d, 0)
	if t.index >= 0 {
		heap.Fix(&t.l.timers, t.index)
		return
	}
	heap.Push(&t.l.timers, t)
}

func (l *Loop) fireTimers() {
	if len(l.timers) == 0 {
		return
	}
	now := l.since()
	for len(l.timers) > 0 && l.timers[0].when <= now {
		t := heap.Pop(&l.timers).(*Timer)
		t.f()
		l.flushDead()
	}
}

// timerHeap orders timers by due time.
type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// Conn is a connection on a loop. Its methods may be called only from the loop goroutine.
type Conn struct {
	l      *Loop
	h      Handler
	out    []byte    // output the socket has not taken yet (fd-driven connections)
	held   []byte    // input read but not delivered, while paused (or buffered at Add)
	readAt time.Time // when the bytes of the current Data call arrived
	stamps bool      // the kernel timestamps what arrives (StampReads)
	paused bool
	closed bool
	err    error // the reason Closed gets
	// fd-driven: the socket, and the epoll events asked for.
	fd     int
	events uint32
	// goroutine-driven
	g *goConn
}

// Write writes b. It never blocks: what the socket does not take now is copied and written
// as the socket drains (see Pending and Drainer). It returns ErrClosed after Close, or the
// write error, in which case the connection is closed and Closed gets the error.
func (c *Conn) Write(b []byte) error {
	if c.closed {
		return ErrClosed
	}
	if len(b) == 0 {
		return nil
	}
	if c.g != nil {
		c.g.write(b)
		return nil
	}
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		return nil
	}
	n, err := c.l.w.write(c.fd, b)
	if err != nil {
		c.fail(err)
		return err
	}
	if n < len(b) {
		c.out = append(c.out, b[n:]...)
		c.l.w.update(c)
	}
	return nil
}

// writable runs when the socket can take more of the pending output.
func (c *Conn) writable() {
	n, err := c.l.w.write(c.fd, c.out)
	if err != nil {
		c.fail(err)
		return
	}
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) > 0 {
		return
	}
	if cap(c.out) > 64<<10 {
		c.out = nil
	}
	c.l.w.update(c)
	c.drained()
}

func (c *Conn) drained() {
	if d, ok := c.h.(Drainer); ok && !c.closed {
		d.Drained()
	}
}

// readable runs when the socket has data, an end or an error to read.
func (c *Conn) readable(buf []byte) {
	var n int
	var err error
	if c.stamps {
		n, c.readAt, err = c.l.w.readStamped(c.fd, buf)
	} else {
		n, err = c.l.w.read(c.fd, buf)
		c.readAt = time.Time{}
	}
	switch {
	case n > 0:
		if c.readAt.IsZero() {
			c.readAt = time.Now()
		}
		c.h.Data(buf[:n])
	case err == nil:
		c.fail(io.EOF)
	case !isAgain(err):
		c.fail(err)
	}
}

// StampReads asks the kernel to timestamp what arrives on the connection (SO_TIMESTAMPNS on
// Linux), so that ReadTime tells when the bytes reached the machine rather than when the
// loop got to them: a loop that is busy, or a process the kernel has not scheduled, then
// does not add its own delay to what the peer's answers are measured to take. A read that
// returns several segments is stamped with the last one's arrival. Connections the loop
// does not poll itself get the time their reader goroutine read the bytes.
func (c *Conn) StampReads() {
	if c.closed || c.g != nil || c.stamps {
		return
	}
	c.stamps = c.l.w.stamp(c.fd)
}

// ReadTime returns when the bytes of the current Data call arrived: their kernel receive
// time after StampReads, else when they were read. It is valid during Data.
func (c *Conn) ReadTime() time.Time { return c.readAt }

// Pending returns the bytes written but not yet taken by the socket.
func (c *Conn) Pending() int {
	if c.g != nil {
		return int(c.g.queued.Load())
	}
	return len(c.out)
}

// PauseReads stops (p true) or resumes (p false) the calls to Data. While reads are paused
// the loop reads nothing from the connection, so the peer's sends back up in TCP. A pause
// does not stop the loop from noticing that the peer closed once reads resume.
func (c *Conn) PauseReads(p bool) {
	if c.closed || c.paused == p {
		return
	}
	c.paused = p
	if c.g == nil {
		c.l.w.update(c)
	}
	if !p && c.held != nil {
		// Posted, so that Data is not called from inside the handler's own call.
		c.l.post(func() { c.l.deliverHeld(c) })
	}
	if !p && c.g != nil {
		c.g.release()
	}
}

// post queues f behind the functions already posted; loop goroutine only.
func (l *Loop) post(f func()) {
	l.mu.Lock()
	l.tasks = append(l.tasks, f)
	l.mu.Unlock()
}

// deliverHeld hands the held input to Data, unless the connection paused again or closed.
func (l *Loop) deliverHeld(c *Conn) {
	if c.closed || c.paused || c.held == nil {
		return
	}
	b := c.held
	c.held = nil
	if c.readAt.IsZero() {
		c.readAt = time.Now()
	}
	c.h.Data(b)
}

// Close closes the connection now, dropping pending output; Closed(nil) follows once the
// current call returns. It is idempotent.
func (c *Conn) Close() { c.closeWith(nil) }

// fail closes the connection because of err.
func (c *Conn) fail(err error) { c.closeWith(err) }

func (c *Conn) closeWith(err error) {
	if c.closed {
		return
	}
	c.closed, c.err = true, err
	c.out, c.held = nil, nil
	if c.g != nil {
		c.g.close()
	} else {
		c.l.w.unregister(c)
		c.l.w.closeFD(c.fd)
	}
	delete(c.l.conns, c)
	c.l.dead = append(c.l.dead, c)
}

// waiter is the loop's way to wait for I/O, posted functions and timers: epoll on Linux, a
// channel elsewhere.
type waiter interface {
	// take takes nc's socket over for the waiter to drive (ok false: goroutines drive it).
	take(nc net.Conn) (fd int, ok bool)
	register(c *Conn) error
	update(c *Conn) // the connection's interest changed (pause, pending output)
	unregister(c *Conn)
	closeFD(fd int)
	read(fd int, b []byte) (int, error)
	// readStamped reads like read and returns the kernel's receive time of the data
	// (zero when it gave none); stamp turns the timestamps on (false: not supported).
	readStamped(fd int, b []byte) (int, time.Time, error)
	stamp(fd int) bool
	write(fd int, b []byte) (int, error)
	// wait blocks until I/O is ready (and handles it), wake is called, or d has passed
	// (d < 0: no limit).
	wait(l *Loop, d time.Duration)
	wake()
	lockThread()
	close() error
}
