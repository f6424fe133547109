package stream

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// errBadHandshake: the server answered the upgrade request with something other than a
// valid 101 Switching Protocols.
var errBadHandshake = errors.New("bad handshake")

// handshake is an opened WebSocket connection, before the loop takes it over.
type handshake struct {
	conn     net.Conn
	buffered []byte // bytes the server sent after its 101 response, already read
	resp     *http.Response
}

// forbiddenHeaders are set by the handshake itself; a caller's value would make a second one.
var forbiddenHeaders = []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"}

// openWebSocket dials rawURL (ws:// or wss://) and performs the opening handshake of RFC
// 6455 section 4.1, all within ctx. The response is returned with the error when the server
// answered but refused the upgrade. sent and recv, when set, count the handshake's bytes.
func openWebSocket(ctx context.Context, rawURL string, header http.Header, subprotocols []string, sent, recv *atomic.Int64) (*handshake, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	var useTLS bool
	switch u.Scheme {
	case "ws":
	case "wss":
		useTLS = true
	default:
		return nil, fmt.Errorf("malformed ws or wss URL %q: scheme %q", rawURL, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("user information in the URL %q is not supported", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if useTLS {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	for _, h := range forbiddenHeaders {
		if _, ok := header[h]; ok {
			return nil, fmt.Errorf("header %s is set by the WebSocket handshake and may not be given", h)
		}
	}

	// No TCP keep-alive: a session is short, and enabling it costs system calls per
	// connection.
	d := net.Dialer{KeepAlive: -1}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = nc.Close()
		}
	}()
	// The exchange below obeys ctx: its deadline, and its end.
	if dl, has := ctx.Deadline(); has {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if useTLS {
		tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		nc = tc
	}

	var keyBytes [16]byte
	_, _ = rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	host := u.Host
	if h := header.Get("Host"); h != "" {
		host = h
	}
	var b strings.Builder
	b.WriteString("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n")
	if len(subprotocols) > 0 {
		b.WriteString("Sec-WebSocket-Protocol: " + strings.Join(subprotocols, ", ") + "\r\n")
	}
	for k, vs := range header {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue
		}
		for _, v := range vs {
			if strings.ContainsAny(k+v, "\r\n") {
				return nil, fmt.Errorf("header %q: line breaks are not allowed", k)
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		return nil, err
	}
	add(sent, b.Len())

	cr := &countingReader{r: nc}
	br := bufio.NewReaderSize(cr, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		add(recv, int(cr.n))
		return nil, err
	}
	h := &handshake{resp: resp}
	if err := checkUpgrade(resp, key, subprotocols); err != nil {
		add(recv, int(cr.n)-br.Buffered())
		return h, err
	}
	if n := br.Buffered(); n > 0 {
		h.buffered, _ = br.Peek(n)
		h.buffered = append([]byte(nil), h.buffered...)
	}
	add(recv, int(cr.n)-len(h.buffered)) // the buffered bytes are counted when delivered
	_ = nc.SetDeadline(time.Time{})
	if !stop() {
		return nil, context.Cause(ctx) // ctx ended just now; its deadline may be set
	}
	h.conn = nc
	ok = true
	return h, nil
}

// checkUpgrade validates a server's answer to the upgrade request.
func checkUpgrade(resp *http.Response, key string, subprotocols []string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("%w: HTTP %d", errBadHandshake, resp.StatusCode)
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") || !headerHasToken(resp.Header, "Connection", "upgrade") {
		return fmt.Errorf("%w: 101 without Upgrade: websocket and Connection: upgrade", errBadHandshake)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return fmt.Errorf("%w: Sec-WebSocket-Accept %q, want %q", errBadHandshake, got, want)
	}
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		found := false
		for _, s := range subprotocols {
			found = found || s == p
		}
		if !found {
			return fmt.Errorf("%w: the server chose subprotocol %q, which was not offered", errBadHandshake, p)
		}
	}
	if e := resp.Header.Get("Sec-WebSocket-Extensions"); e != "" {
		return fmt.Errorf("%w: the server chose extensions %q, which were not offered", errBadHandshake, e)
	}
	return nil
}

// acceptKey is the Sec-WebSocket-Accept value for a key (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma-separated header holds token (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func add(c *atomic.Int64, n int) {
	if c != nil && n > 0 {
		c.Add(int64(n))
	}
}
