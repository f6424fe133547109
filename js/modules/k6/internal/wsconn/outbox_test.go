package wsconn

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules/modulestest"
)

// pattern is n bytes that show their own order.
func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + seed) % 251)
	}
	return b
}

// pairs are a TCP loopback pair (the socket is tried at once) and a net.Pipe (no socket:
// every write queues).
func pairs(t *testing.T) map[string]func() (client, server net.Conn) {
	return map[string]func() (net.Conn, net.Conn){
		"tcp": func() (net.Conn, net.Conn) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			return c, s
		},
		"pipe": func() (net.Conn, net.Conn) { return net.Pipe() },
	}
}

// TestOutboxNeverBlocks: writes to a peer that does not read return at once (a pipe takes
// nothing, loopback TCP less than 16 MiB); the peer then reads every byte, in order, and
// the Outbox counts them all taken; its flusher exits.
func TestOutboxNeverBlocks(t *testing.T) {
	for name, pair := range pairs(t) {
		t.Run(name, func(t *testing.T) {
			c, s := pair()
			defer s.Close()
			o := NewOutbox(c)
			var want bytes.Buffer
			for i := range 64 {
				b := pattern(256<<10, i)
				want.Write(b)
				if n, err := o.Write(b); n != len(b) || err != nil {
					t.Fatalf("write %d: %d, %v", i, n, err)
				}
			}
			if o.Accepted() != int64(want.Len()) || o.Taken() >= o.Accepted() {
				t.Fatalf("accepted %d, taken %d of %d before the peer read", o.Accepted(), o.Taken(), want.Len())
			}
			got := make([]byte, want.Len())
			if _, err := io.ReadFull(s, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatal("the peer read other bytes, or out of order")
			}
			if n := modulestest.WaitGoroutines("wsconn.(*Outbox).flush(", 0); n != 0 {
				t.Fatalf("%d flushers alive with the queue empty", n)
			}
			if o.Taken() != o.Accepted() {
				t.Fatalf("taken %d of %d", o.Taken(), o.Accepted())
			}
			// An empty queue writes at once again (on TCP) and still in order.
			if _, err := o.Write([]byte("end")); err != nil {
				t.Fatal(err)
			}
			end := make([]byte, 3)
			if _, err := io.ReadFull(s, end); err != nil || string(end) != "end" {
				t.Fatalf("read %q, %v", end, err)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOutboxClose: Close ends a flusher blocked on a peer that never reads, and every later
// Write fails.
func TestOutboxClose(t *testing.T) {
	for name, pair := range pairs(t) {
		t.Run(name, func(t *testing.T) {
			c, s := pair()
			defer s.Close()
			o := NewOutbox(c)
			for range 64 {
				if _, err := o.Write(pattern(256<<10, 0)); err != nil {
					t.Fatal(err)
				}
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if n := modulestest.Goroutines("wsconn.(*Outbox).flush("); n != 0 {
				t.Fatalf("%d flushers alive after Close", n)
			}
			if _, err := o.Write([]byte("x")); err == nil {
				t.Fatal("a write after Close succeeded")
			}
		})
	}
}
