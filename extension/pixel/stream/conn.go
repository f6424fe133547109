package stream

import (
	"net"
	"sync/atomic"
	"time"
)

// lazyConn is the client's TCP connection under gorilla. It counts the bytes read and
// written (when asked to), and it does not set an unchanged deadline again: gorilla sets
// the write deadline before every write, to the same (zero) value, and each set is a
// runtime timer update.
//
// Tried and dropped, measured or found wrong: skipping the read() that fails with EAGAIN
// after each ack by waiting for readiness through syscall.RawConn first loses wake-ups
// (RawConn.Read clears the poller's pending readiness before calling its function, so it
// must read first); turning TCP quick-ack off to save pure ACK segments saved no CPU.
//
// The reader goroutine owns rdl; gorilla calls SetWriteDeadline under its write lock,
// which owns wdl.
type lazyConn struct {
	net.Conn
	sent, recv *atomic.Int64 // byte counters, nil when not counted
	wdl, rdl   time.Time     // the deadlines last set
}

func newLazyConn(c net.Conn, sent, recv *atomic.Int64) *lazyConn {
	return &lazyConn{Conn: c, sent: sent, recv: recv}
}

func (c *lazyConn) SetWriteDeadline(t time.Time) error {
	if t.Equal(c.wdl) {
		return nil
	}
	c.wdl = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *lazyConn) SetReadDeadline(t time.Time) error {
	if t.Equal(c.rdl) {
		return nil
	}
	c.rdl = t
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline is called by the handshake, before the pumps run.
func (c *lazyConn) SetDeadline(t time.Time) error {
	c.wdl, c.rdl = t, t
	return c.Conn.SetDeadline(t)
}

func (c *lazyConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.sent != nil {
		c.sent.Add(int64(n))
	}
	return n, err
}

func (c *lazyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.recv != nil {
		c.recv.Add(int64(n))
	}
	return n, err
}
