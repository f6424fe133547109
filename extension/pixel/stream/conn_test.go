package stream

import (
	"context"
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

func TestLazyConnDeadlines(t *testing.T) {
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
			c := newLazyConn(dc, nil, nil)
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
		c := newLazyConn(dc, nil, nil)
		_ = c.SetDeadline(t0)
		_ = c.SetReadDeadline(t0)
		_ = c.SetWriteDeadline(t0)
		_ = c.SetReadDeadline(time.Time{})
		if dc.reads != 2 || dc.writes != 1 {
			t.Errorf("reads %d writes %d reached the connection; want 2 and 1", dc.reads, dc.writes)
		}
	})
}

func TestLazyConnCounts(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	var sent, recv atomic.Int64
	c := newLazyConn(a, &sent, &recv)
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

func TestPastDeadline(t *testing.T) {
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", context.Background(), false},
		{"deadline ahead", future, false},
		{"deadline passed", past, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pastDeadline(tc.ctx); got != tc.want {
				t.Errorf("pastDeadline = %v; want %v", got, tc.want)
			}
		})
	}
}
