// Package websockets is the k6/websockets module: the browser's WebSocket API as k6 has it.
//
//	new WebSocket(url, protocols, params)
//
// url is ws:// or wss://; protocols a string or an array of subprotocols to offer (or
// null); params k6's Params (headers, tags, jar, compression "deflate"). An instance has
// readyState (CONNECTING 0, OPEN 1, CLOSING 2, CLOSED 3, also static on WebSocket), url,
// protocol, extensions, bufferedAmount, binaryType ("blob", the default, or "arraybuffer"),
// the handlers onopen, onmessage, onerror, onclose, onping, onpong, addEventListener and
// removeEventListener, send(string | ArrayBuffer | typed array | DataView | Blob), ping()
// and close([code], [reason]). The module also exports Blob (new Blob(parts, {type}), size,
// type, text(), arrayBuffer(), bytes(), slice()).
//
// Many sockets may be open on one VU. All of them run on the VU's event loop: the
// constructor returns at once, every callback runs on the VU's goroutine, and the
// iteration ends when every socket it opened is closed (each socket holds a reservation on
// the loop until its close event has run). A handler that throws ends the iteration with
// its exception and closes the VU's sockets; the iteration's end (gracefulStop, SIGINT)
// closes them too.
//
// Each socket dials on a goroutine of its own. Once open, a plain ws:// socket with no
// extension and nothing buffered past the handshake moves onto one of the test run's event
// loops (internal/evloop's shared loops, loopconn.go): the loop reads and parses its frames
// (internal/wsframe) and writes what the VU hands it, and the socket has no goroutine left.
// Any other socket (wss://, permessage-deflate) keeps its goroutine as gorilla's reader, and
// its sends go from the VU's goroutine through the connection's wsconn.Outbox. Either way,
// events reach the VU through a bounded queue (maxQueued): when the script falls behind,
// reading stops and TCP pushes back on the server; sends leave when the loop task that made
// them ends, as browsers transmit after the task, and never block the VU. bufferedAmount
// counts the payload bytes sent and not yet handed to the kernel (within a task it never
// drops). The socket's two reservations on the VU's loop (its events, its sends at the end
// of a task) are lasting slots (modules.VU's HoldCallback), released when it closes.
//
// Metrics and tags are k6's: ws_sessions and ws_connecting when the connection is made (or
// fails), ws_msgs_sent per send, ws_msgs_received per message, ws_ping per pong answering a
// ping(), ws_session_duration at the close, and data_sent / data_received through the VU's
// byte counters; tags are the VU's, params.tags, url, status and subproto. Dialing, params
// and the connection samples are package wsconn's, shared with k6/ws.
package websockets

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/internal/wsconn"
)

func init() { modules.Register("k6/websockets", Root{}) }

// Root is the k6/websockets module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance {
	return &instance{vu: vu, blobKey: goja.NewSymbol("blob"), socketKey: goja.NewSymbol("socket"), sockets: map[*socket]struct{}{}}
}

// Ready states.
const (
	connecting = 0
	open       = 1
	closing    = 2
	closed     = 3
)

// Timing and queueing constants of a socket.
const (
	// closeGrace is how long close() waits for the server's close frame before dropping the
	// connection.
	closeGrace = time.Second
	// controlWait bounds the write of a control frame (ping, pong).
	controlWait = time.Second
	// maxQueued is how many received events may wait for the VU's loop before the reader
	// stops reading (backpressure onto the server).
	maxQueued = 32
	// maxReadBuffer is the largest read buffer a socket's reader keeps between messages.
	maxReadBuffer = 64 << 10
)

type instance struct {
	vu      modules.VU
	blobKey *goja.Symbol
	// socketKey is the hidden key of a WebSocket object's socket (see prototype); lastObj
	// and lastSocket are the last one found (a VU's calls are mostly on one socket).
	socketKey  *goja.Symbol
	lastObj    *goja.Object
	lastSocket *socket
	blobCtl    *goja.Object // the Blob constructor

	// names are event type names as JS values, made once.
	names map[string]goja.Value

	// sockets are the VU's sockets not yet closed in ctx, the iteration they were opened in.
	sockets map[*socket]struct{}
	ctx     context.Context
}

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	ws := rt.ToValue(m.newWebSocket).ToObject(rt)
	m.prototype(ws.Get("prototype").ToObject(rt))
	for name, v := range map[string]int{"CONNECTING": connecting, "OPEN": open, "CLOSING": closing, "CLOSED": closed} {
		_ = ws.DefineDataProperty(name, rt.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	m.blobCtl = rt.ToValue(m.newBlobCall).ToObject(rt)
	named := map[string]any{"WebSocket": ws, "Blob": m.blobCtl}
	return modules.Exports{Default: named, Named: named}
}

// name returns the JS string of an event type name.
func (m *instance) name(ev string) goja.Value {
	v, ok := m.names[ev]
	if !ok {
		if m.names == nil {
			m.names = map[string]goja.Value{}
		}
		v = m.vu.Runtime().ToValue(ev)
		m.names[ev] = v
	}
	return v
}

// domError throws a DOMException-like error (name is InvalidStateError, SyntaxError, ...).
func domError(rt *goja.Runtime, name, msg string) {
	e := rt.NewGoError(errors.New(msg))
	_ = e.Set("name", name)
	panic(e)
}

// newWebSocket is `new WebSocket(url, protocols, params)`.
func (m *instance) newWebSocket(call goja.ConstructorCall) *goja.Object {
	rt := m.vu.Runtime()
	st := m.vu.State()
	if st == nil {
		panic(rt.NewGoError(errors.New("using websockets in the init context is not supported")))
	}
	raw := call.Argument(0).String()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		domError(rt, "SyntaxError", fmt.Sprintf("WebSocket: invalid URL %q: want ws:// or wss://", raw))
	}
	if u.Fragment != "" {
		domError(rt, "SyntaxError", fmt.Sprintf("WebSocket: URL %q has a fragment", raw))
	}
	protocols := subprotocols(rt, call.Argument(1))
	params, err := wsconn.ParseParams(rt, st, call.Argument(2))
	if err != nil {
		panic(rt.NewGoError(fmt.Errorf("WebSocket: %w", err)))
	}
	params.Subprotocols = protocols
	params.NonBlocking = true

	ctx := m.vu.Context()
	if ctx != m.ctx { // a new iteration: the last one's sockets are gone with its context
		m.ctx = ctx
		clear(m.sockets)
	}
	s := newSocket(m, st, call.This, raw, params)
	m.sockets[s] = struct{}{}
	s.start(ctx)
	return nil
}

// subprotocols reads the protocols argument: undefined, null, a string or an array of them.
func subprotocols(rt *goja.Runtime, v goja.Value) []string {
	if modules.IsNullish(v) {
		return nil
	}
	var list []string
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		if err := rt.ExportTo(v, &list); err != nil {
			domError(rt, "SyntaxError", "WebSocket: protocols must be a string or an array of strings")
		}
	} else {
		list = []string{v.String()}
	}
	seen := map[string]bool{}
	for _, p := range list {
		if p == "" || seen[p] {
			domError(rt, "SyntaxError", fmt.Sprintf("WebSocket: protocol %q is empty or repeated", p))
		}
		seen[p] = true
	}
	return list
}

// closeAll closes every socket of the VU at once, without events (a handler threw: the
// iteration ends with its exception).
func (m *instance) closeAll() {
	for s := range m.sockets {
		s.shutdown()
		s.release()
	}
	clear(m.sockets)
}
