package lazyconn

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// deadlineConn counts the deadline changes that reach the connection.
type deadlineConn struct {
	net.Conn
	reads, writes int
}

func (c *deadlineConn) SetReadDeadline(time.Time) error  { c.reads++; return nil }
func (c *deadlineConn) SetWriteDeadline(time.Time) error { c.writes++; return nil }
func (c *deadlineConn) SetDeadline(time.Time) error      { c.reads++; c.writes++; return nil }

func TestDeadlines(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name       string
		writes     []time.Time
		wantWrites int
	}{
		{"zero every time (gorilla's client writes)", []time.Time{{}, {}, {}}, 0},
		{"same deadline repeated", []time.Time{t0, t0, t0}, 1},
		{"changing deadline", []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second), {}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc := &deadlineConn{}
			c := New(dc, nil, nil)
			for _, d := range tc.writes {
				if err := c.SetWriteDeadline(d); err != nil {
					t.Fatal(err)
				}
			}
			if dc.writes != tc.wantWrites {
				t.Errorf("%d write deadlines reached the connection; want %d", dc.writes, tc.wantWrites)
			}
		})
	}
	t.Run("SetDeadline resets both", func(t *testing.T) {
		dc := &deadlineConn{}
		c := New(dc, nil, nil)
		_ = c.SetDeadline(t0)
		_ = c.SetReadDeadline(t0)
		_ = c.SetWriteDeadline(t0)
		_ = c.SetReadDeadline(time.Time{})
		if dc.reads != 2 || dc.writes != 1 {
			t.Errorf("reads %d writes %d reached the connection; want 2 and 1", dc.reads, dc.writes)
		}
	})
}

func TestCounts(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var sent, recv atomic.Int64
	c := New(a, &sent, &recv)
	go func() {
		buf := make([]byte, 5)
		n, _ := b.Read(buf)
		_, _ = b.Write(buf[:n])
		_, _ = b.Write([]byte("!!"))
	}()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	got := 0
	for got < 7 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if sent.Load() != 5 || recv.Load() != 7 {
		t.Errorf("counted %d sent, %d received; want 5 and 7", sent.Load(), recv.Load())
	}
}
