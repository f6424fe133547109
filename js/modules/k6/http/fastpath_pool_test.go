package http

import (
	"bufio"
	"context"
	"net"
	gohttp "net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TestFastPathPooledBuffers checks that a keep-alive connection gives its buffers back
// between exchanges (an idle connection holds none) and that bodies larger than the
// buffers, fixed-length and chunked, still arrive whole over the reused connection.
func TestFastPathPooledBuffers(t *testing.T) {
	big := strings.Repeat("0123456789", 3*connBufSize/10) // 3 buffers' worth
	srv := httptest.NewServer(gohttp.HandlerFunc(func(w gohttp.ResponseWriter, r *gohttp.Request) {
		switch r.URL.Path {
		case "/fixed":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write([]byte(big))
		case "/chunked":
			for i := 0; i < 3; i++ {
				_, _ = w.Write([]byte(big[:connBufSize]))
				w.(gohttp.Flusher).Flush()
			}
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	counter := &modules.ByteCounter{}
	p := newFastPool(counter)
	defer p.closeIdle()
	tests := []struct {
		name, path, want string
		respType         responseType
	}{
		{"small", "/small", "ok", respText},
		{"fixed length larger than the buffer", "/fixed", big, respText},
		{"chunked larger than the buffer", "/chunked", strings.Repeat(big[:connBufSize], 3), respBinary},
		{"discarded body", "/fixed", "", respNone},
		{"small again", "/small", "ok", respText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := *base
			u.Path = tc.path
			hr := &gohttp.Request{Method: "GET", URL: &u, Host: u.Host, Header: gohttp.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
			var tr tracer
			resp, body, err := p.roundTrip(context.Background(), hr, nil, readRule{typ: tc.respType}, time.Now().Add(5*time.Second), &tr)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || string(body) != tc.want {
				t.Fatalf("status %d, body of %d bytes, want %d", resp.StatusCode, len(body), len(tc.want))
			}
			idle := p.idle[hostPort(&u)]
			if len(idle) != 1 {
				t.Fatalf("%d idle connections, want the one reused connection", len(idle))
			}
			if idle[0].br != nil {
				t.Error("the idle connection still holds a read buffer")
			}
		})
	}
	if counter.Received.Load() <= int64(3*len(big)) || counter.Sent.Load() == 0 {
		t.Errorf("bytes counted: sent %d, received %d", counter.Sent.Load(), counter.Received.Load())
	}
}

func TestDialOnOwnStack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	p := newFastPool(nil)
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		close   bool
		wantErr bool
	}{
		{"listening", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, false, false},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, false, true},
		{"refused", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.close {
				_ = ln.Close()
			}
			ctx, cancel := tc.ctx()
			defer cancel()
			c, err := p.dialOnOwnStack(ctx, addr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if c != nil {
				_ = c.Close()
			}
		})
	}
	_ = ln.Close()
}

// TestLazyTransport checks that a VU's net/http transport is made only when a request needs
// it (https here), with the VU's TLS option, and that closing a client that never made
// one is safe.
func TestLazyTransport(t *testing.T) {
	srv := httptest.NewTLSServer(gohttp.HandlerFunc(func(w gohttp.ResponseWriter, _ *gohttp.Request) {
		_, _ = w.Write([]byte("secure"))
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		insecure bool
		wantErr  bool
	}{
		{"verified (self-signed: fails)", false, true},
		{"insecureSkipTLSVerify", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &modules.State{Bytes: &modules.ByteCounter{}}
			st.Options.InsecureSkipTLSVerify = tc.insecure
			c := NewClient(st)
			vt := c.Transport.(*vuTransport)
			if vt.transport(false) != nil {
				t.Fatal("transport made before any request")
			}
			c.CloseIdleConnections() // nothing made yet: must not panic
			resp, err := c.Get(srv.URL)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err == nil {
				_ = resp.Body.Close()
			}
			if vt.transport(false) == nil {
				t.Error("no transport after an https request")
			}
			if st.Bytes.Received.Load() == 0 {
				t.Error("TLS bytes not counted")
			}
			c.CloseIdleConnections()
		})
	}
}

// BenchmarkIdlePeek measures the check a kept-alive connection passes before it is reused
// (fastPool.conn): one non-blocking peek on a live loopback connection.
func BenchmarkIdlePeek(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // accepts the one connection; ends with the listener
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	srv := <-accepted
	defer srv.Close()
	var p idlePeek
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p.closed(c) {
			b.Fatal("a live connection reported closed")
		}
	}
}

// TestIdlePeek checks what an idle connection's peek reports: alive while quiet, broken once
// the server closed it or sent bytes nobody asked for.
func TestIdlePeek(t *testing.T) {
	tests := []struct {
		name   string
		server func(net.Conn)
		want   bool
	}{
		{"quiet", func(net.Conn) {}, false},
		{"closed by the server", func(c net.Conn) { _ = c.Close() }, true},
		{"unsolicited bytes", func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 408")) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			tc.server(srv)
			var p idlePeek
			got := p.closed(c)
			for i := 0; got != tc.want && tc.want && i < 200; i++ { // the close or bytes are on their way
				time.Sleep(5 * time.Millisecond)
				got = p.closed(c)
			}
			if got != tc.want {
				t.Errorf("closed = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFastPathDropsChatteringIdleConn: bytes a server sends on a kept-alive connection
// while it is idle are no response to the next request; the connection is dropped and the
// request goes out on a new one (net/http's reader goroutine does the same; with it the
// case is a race, so the differential test leaves it out).
func TestFastPathDropsChatteringIdleConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sendLate, lateSent := make(chan struct{}), make(chan struct{})
	var once sync.Once
	late := func() { once.Do(func() { close(sendLate) }) }
	defer late() // a failed test still lets the server's goroutine end
	go func() {  // serves two connections; ends with the listener
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // one connection: answers one request, then chatters (first connection)
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := gohttp.ReadRequest(br); err != nil {
					return
				}
				body := "first"
				if n > 1 {
					body = "second"
				}
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
				if n == 1 {
					<-sendLate // once the client has read the response and put the connection back
					_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"))
					close(lateSent)
				}
				_, _ = br.ReadByte() // until the client closes
			}()
		}
	}()
	p := newFastPool(nil)
	defer p.closeIdle()
	u, err := url.Parse("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		hr := &gohttp.Request{Method: "GET", URL: u, Host: u.Host, Header: gohttp.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		var tr tracer
		_, body, err := p.roundTrip(context.Background(), hr, nil, readRule{typ: respText}, time.Now().Add(10*time.Second), &tr)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	if got := get(); got != "first" {
		t.Fatalf("first response %q", got)
	}
	late()
	<-lateSent
	if got := get(); got != "second" {
		t.Errorf("second response %q, want %q from a new connection", got, "second")
	}
}
