// Package ws is the k6/ws module: ws.connect(url, params, fn) with k6's socket API (on, send,
// sendBinary, ping, setTimeout, setInterval, close), its built-in metrics (ws_sessions,
// ws_connecting, ws_msgs_sent, ws_msgs_received, ws_ping, ws_session_duration) and their
// tags (the VU's tags, group, scenario, url, status, subproto and the params' tags).
//
// ws.connect blocks the VU until the socket closes. It runs its own event loop on the VU
// goroutine: one reader goroutine per connection hands messages, pings, pongs and the close
// over a channel, and every JavaScript callback (handlers and socket timers) runs on the VU
// goroutine. Writes happen on the VU goroutine; control frames use WriteControl, which
// gorilla/websocket allows concurrently.
//
// Every wait of a session ends with the iteration's context (gracefulStop, SIGINT): the TCP
// dial, the upgrade handshake, a write to a server that does not read and the event loop.
// The dialled connection is closed when that context ends, so connect returns at once; an
// interrupted handshake returns null without the connection-failure warning.
package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
	k6 "github.com/pixelk6/pixelk6/js/modules/k6"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6/ws", Root{}) }

// Root is the k6/ws module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

func (m *instance) Exports() modules.Exports {
	named := map[string]any{"connect": m.connect}
	return modules.Exports{Default: named, Named: named}
}

// Timing constants of a session.
const (
	// handshakeTimeout bounds the TCP dial plus the upgrade.
	handshakeTimeout = 60 * time.Second
	// closeGrace is how long close() waits for the server's close frame before dropping the
	// connection.
	closeGrace = time.Second
)

// throwErr throws err in JS: a JS exception as itself, anything else as a GoError.
func throwErr(rt *goja.Runtime, err error) {
	var ex *goja.Exception
	var ie *goja.InterruptedError
	switch {
	case errors.As(err, &ie):
		panic(ie)
	case errors.As(err, &ex):
		panic(ex)
	}
	panic(rt.NewGoError(err))
}

// connect(url, [params], fn) opens the socket, runs fn(socket), fires 'open' and drives the
// socket until it closes. It returns k6's response object {url, status, headers, body,
// error}, or null (with a warning) when the connection cannot be made, as k6 does without
// its throw option.
func (m *instance) connect(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	st := m.vu.State()
	if st == nil {
		throwErr(rt, errors.New("using websockets in the init context is not supported"))
	}
	url := call.Argument(0).String()
	paramsV, fnV := call.Argument(1), call.Argument(2)
	if _, ok := goja.AssertFunction(paramsV); ok && goja.IsUndefined(fnV) {
		paramsV, fnV = goja.Undefined(), paramsV
	}
	setup, ok := goja.AssertFunction(fnV)
	if !ok {
		throwErr(rt, errors.New("ws.connect: the last argument must be a function"))
	}

	header := http.Header{}
	var tagsV goja.Value
	if !modules.IsNullish(paramsV) {
		p := paramsV.ToObject(rt)
		if h := p.Get("headers"); !modules.IsNullish(h) {
			ho := h.ToObject(rt)
			for _, k := range ho.Keys() {
				header.Set(k, ho.Get(k).String())
			}
		}
		tagsV = p.Get("tags")
	}
	if st.Options.UserAgent != "" && header.Get("User-Agent") == "" {
		header.Set("User-Agent", st.Options.UserAgent)
	}
	base := k6.TagsFromValue(rt, k6.SampleTags(st), tagsV).With("url", url)

	// ctx is the iteration's: when it ends (gracefulStop, SIGINT), the connection is closed
	// whatever it is blocked on — the TCP dial, the upgrade handshake (gorilla honours only
	// the context's deadline there, not its cancellation), a write to a server that does not
	// read, or the session loop.
	ctx := m.vu.Context()
	var unwatch func() bool // set on the VU goroutine inside DialContext
	defer func() {
		if unwatch != nil {
			unwatch()
		}
	}()
	start := time.Now()
	// The HTTP client's network and TLS options apply to WebSockets too (k6 shares them).
	dial, tlsConf := httpmod.NetConfig(st, urlHost(url))
	d := websocket.Dialer{
		HandshakeTimeout: handshakeTimeout,
		TLSClientConfig:  tlsConf,
		NetDialContext: func(dctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			unwatch = context.AfterFunc(ctx, func() { _ = c.Close() })
			if st.Bytes == nil {
				return c, nil
			}
			return &countingConn{Conn: c, b: st.Bytes}, nil
		},
	}
	conn, resp, err := d.DialContext(ctx, url, header)
	connecting := time.Since(start)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
			_ = resp.Body.Close()
		}
		if ctx.Err() != nil {
			// The iteration ended during the handshake: it is being interrupted, not failing.
			return goja.Null()
		}
		if st.Logger != nil {
			st.Logger.Log("warn", fmt.Sprintf("Ws Connection Failed: url=%s status=%d error=%q", url, status, err.Error()))
		}
		return goja.Null()
	}
	tags := base.With("status", strconv.Itoa(resp.StatusCode)).With("subproto", conn.Subprotocol())

	s := newSocket(m.vu, st, conn, tags)
	s.push([]metrics.Sample{
		{Metric: st.Builtin.WSSessions, Tags: tags, Time: start, Value: 1},
		{Metric: st.Builtin.WSConnecting, Tags: tags, Time: start, Value: ms(connecting)},
	})
	runErr := s.run(setup)
	s.push([]metrics.Sample{{Metric: st.Builtin.WSSessionDuration, Tags: tags, Time: start, Value: ms(time.Since(start))}})
	if runErr != nil {
		throwErr(rt, runErr)
	}

	res := rt.NewObject()
	_ = res.Set("url", url)
	_ = res.Set("status", resp.StatusCode)
	hdrs := rt.NewObject()
	for k, v := range resp.Header {
		if len(v) > 0 {
			_ = hdrs.Set(k, v[0])
		}
	}
	_ = res.Set("headers", hdrs)
	_ = res.Set("body", "")
	_ = res.Set("error", "")
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// countingConn adds a connection's traffic to the VU's byte counters.
type countingConn struct {
	net.Conn
	b *modules.ByteCounter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.b.Received.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.b.Sent.Add(int64(n))
	return n, err
}
