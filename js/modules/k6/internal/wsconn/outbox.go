package wsconn

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Outbox is a net.Conn whose Write never blocks: it writes what the socket takes at once,
// on the caller's goroutine, and queues the rest for a goroutine that writes it in order
// and exits when the queue is empty. k6/websockets' sends go straight from the VU's
// goroutine to the kernel this way (no hand-over to a writer goroutine per message), and a
// server that stops reading fills only the queue, never blocks the VU, as browsers' send.
//
// Write deadlines are ignored: a queued write waits until the connection closes (Close
// ends it, and the queue's error is then every later Write's). Reads and everything else
// are the wrapped connection's.
type Outbox struct {
	net.Conn
	raw syscall.RawConn // nil: the connection has no socket to try at once; every write queues

	mu      sync.Mutex
	q       []byte // bytes waiting for the flusher
	spare   []byte
	flusher bool  // the flusher goroutine runs: writes queue behind it
	err     error // the first write error; every later Write returns it

	// try's state: its function is made once (a closure per call would be an allocation
	// per message); used under mu.
	tryFn  func(fd uintptr) bool
	tryB   []byte
	tryN   int
	tryErr error

	// recording: the bytes read are kept (recorded) until EndRecording, so that whoever
	// takes over the reading after a handshake can tell what the handshake's reader may
	// hold beyond the response. Read's goroutine only.
	recording bool
	recorded  []byte

	accepted atomic.Int64 // bytes Write took
	taken    atomic.Int64 // bytes handed to the kernel, or to the flusher's blocking write
	done     chan struct{}
}

// NewOutbox wraps c.
func NewOutbox(c net.Conn) *Outbox {
	o := &Outbox{Conn: c, recording: true}
	o.tryFn = o.tryWrite
	if sc, ok := c.(syscall.Conn); ok && canTry {
		if raw, err := sc.SyscallConn(); err == nil {
			o.raw = raw
		}
	}
	return o
}

// errAgain is a try that wrote nothing because the socket's buffer is full.
var errAgain = errors.New("wsconn: the socket's buffer is full")

// Write takes all of b (or returns the connection's write error).
func (o *Outbox) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	n := len(b)
	o.accepted.Add(int64(n))
	if !o.flusher && o.raw != nil {
		w, err := o.try(b)
		o.taken.Add(int64(w))
		if err != nil && err != errAgain {
			o.err = err
			return w, err
		}
		b = b[w:]
		if len(b) == 0 {
			return n, nil
		}
	}
	o.q = append(o.q, b...)
	if !o.flusher {
		o.flusher = true
		o.done = make(chan struct{})
		go o.flush()
	}
	return n, nil
}

// try writes what the socket takes now, without waiting (errAgain: it took less than b).
func (o *Outbox) try(b []byte) (int, error) {
	o.tryB, o.tryN, o.tryErr = b, 0, nil
	err := o.raw.Write(o.tryFn)
	n, werr := o.tryN, o.tryErr
	o.tryB, o.tryErr = nil, nil
	if err != nil {
		return n, err
	}
	return n, werr
}

// flush is the flusher goroutine: it writes the queue until it is empty or a write fails.
func (o *Outbox) flush() {
	defer close(o.done)
	for {
		o.mu.Lock()
		if len(o.q) == 0 || o.err != nil {
			o.flusher = false
			o.q = o.q[:0]
			o.mu.Unlock()
			return
		}
		buf := o.q
		o.q = o.spare[:0]
		// Counted as taken before the write: the peer can only answer bytes it has, so
		// whoever reads Taken after an answer arrived sees them gone.
		o.taken.Add(int64(len(buf)))
		o.mu.Unlock()
		_, err := o.Conn.Write(buf)
		o.mu.Lock()
		o.spare = buf[:0]
		if err != nil && o.err == nil {
			o.err = err
		}
		o.mu.Unlock()
		if err != nil {
			_ = o.Conn.Close() // the reader sees the end
		}
	}
}

// Read reads from the connection (and records, until EndRecording).
func (o *Outbox) Read(b []byte) (int, error) {
	n, err := o.Conn.Read(b)
	if o.recording && n > 0 {
		o.recorded = append(o.recorded, b[:n]...)
	}
	return n, err
}

// EndRecording stops recording and returns what was read so far (from the goroutine that
// read it).
func (o *Outbox) EndRecording() []byte {
	b := o.recorded
	o.recording, o.recorded = false, nil
	return b
}

// Accepted is how many bytes Write has taken; Taken how many of them have left for the
// kernel (those still queued are Accepted - Taken).
func (o *Outbox) Accepted() int64 { return o.accepted.Load() }

// Taken: see Accepted.
func (o *Outbox) Taken() int64 { return o.taken.Load() }

// SetWriteDeadline is ignored: see Outbox.
func (o *Outbox) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only: see Outbox.
func (o *Outbox) SetDeadline(t time.Time) error { return o.Conn.SetReadDeadline(t) }

// Close closes the connection and waits for the flusher to exit.
func (o *Outbox) Close() error {
	err := o.Conn.Close()
	o.mu.Lock()
	done := o.done
	o.mu.Unlock()
	if done != nil {
		<-done
	}
	return err
}
