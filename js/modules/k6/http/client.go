package http

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	gohttp "net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// DefaultUserAgent is sent when the options set no user agent.
const DefaultUserAgent = "pixelk6/0.1 (https://github.com/pixelk6/pixelk6)"

// DefaultTimeout is a request's timeout when params.timeout is not set (k6's 60 s).
const DefaultTimeout = 60 * time.Second

// NewClient returns a VU's own HTTP client: its own connection pool (keep-alive, many idle
// connections per host), network bytes counted into st.Bytes, TLS and dialing as the
// options say (see newClientConfig), a cookie jar, and no automatic redirects (the module
// follows them itself, to measure every hop like k6).
func NewClient(st *modules.State) *gohttp.Client {
	cfg := newClientConfig(st.Options, st.VUID)
	counter := st.Bytes
	return &gohttp.Client{
		Transport:     &vuTransport{newTransport: func() *gohttp.Transport { return newTransport(counter, cfg) }, fast: newFastPoolDialer(counter, cfg.dialer)},
		Jar:           NewJar(),
		CheckRedirect: func(*gohttp.Request, []*gohttp.Request) error { return gohttp.ErrUseLastResponse },
	}
}

// newTransport returns the net/http transport of a VU (https, proxies, --http-debug).
func newTransport(counter *modules.ByteCounter, cfg clientConfig) *gohttp.Transport {
	tr := &gohttp.Transport{
		Proxy: gohttp.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := cfg.dialer.DialContext(ctx, network, addr)
			if err != nil || counter == nil {
				return c, err
			}
			return &countingConn{Conn: c, n: counter}, nil
		},
		TLSClientConfig:       cfg.tls,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   1000,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		DisableKeepAlives:     cfg.noReuse,
	}
	cfg.addClientCerts(tr)
	return tr
}

// vuTransport is a VU's net/http transport plus its fast HTTP/1.1 pool (see fastPool). The
// net/http transport is made on first use: a VU that only sends plain http:// requests
// never needs it (about 1 KB per VU).
type vuTransport struct {
	newTransport func() *gohttp.Transport
	fast         *fastPool

	mu sync.Mutex
	tr *gohttp.Transport
}

// transport returns the net/http transport, making it on first use (when create is set).
func (t *vuTransport) transport(create bool) *gohttp.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tr == nil && create {
		t.tr = t.newTransport()
	}
	return t.tr
}

// RoundTrip implements net/http.RoundTripper over the net/http transport.
func (t *vuTransport) RoundTrip(req *gohttp.Request) (*gohttp.Response, error) {
	return t.transport(true).RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both.
func (t *vuTransport) CloseIdleConnections() {
	if tr := t.transport(false); tr != nil {
		tr.CloseIdleConnections()
	}
	t.fast.closeIdle()
}

// NewJar returns an empty cookie jar.
func NewJar() gohttp.CookieJar {
	jar, _ := cookiejar.New(nil) // never fails without options
	return jar
}

// countingConn adds the bytes read and written to a ByteCounter.
type countingConn struct {
	net.Conn
	n *modules.ByteCounter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Received.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Sent.Add(int64(n))
	return n, err
}

// k6's error codes (https://grafana.com/docs/k6/latest/javascript-api/error-codes/).
const (
	codeGeneric          = 1000
	codeNonTCP           = 1010
	codeInvalidURL       = 1020
	codeRequestTimeout   = 1050
	codeDNS              = 1100
	codeDNSNoIP          = 1101
	codeTCP              = 1200
	codeBrokenPipe       = 1201
	codeTCPWaiting       = 1202
	codeTCPDial          = 1210
	codeDialTimeout      = 1211
	codeDialRefused      = 1212
	codeConnReset        = 1220
	codeTLS              = 1300
	codeTLSUnknownAuth   = 1310
	codeTLSHostMismatch  = 1311
	codeHTTPStatusOffset = 1000 // 4xx/5xx → 1000 + status
)

// classifyError maps a request error to k6's error code and short message.
func classifyError(err error) (int, string) {
	var (
		urlErr  *url.Error
		dnsErr  *net.DNSError
		opErr   *net.OpError
		unkAuth x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
		coded   *codedError
	)
	switch {
	case errors.As(err, &coded):
		return coded.code, coded.msg
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return codeDialTimeout, "dial: i/o timeout"
		}
		return codeRequestTimeout, "request timeout"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return codeDNSNoIP, "lookup: no such host"
		}
		return codeDNS, "lookup: " + dnsErr.Err
	case errors.As(err, &unkAuth):
		return codeTLSUnknownAuth, "x509: certificate signed by unknown authority"
	case errors.As(err, &hostErr):
		return codeTLSHostMismatch, "x509: certificate is not valid for the host"
	case errors.As(err, &recErr):
		return codeTLS, "tls: " + recErr.Msg
	case errors.Is(err, syscall.ECONNREFUSED):
		return codeDialRefused, "dial: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return codeConnReset, "read: connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		return codeBrokenPipe, "write: broken pipe"
	case errors.As(err, &opErr):
		if opErr.Op == "dial" {
			if opErr.Timeout() {
				return codeDialTimeout, "dial: i/o timeout"
			}
			return codeTCPDial, "dial: " + opErr.Err.Error()
		}
		if opErr.Net != "tcp" && opErr.Net != "tcp4" && opErr.Net != "tcp6" {
			return codeNonTCP, opErr.Error()
		}
		if opErr.Op == "read" {
			return codeTCPWaiting, "read: " + opErr.Err.Error()
		}
		return codeTCP, opErr.Op + ": " + opErr.Err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return codeTCP, "unexpected EOF"
	case errors.As(err, &urlErr):
		return codeGeneric, urlErr.Err.Error()
	}
	return codeGeneric, err.Error()
}
