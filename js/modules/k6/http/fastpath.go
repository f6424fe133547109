package http

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	gohttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// fastPool is a VU's HTTP/1.1 client for plain http:// URLs: the request is written and the
// response read on the calling goroutine, over keep-alive connections, without net/http's
// per-connection read and write goroutines (two goroutine hand-offs per request). It is what
// makes a no-sleep VU cheap; https, proxies and --http-debug use net/http instead.
// Safe for concurrent use (http.batch).
type fastPool struct {
	bytes  *modules.ByteCounter
	dialer net.Dialer

	mu   sync.Mutex
	idle map[string][]*fastConn // host:port → idle connections
}

// connBufSize is the size of a connection's read and write buffers (longer header lines and
// bodies still work, in more reads).
const connBufSize = 2048

// A connection holds buffers only during an exchange: they come from these pools, shared by
// all VUs, and go back once the request is flushed and the response read (a sleeping VU's
// idle keep-alive connection holds none: 4 KB less per VU at 1000 VUs).
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, connBufSize) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, connBufSize) }}
)

// maxIdlePerHost bounds a VU's idle connections to one host.
const maxIdlePerHost = 32

func newFastPool(bytes *modules.ByteCounter) *fastPool {
	return &fastPool{bytes: bytes, dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		idle: map[string][]*fastConn{}}
}

// fastConn is one connection; firstByte is set by the first Read that returns data after
// arm. br is its read buffer while an exchange needs it (see readerPool).
type fastConn struct {
	net.Conn
	bytes     *modules.ByteCounter
	br        *bufio.Reader
	armed     bool
	firstByte time.Time
	remote    string
}

func (c *fastConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if c.armed {
			c.firstByte, c.armed = time.Now(), false
		}
		if c.bytes != nil {
			c.bytes.Received.Add(int64(n))
		}
	}
	return n, err
}

func (c *fastConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.bytes != nil {
		c.bytes.Sent.Add(int64(n))
	}
	return n, err
}

func (p *fastPool) get(addr string) *fastConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[addr]
	if len(l) == 0 {
		return nil
	}
	c := l[len(l)-1]
	p.idle[addr] = l[:len(l)-1]
	return c
}

func (p *fastPool) put(addr string, c *fastConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[addr]) >= maxIdlePerHost {
		_ = c.Close()
		return
	}
	p.idle[addr] = append(p.idle[addr], c)
}

// closeIdle closes every idle connection.
func (p *fastPool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.idle {
		for _, c := range l {
			_ = c.Close()
		}
		delete(p.idle, k)
	}
}

func (p *fastPool) dial(ctx context.Context, addr string, t *tracer) (*fastConn, error) {
	t.connectStart = time.Now()
	c, err := p.dialOnOwnStack(ctx, addr)
	t.connectDone = time.Now()
	if err != nil {
		return nil, err
	}
	return &fastConn{Conn: c, bytes: p.bytes, remote: c.RemoteAddr().String()}, nil
}

// dialOnOwnStack dials on a short-lived goroutine and waits for it. Dialing is the deepest
// call a VU makes (the resolver, the connect and the poller): done on the VU's goroutine, it
// doubles that goroutine's stack (8 KB → 16 KB) for every VU, for a call made once per
// connection. The goroutine ends when DialContext returns (ctx bounds it).
func (p *fastPool) dialOnOwnStack(ctx context.Context, addr string) (net.Conn, error) {
	type dialed struct {
		c   net.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := p.dialer.DialContext(ctx, "tcp", addr)
		ch <- dialed{c, err}
	}()
	d := <-ch
	return d.c, d.err
}

// reader returns the connection's read buffer, taking one from the pool if it has none.
func (c *fastConn) reader() *bufio.Reader {
	if c.br == nil {
		c.br = readerPool.Get().(*bufio.Reader)
		c.br.Reset(c)
	}
	return c.br
}

// releaseReader gives the read buffer back to the pool unless it holds unread bytes (which
// belong to the connection; a well-behaved server sends none between responses).
func (c *fastConn) releaseReader() {
	if c.br == nil || c.br.Buffered() > 0 {
		return
	}
	c.br.Reset(nil)
	readerPool.Put(c.br)
	c.br = nil
}

