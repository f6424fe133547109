// Package wsconn owns what k6's two WebSocket modules (k6/ws and k6/websockets) share: the
// connection parameters (params.headers, tags, jar, compression), the dial (the VU's network
// and TLS options as k6/http has them — hosts, blockHostnames, blacklistIPs, dns,
// --local-ips, insecureSkipTLSVerify, tlsVersion, tlsCipherSuites, tlsAuth — plus proxies
// from the environment, the VU's cookie jar and permessage-deflate), the byte counting for
// data_sent / data_received, the sample tags (url, status, subproto over the VU's tags and
// params.tags) and the samples of a connection attempt (ws_sessions, ws_connecting).
package wsconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
	k6 "github.com/pixelk6/pixelk6/js/modules/k6"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/metrics"
)

// HandshakeTimeout bounds the TCP dial plus the upgrade.
const HandshakeTimeout = 60 * time.Second

// Params are k6's WebSocket connection parameters, read from a JavaScript params object.
type Params struct {
	// Header is sent with the upgrade request (params.headers, plus the userAgent option).
	Header http.Header
	// Tags are params.tags (nil: none).
	Tags goja.Value
	// Jar sends its cookies with the upgrade request and stores the response's (params.jar;
	// nil: the VU's jar).
	Jar http.CookieJar
	// Compression asks the server for permessage-deflate (params.compression "deflate").
	Compression bool
	// Subprotocols are offered in Sec-WebSocket-Protocol (k6/websockets' protocols).
	Subprotocols []string
	// NonBlocking puts an Outbox under the connection (Conn.Out): its writes never block.
	NonBlocking bool
}

// paramKeys are the keys of a params object either module accepts.
var paramKeys = map[string]bool{"headers": true, "tags": true, "jar": true, "compression": true}

// ParseParams reads a params object (undefined or null: none). An unknown key, a jar that
// is not a CookieJar or a compression other than "deflate" is an error naming it.
func ParseParams(rt *goja.Runtime, st *modules.State, v goja.Value) (Params, error) {
	p := Params{Header: http.Header{}}
	if !modules.IsNullish(v) {
		o := v.ToObject(rt)
		for _, k := range o.Keys() {
			if !paramKeys[k] {
				return p, fmt.Errorf("params.%s is not supported (supported: compression, headers, jar, tags)", k)
			}
		}
		if h := o.Get("headers"); !modules.IsNullish(h) {
			ho := h.ToObject(rt)
			for _, k := range ho.Keys() {
				p.Header.Set(k, ho.Get(k).String())
			}
		}
		p.Tags = o.Get("tags")
		if j := o.Get("jar"); !modules.IsNullish(j) {
			jar, ok := httpmod.JarOf(j.Export())
			if !ok {
				return p, fmt.Errorf("params.jar must be a CookieJar (http.cookieJar() or new http.CookieJar()), got %s", j.String())
			}
			p.Jar = jar
		}
		if c := o.Get("compression"); !modules.IsNullish(c) && c.String() != "" {
			if c.String() != "deflate" {
				return p, fmt.Errorf("params.compression %q is not supported: the only algorithm is \"deflate\"", c.String())
			}
			p.Compression = true
		}
	}
	if p.Jar == nil && st.HTTPClient != nil {
		if st.HTTPClient.Jar == nil {
			st.HTTPClient.Jar = httpmod.NewJar()
		}
		p.Jar = st.HTTPClient.Jar
	}
	if st.Options.UserAgent != "" && p.Header.Get("User-Agent") == "" {
		p.Header.Set("User-Agent", st.Options.UserAgent)
	}
	return p, nil
}

// BaseTags are the tags of a connection's samples before the upgrade answers: the VU's
// (scenario, group, options.tags ...), params.tags and url.
func BaseTags(rt *goja.Runtime, st *modules.State, rawURL string, p Params) metrics.TagSet {
	return modules.WithSystemTag(st, k6.TagsFromValue(rt, k6.SampleTags(st), p.Tags), "url", rawURL)
}

// Conn is a dialled (or failed) connection attempt.
type Conn struct {
	// Conn is the connection; nil when the dial failed.
	*websocket.Conn
	// Resp is the upgrade response (nil when none arrived); its body is closed.
	Resp *http.Response
	// Start is when the dial started; Connecting how long it took.
	Start      time.Time
	Connecting time.Duration
	// Tags are the connection's sample tags: the base tags plus status (0 when no response
	// arrived) and subproto.
	Tags metrics.TagSet
	// Out is the Outbox under the connection (Params.NonBlocking; nil otherwise).
	Out *Outbox

	unwatch func() bool
}

