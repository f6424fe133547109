package evloop

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// goConn drives a connection the loop cannot poll itself (TLS, pipes, every connection on
// systems without epoll): a reader and a writer goroutine, owned by the Conn and counted in
// the Loop's goConns, hand their work to the loop. The reader reads one buffer at a time and
// waits until the loop has delivered it (or held it, while reads are paused) before it
// reads again, so a paused connection backs up in TCP as an fd-driven one does.
type goConn struct {
	l  *Loop
	c  *Conn
	nc net.Conn

	next     chan struct{} // the reader may read again (cap 1)
	stop     chan struct{} // closed by close
	stopOnce sync.Once
	waiting  bool // loop-owned: the reader waits for next

	wmu     sync.Mutex
	wq      []byte        // output for the writer, guarded by wmu
	wsig    chan struct{} // output was queued (cap 1)
	queued  atomic.Int64  // bytes queued or being written; changed under wmu
	backlog bool          // a write found earlier output unwritten: report Drained; guarded by wmu
}

func newGoConn(l *Loop, c *Conn, nc net.Conn) *goConn {
	g := &goConn{l: l, c: c, nc: nc, next: make(chan struct{}, 1), stop: make(chan struct{}), wsig: make(chan struct{}, 1)}
	l.goConns.Add(2)
	go g.readLoop()
	go g.writeLoop()
	return g
}

func (g *goConn) readLoop() {
	defer g.l.goConns.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := g.nc.Read(buf)
		if n > 0 {
			b, at := buf[:n], time.Now()
			if !g.l.Do(func() { g.deliver(b, at) }) {
				return
			}
			select {
			case <-g.next:
			case <-g.stop:
				return
			}
		}
		if err != nil {
			g.l.Do(func() { g.c.fail(err) })
			return
		}
	}
}

// deliver runs on the loop with b, the reader's buffer, read at at.
func (g *goConn) deliver(b []byte, at time.Time) {
	c := g.c
	if c.closed {
		return
	}
	g.waiting = true
	if c.paused {
		c.held = append(c.held, b...)
		return
	}
	c.readAt = at
	c.h.Data(b)
	g.release()
}

// release lets the reader read again, if it waits; loop goroutine only.
func (g *goConn) release() {
	if g.waiting && !g.c.paused {
		g.waiting = false
		g.next <- struct{}{}
	}
}

func (g *goConn) write(b []byte) {
	g.wmu.Lock()
	g.wq = append(g.wq, b...)
	if g.queued.Add(int64(len(b))) > int64(len(b)) {
		g.backlog = true
	}
	g.wmu.Unlock()
	select {
	case g.wsig <- struct{}{}:
	default:
	}
}

func (g *goConn) writeLoop() {
	defer g.l.goConns.Done()
	var buf []byte
	for {
		select {
		case <-g.wsig:
		case <-g.stop:
			return
		}
		g.wmu.Lock()
		buf, g.wq = g.wq, buf[:0]
		g.wmu.Unlock()
		if len(buf) == 0 {
			continue
		}
		_, err := g.nc.Write(buf)
		g.wmu.Lock()
		drained := g.queued.Add(-int64(len(buf))) == 0 && g.backlog
		if drained {
			g.backlog = false
		}
		g.wmu.Unlock()
		if err != nil {
			g.l.Do(func() { g.c.fail(err) })
			return
		}
		if drained {
			g.l.Do(g.c.drained)
		}
	}
}

// close stops both goroutines: closing nc ends a blocked Read or Write.
func (g *goConn) close() {
	g.stopOnce.Do(func() {
		close(g.stop)
		_ = g.nc.Close()
	})
}