// Close closes the connection and drops its read buffer (back to the pool).
func (c *fastConn) Close() error {
	if c.br != nil {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	return c.Conn.Close()
}

// send writes and flushes the request through a pooled write buffer.
func (c *fastConn) send(hr *gohttp.Request, body []byte) error {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c)
	err := writeRequest(bw, hr, body)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writerPool.Put(bw)
	return err
}

// canFast reports whether u can use the fast path.
func canFast(u *url.URL) bool {
	if u.Scheme != "http" || u.User != nil {
		return false
	}
	if px, err := gohttp.ProxyFromEnvironment(&gohttp.Request{URL: u}); err != nil || px != nil {
		return false
	}
	return true
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

var longAgo = time.Unix(1, 0)

// roundTrip sends hr and reads the whole response body. It retries once on a fresh
// connection when a reused one turns out to be closed before any response byte.
func (p *fastPool) roundTrip(ctx context.Context, hr *gohttp.Request, body []byte, respType responseType, deadline time.Time, t *tracer) (*gohttp.Response, []byte, error) {
	addr := hostPort(hr.URL)
	for attempt := 0; ; attempt++ {
		c := p.get(addr)
		reused := c != nil
		if c == nil {
			var err error
			dctx, cancel := context.WithDeadline(ctx, deadline)
			c, err = p.dial(dctx, addr, t)
			cancel()
			if err != nil {
				return nil, nil, err
			}
		}
		t.gotConn = time.Now()
		t.remote = c.remote
		resp, data, err := p.exchange(ctx, c, hr, body, respType, deadline, t)
		if err != nil {
			_ = c.Close()
			if reused && attempt == 0 && c.firstByte.IsZero() && ctx.Err() == nil && retryable(err) {
				t.connectStart, t.connectDone = time.Time{}, time.Time{}
				continue
			}
			return nil, nil, err
		}
		if resp.Close {
			_ = c.Close()
		} else {
			p.put(addr, c)
		}
		return resp, data, nil
	}
}

func isConnReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		isConnReset(err)
}

func (p *fastPool) exchange(ctx context.Context, c *fastConn, hr *gohttp.Request, reqBody []byte, respType responseType, deadline time.Time, t *tracer) (*gohttp.Response, []byte, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(longAgo) })
	defer stop()
	c.firstByte, c.armed = time.Time{}, true
	if err := c.send(hr, reqBody); err != nil {
		return nil, nil, err
	}
	t.wrote = time.Now()
	defer c.releaseReader()
	resp, err := gohttp.ReadResponse(c.reader(), hr)
	if err != nil {
		return nil, nil, err
	}
	t.firstByte = c.firstByte
	if t.firstByte.IsZero() { // already buffered
		t.firstByte = time.Now()
	}
	var body []byte
	switch {
	case hr.Method == gohttp.MethodHead:
		body = []byte{}
	case respType == respNone:
		_, err = io.Copy(io.Discard, resp.Body)
	default:
		body, err = readAll(resp.Body, resp.ContentLength)
	}
	_ = resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// headerSafe replaces CR and LF in header values (no header injection from scripts).
var headerSafe = strings.NewReplacer("\r", " ", "\n", " ")

// bodyMethods always carry a Content-Length, even when empty.
func bodyMethod(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// writeRequest writes an HTTP/1.1 request: request line, Host, the headers, Content-Length
// (computed; a script's own is ignored) and the body.
func writeRequest(bw *bufio.Writer, hr *gohttp.Request, body []byte) error {
	bw.WriteString(hr.Method)
	bw.WriteByte(' ')
	bw.WriteString(hr.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(headerSafe.Replace(hr.Host))
	bw.WriteString("\r\n")
	for k, vs := range hr.Header {
		if k == "Host" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				v = headerSafe.Replace(v)
			}
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if body != nil || bodyMethod(hr.Method) {
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.Itoa(len(body)))
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
	_, err := bw.Write(body)
	return err
}
