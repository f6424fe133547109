// Package lazyconn wraps a WebSocket's TCP connection for the hot paths on both ends (the
// pixel.stream client and pixelsim): it does not set an unchanged deadline again — gorilla
// sets the write deadline before every write, usually to the same value, and each set is a
// runtime timer update — and it optionally counts the bytes read and written.
//
// Tried and dropped, measured or found wrong: skipping the read() that fails with EAGAIN
// after each message by waiting for readiness through syscall.RawConn first loses wake-ups
// (RawConn.Read clears the poller's pending readiness before calling its function, so it
// must read first); turning TCP quick-ack off to save pure ACK segments saved no CPU.
package lazyconn

import (
	"net"
	"sync/atomic"
	"time"
)

// Conn is a net.Conn whose deadlines are set only when they change. The deadlines of each
// direction must be set by one goroutine at a time (gorilla's writes hold its write lock;
// the reader goroutine sets read deadlines), which is gorilla's own rule.
type Conn struct {
	net.Conn
	sent, recv *atomic.Int64 // byte counters, nil when not counted
	wdl, rdl   time.Time     // the deadlines last set
}

// New wraps c; sent and recv, when not nil, receive the byte counts of writes and reads.
func New(c net.Conn, sent, recv *atomic.Int64) *Conn {
	return &Conn{Conn: c, sent: sent, recv: recv}
}

// SetWriteDeadline sets the write deadline unless it is already t.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if t.Equal(c.wdl) {
		return nil
	}
	c.wdl = t
	return c.Conn.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline unless it is already t.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if t.Equal(c.rdl) {
		return nil
	}
	c.rdl = t
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines; it is called by handshakes, before the pumps run.
func (c *Conn) SetDeadline(t time.Time) error {
	c.wdl, c.rdl = t, t
	return c.Conn.SetDeadline(t)
}

// Write writes p and counts the bytes written.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.sent != nil {
		c.sent.Add(int64(n))
	}
	return n, err
}

// Read reads into p and counts the bytes read.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.recv != nil {
		c.recv.Add(int64(n))
	}
	return n, err
}
