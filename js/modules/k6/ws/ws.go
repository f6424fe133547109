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
//
// Dialing, params (headers, tags, jar, compression), TLS, proxies and the connection
// samples are package wsconn's, shared with k6/websockets. A failed connection records
// ws_sessions and ws_connecting (status 0, or the refusing status) and returns a response
// object with status and error set, as k6 does; with options.throw it throws.
package ws

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/internal/wsconn"
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

	params, err := wsconn.ParseParams(rt, st, paramsV)
	if err != nil {
		throwErr(rt, fmt.Errorf("ws.connect: %w", err))
	}
	base := wsconn.BaseTags(rt, st, url, params)

	// ctx is the iteration's: when it ends (gracefulStop, SIGINT), the connection is closed
	// whatever it is blocked on (see wsconn.Dial).
	ctx := m.vu.Context()
	dialed, err := wsconn.Dial(ctx, st, url, params, base)
	defer dialed.Release()
	if err != nil {
		if ctx.Err() != nil {
			// The iteration ended during the handshake: it is being interrupted, not failing.
			return goja.Null()
		}
		// As k6: the attempt's samples, then the error thrown (options.throw) or a warning
		// and a response object with status 0 (or the refusing status) and error set.
		dialed.Push(ctx, st)
		if st.Options.Throw {
			throwErr(rt, err)
		}
		if st.Logger != nil {
			st.Logger.Log("warn", fmt.Sprintf("Attempt to establish a WebSocket connection failed: url=%s status=%d error=%q", url, dialed.Status(), err.Error()))
		}
		return response(rt, url, dialed.Resp, err.Error())
	}
	conn, resp, tags, start := dialed.Conn, dialed.Resp, dialed.Tags, dialed.Start

	s := newSocket(m.vu, st, conn, tags)
	s.push(dialed.ConnectSamples(st.Builtin))
	runErr := s.run(setup)
	s.push([]metrics.Sample{{Metric: st.Builtin.WSSessionDuration, Tags: tags, Time: start, Value: ms(time.Since(start))}})
	if runErr != nil {
		throwErr(rt, runErr)
	}

	return response(rt, url, resp, "")
}

// response is k6/ws's response object {url, status, headers, body, error}; resp may be nil
// (status 0).
func response(rt *goja.Runtime, url string, resp *http.Response, errMsg string) goja.Value {
	res := rt.NewObject()
	status := 0
	hdrs := rt.NewObject()
	if resp != nil {
		status = resp.StatusCode
		for k, v := range resp.Header {
			if len(v) > 0 {
				_ = hdrs.Set(k, strings.Join(v, ", "))
			}
		}
	}
	_ = res.Set("url", url)
	_ = res.Set("status", status)
	_ = res.Set("headers", hdrs)
	_ = res.Set("body", "")
	_ = res.Set("error", errMsg)
	return res
}

func ms(d time.Duration) float64 { return wsconn.Ms(d) }