// Status is the upgrade response's status code (101 when connected; 0 without a response).
func (c *Conn) Status() int {
	if c.Resp == nil {
		return 0
	}
	return c.Resp.StatusCode
}

// Release stops closing the connection when the dial's context ends; call it once the
// session is over.
func (c *Conn) Release() {
	if c.unwatch != nil {
		c.unwatch()
	}
}

// ConnectSamples are ws_sessions and ws_connecting of the attempt, as k6 records them for a
// connection and for a failed attempt alike (at Start, with Tags).
func (c *Conn) ConnectSamples(b *metrics.Builtin) []metrics.Sample {
	return []metrics.Sample{
		{Metric: b.WSSessions, Tags: c.Tags, Time: c.Start, Value: 1},
		{Metric: b.WSConnecting, Tags: c.Tags, Time: c.Start, Value: Ms(c.Connecting)},
	}
}

// Dial connects to rawURL with p and the VU's network options. The connection is closed
// when ctx ends, whatever it is blocked on (the TCP dial, the upgrade — gorilla honours only
// the context's deadline there —, a write to a server that does not read, a read), until
// Release. It returns the attempt (with its tags) and the dial's error, if any.
func Dial(ctx context.Context, st *modules.State, rawURL string, p Params, base metrics.TagSet) (*Conn, error) {
	c := &Conn{Start: time.Now()}
	dial, tlsConf := httpmod.NetConfig(st, host(rawURL))
	// The upgrade is an HTTP/1.1 request: never offer h2 in ALPN.
	tlsConf.NextProtos = []string{"http/1.1"}
	d := websocket.Dialer{
		HandshakeTimeout:  HandshakeTimeout,
		TLSClientConfig:   tlsConf,
		Proxy:             http.ProxyFromEnvironment,
		Jar:               p.Jar,
		EnableCompression: p.Compression,
		Subprotocols:      p.Subprotocols,
		WriteBufferPool:   writeBuffers,
		NetDialContext: func(dctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			if c.unwatch != nil { // a proxy's second dial: keep watching the last one
				c.unwatch()
			}
			c.unwatch = context.AfterFunc(ctx, func() { _ = nc.Close() })
			if p.NonBlocking {
				c.Out = NewOutbox(nc)
				nc = c.Out
			}
			if st.Bytes == nil {
				return nc, nil
			}
			return &CountingConn{Conn: nc, B: st.Bytes}, nil
		},
	}
	conn, resp, err := d.DialContext(ctx, rawURL, p.Header)
	c.Connecting = time.Since(c.Start)
	c.Conn, c.Resp = conn, resp
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	subproto := ""
	if conn != nil {
		subproto = conn.Subprotocol()
	}
	c.Tags = modules.WithSystemTag(st, modules.WithSystemTag(st, base, "status", strconv.Itoa(c.Status())), "subproto", subproto)
	if err != nil {
		c.Release()
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			err = fmt.Errorf("websocket: bad handshake: the server answered %s", resp.Status)
		}
		return c, err
	}
	return c, nil
}

// writeBuffers are gorilla's write buffers, shared by every connection: a connection takes
// one for each message it writes through gorilla's writer instead of holding its own 4 KiB
// for its whole life (k6/websockets writes most frames itself, see its package doc).
var writeBuffers = &sync.Pool{}

// host is the host name of a ws:// or wss:// URL ("" when it does not parse: the dial
// reports the error).
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Ms is d in (fractional) milliseconds, the unit of k6's time metrics.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// CountingConn adds a connection's traffic to the VU's byte counters.
type CountingConn struct {
	net.Conn
	B *modules.ByteCounter
}

func (c *CountingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.B.Received.Add(int64(n))
	return n, err
}

func (c *CountingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.B.Sent.Add(int64(n))
	return n, err
}

// Push pushes ConnectSamples unless ctx has ended.
func (c *Conn) Push(ctx context.Context, st *modules.State) {
	if ctx.Err() != nil || st.Samples == nil {
		return
	}
	st.Samples.Push(ctx, c.ConnectSamples(st.Builtin))
}
