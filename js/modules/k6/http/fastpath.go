package http

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	gohttp "net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/pixelk6/pixelk6/js/modules"
)

// fastPool is a VU's HTTP/1.1 client for plain http:// URLs: the request is written and the
// response read on the calling goroutine, over keep-alive connections, without net/http's
// per-connection read and write goroutines (two goroutine hand-offs per request). It is what
// makes a no-sleep VU cheap; useFast sends the rest (https, proxies, --http-debug, Expect,
// methods net/http refuses) through net/http.
//
// It behaves as net/http's transport does, and differential_test.go holds it to that: the
// same bytes on the wire (header validation, Host, Content-Length, excluded headers), the
// same responses (1xx skipped, bytes beyond a response close the connection), the same
// replay rule on reused connections and the same errors. The result (response, timings,
// samples, error codes) is built by the code both clients share (result.complete).
// Safe for concurrent use (http.batch).
type fastPool struct {
	bytes  *modules.ByteCounter
	dialer contextDialer

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
	return newFastPoolDialer(bytes, &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
}

// newFastPoolDialer returns a pool whose connections d dials (see netDialer).
func newFastPoolDialer(bytes *modules.ByteCounter, d contextDialer) *fastPool {
	return &fastPool{bytes: bytes, dialer: d, idle: map[string][]*fastConn{}}
}

// contextDialer dials a connection (net.Dialer, netDialer).
type contextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// fastConn is one connection; firstByte is set by the first Read that returns data after
// arm. br is its read buffer while an exchange needs it (see readerPool).
type fastConn struct {
	net.Conn
	bytes *modules.ByteCounter
	br    *bufio.Reader
	armed bool
	// the state of the current exchange, for the retry rule (next to armed: no padding)
	sent       bool  // the whole request was written
	peekFailed bool  // reading the response's first byte failed
	written    int64 // bytes of the request written
	firstByte  time.Time
	remote     string
	idle       *idlePeek // checks the connection while idle (see fastPool.conn); made on first reuse
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
	c.written += int64(n)
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

// roundTrip sends hr and reads the response and its body, as net/http's transport would:
// resp is nil when the round trip failed (err is then what net/http's Client.Do would
// return: a *url.Error with the same message); otherwise err is the body's read error and
// body holds the bytes read. A request is replayed on another connection on net/http's rule
// (see retry).
func (p *fastPool) roundTrip(ctx context.Context, hr *gohttp.Request, body []byte, respType readRule, deadline time.Time, t *tracer) (*gohttp.Response, []byte, error) {
	addr := hostPort(hr.URL)
	replayable := isReplayable(hr)
	for {
		c, reused, err := p.conn(ctx, addr, deadline, t)
		if err != nil {
			return nil, nil, urlError(hr, err)
		}
		t.gotConn = time.Now()
		t.remote = c.remote
		resp, data, err := p.exchange(ctx, c, hr, body, respType, deadline, t)
		if err == nil && !resp.Close && c.br == nil {
			p.put(addr, c) // c.br != nil: bytes beyond the response, which net/http also refuses
		} else {
			_ = c.Close()
		}
		switch {
		case err == nil:
			return resp, data, nil
		case resp != nil: // the body failed
			return resp, data, deadlineError(ctx, err)
		case reused && c.retry(replayable) && ctx.Err() == nil && time.Now().Before(deadline):
			t.connectStart, t.connectDone = time.Time{}, time.Time{}
			continue
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = deadlineError(ctx, err)
		case c.written > 0 && !(c.sent && c.peekFailed):
			// part of the request went out, or part of the response came back, then the
			// connection failed: net/http calls it broken
			err = fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
		}
		return nil, nil, urlError(hr, err)
	}
}

// retry is net/http's rule for replaying a request that failed on a reused connection
// (Transport's shouldRetryRequest): when nothing of it was written (the body is in memory,
// so it can always be sent again), or when it is replayable and the connection failed
// before the first byte of a response (the server closed a kept-alive connection as the
// request went out).
func (c *fastConn) retry(replayable bool) bool {
	return c.written == 0 || replayable && c.sent && c.peekFailed
}

// isReplayable is net/http's Request.isReplayable for a body held in memory: an idempotent
// method, or a request marked idempotent by an Idempotency-Key header.
func isReplayable(hr *gohttp.Request) bool {
	switch hr.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, k := hr.Header["Idempotency-Key"]
	_, x := hr.Header["X-Idempotency-Key"]
	return k || x
}

// urlError wraps a failed round trip as net/http's Client.Do does.
func urlError(hr *gohttp.Request, err error) error {
	op := hr.Method[:1] + strings.ToLower(hr.Method[1:])
	return &url.Error{Op: op, URL: hr.URL.String(), Err: err}
}

// deadlineError turns the connection deadline's error into the context error net/http
// reports: the request's own timeout (context.DeadlineExceeded) or the VU's end.
func deadlineError(ctx context.Context, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return context.DeadlineExceeded
}

// conn returns an idle connection to addr or dials one. An idle connection that the server
// has closed, or that holds bytes nobody asked for, is dropped first, as net/http's reader
// goroutine would have dropped it: a request that cannot be replayed would fail on it, and
// a request that can would take those bytes for its response.
func (p *fastPool) conn(ctx context.Context, addr string, deadline time.Time, t *tracer) (c *fastConn, reused bool, err error) {
	for {
		c = p.get(addr)
		if c == nil {
			break
		}
		if c.idle == nil {
			c.idle = new(idlePeek)
		}
		if !c.idle.closed(c.Conn) {
			return c, true, nil
		}
		_ = c.Close()
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err = p.dial(dctx, addr, t)
	return c, false, err
}

func (p *fastPool) exchange(ctx context.Context, c *fastConn, hr *gohttp.Request, reqBody []byte, respType readRule, deadline time.Time, t *tracer) (*gohttp.Response, []byte, error) {
	c.written, c.sent, c.peekFailed = 0, false, false
	if err := c.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(longAgo) })
	defer stop()
	c.firstByte, c.armed = time.Time{}, true
	if err := c.send(hr, reqBody); err != nil {
		return nil, nil, err
	}
	c.sent = true
	t.wrote = time.Now()
	defer c.releaseReader()
	br := c.reader()
	if _, err := br.Peek(1); err != nil {
		c.peekFailed = true
		return nil, nil, err
	}
	t.firstByte = c.firstByte
	if t.firstByte.IsZero() { // already buffered
		t.firstByte = time.Now()
	}
	var resp *gohttp.Response
	for {
		var err error
		if resp, err = gohttp.ReadResponse(br, hr); err != nil {
			return nil, nil, err
		}
		// Informational responses (100 Continue, 103 Early Hints) precede the response, as
		// net/http reads them; 101 ends the exchange.
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == gohttp.StatusSwitchingProtocols {
			break
		}
	}
	body, err := readBody(resp, hr.Method, respType)
	if err != nil && isBodyTooLarge(err) {
		// Truncated at the limit: the rest is not read (Close would drain it, without end
		// for an endless body), so the connection is done.
		_ = c.SetDeadline(longAgo)
	}
	_ = resp.Body.Close()
	return resp, body, err
}

// bodyMethod reports whether a request of method carries a Content-Length even when it has
// no body (net/http's rule).
func bodyMethod(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// validateHeader checks hr's header as net/http's transport does before sending, with the
// same error.
func validateHeader(h gohttp.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("net/http: invalid header field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("net/http: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// excludedHeaders are the header keys net/http does not copy from a request's header: it
// writes Host and User-Agent itself, computes Content-Length and never sends a script's
// Transfer-Encoding or Trailer.
func excludedHeader(k string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// writeRequest writes an HTTP/1.1 request as net/http writes it (header values validated
// first: see validateHeader): request line, Host, User-Agent, Content-Length (computed; a
// script's own is ignored), the other headers with values trimmed, and the body.
func writeRequest(bw *bufio.Writer, hr *gohttp.Request, body []byte) error {
	host := hr.Host
	if host == "" {
		host = hr.URL.Host
	}
	host, err := httpguts.PunycodeHostPort(host)
	if err != nil {
		return err
	}
	if !httpguts.ValidHostHeader(host) {
		host = "" // as net/http without a proxy: an invalid Host is not sent
	}
	bw.WriteString(hr.Method)
	bw.WriteByte(' ')
	bw.WriteString(hr.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	if ua := textproto.TrimString(hr.Header.Get("User-Agent")); ua != "" {
		bw.WriteString("User-Agent: ")
		bw.WriteString(ua)
		bw.WriteString("\r\n")
	}
	if len(body) > 0 || bodyMethod(hr.Method) {
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.Itoa(len(body)))
		bw.WriteString("\r\n")
	}
	for k, vs := range hr.Header {
		if excludedHeader(k) {
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(textproto.TrimString(v))
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	_, err = bw.Write(body)
	return err
}
