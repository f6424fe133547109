package websockets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/wsframe"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/eventloop"
	"github.com/pixelk6/pixelk6/js/modules/k6/internal/wsconn"
	"github.com/pixelk6/pixelk6/metrics"
)

type eventKind uint8

const (
	evOpen       eventKind = iota // the upgrade succeeded (conn)
	evDialFailed                  // the upgrade failed (conn, err)
	evText                        // a text message
	evBinary                      // a binary message
	evPing                        // the server pinged (the reader already answered)
	evPong                        // the server answered a ping
	evClosed                      // the connection ended; the reader has returned
)

// event is what a socket's reader goroutine hands to the VU's loop.
type event struct {
	kind   eventKind
	text   string // evText
	data   []byte // evBinary, evPing, evPong
	at     time.Time
	conn   *wsconn.Conn // evOpen, evDialFailed
	code   int          // evClosed
	reason string       // evClosed
	clean  bool         // evClosed: a close frame was received
	err    error        // evDialFailed, evClosed (an abnormal end)
}

// frame is a message sent during the current loop task: a text message keeps the script's
// string (written to the connection without a copy of its own), a binary one its bytes.
type frame struct {
	kind int // websocket.TextMessage or BinaryMessage
	text string
	data []byte
}

// appendTo appends f as one masked frame (internal/wsframe), with the next key of keys.
func (f frame) appendTo(b []byte, keys *wsframe.KeySource) []byte {
	if f.kind == websocket.TextMessage {
		return wsframe.AppendTextFrame(b, f.text, true, keys.Next())
	}
	return wsframe.AppendFrame(b, wsframe.OpBinary, f.data, true, keys.Next())
}

// size is the frame's payload length (what bufferedAmount counts).
func (f frame) size() int64 { return int64(len(f.text) + len(f.data)) }

// inflight is a message written to the connection's Outbox and not all taken by the
// kernel yet: its bytes end at end in the Outbox's stream.
type inflight struct {
	end  int64
	size int64
}

// listener is an event listener; attr marks the one an on<event> attribute set.
type listener struct {
	fn   goja.Callable
	val  goja.Value // the function as given (removeEventListener compares it)
	attr bool
}

// socket is one WebSocket. Fields without a comment are used on the VU goroutine only.
type socket struct {
	m    *instance
	rt   *goja.Runtime
	st   *modules.State
	ctx  context.Context
	obj  *goja.Object
	url  string
	urlV goja.Value // url as a JS value (every message event's origin)
	par  wsconn.Params
	conn *wsconn.Conn // set by the open (or failed) event

	readyState  int
	binaryType  string
	protocol    string
	extensions  string
	listeners   map[string][]listener
	pings       map[string]time.Time
	pingSeq     int
	closeCode   int    // close() asked for it (also while connecting)
	closeReason string // ditto
	closeAsked  bool
	closeTimer  *time.Timer
	unwatch     func() bool // stops the context's shutdown

	// events carries the reader's events to the loop (bounded: backpressure).
	events   chan event
	stop     chan struct{} // closed by shutdown: the reader gives up
	stopOnce sync.Once

	// The socket's lasting reservations on the VU's loop, from start to finish: drain
	// runs the reader's events, flush writes what a task sent once the task has ended.
	drainSlot, flushSlot *eventloop.Slot

	// lc runs the connection on an event loop once it is open, when it can (loopconn.go);
	// nil: gorilla's reader goroutine reads it. plain is a ws:// (not TLS) socket.
	lc    atomic.Pointer[loopConn]
	plain bool

	// mu guards live and stopped.
	mu      sync.Mutex
	live    *websocket.Conn // the connection once dialled, for shutdown to close
	stopped bool            // shutdown has run

	// Sending (VU goroutine only). held are the frames sent during the current loop task:
	// they are written when the task ends (flushHeld, queued on the loop by the task's first
	// send), as browsers transmit after the task, so a script reads them in bufferedAmount
	// for the rest of its task. Written, they go through the connection's Outbox, which
	// never blocks; inflight are those it has not handed to the kernel yet. buffered is the
	// payload bytes of both (bufferedAmount).
	held    []frame
	holding bool
	// direct: no extension was negotiated, so data frames are framed here (wsframe) and
	// written to the connection in one write, without gorilla's writer; keys masks them
	// and wbuf holds the frame being written.
	direct   bool
	keys     *wsframe.KeySource
	wbuf     []byte
	inflight []inflight
	buffered int64
	writeErr bool // a write failed: the connection is going, later sends are dropped
	one      [1]metrics.Sample
}

func newSocket(m *instance, st *modules.State, obj *goja.Object, url string, par wsconn.Params) *socket {
	s := &socket{
		m: m, rt: m.vu.Runtime(), st: st, obj: obj, url: url, par: par,
		binaryType: "blob", listeners: map[string][]listener{}, pings: map[string]time.Time{},
		events: make(chan event, maxQueued), stop: make(chan struct{}),
	}
	s.urlV = s.rt.ToValue(url)
	s.plain = strings.HasPrefix(strings.ToLower(url), "ws://")
	_ = obj.DefineDataPropertySymbol(m.socketKey, s.rt.NewDynamicObject(&socketHandle{s}), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return s
}

// start reserves the socket's slot on the loop and dials in the background.
func (s *socket) start(ctx context.Context) {
	s.ctx = ctx
	s.drainSlot = s.m.vu.HoldCallback(s.drain)
	s.flushSlot = s.m.vu.HoldCallback(func() error { s.flushHeld(); return nil })
	s.unwatch = context.AfterFunc(ctx, s.shutdown)
	base := wsconn.BaseTags(s.rt, s.st, s.url, s.par)
	go s.dialAndRead(ctx, base)
}

// prototype makes WebSocket.prototype's API, once per VU: the accessors and methods find
// their socket through this (a socket object's hidden key), so that a new socket costs one
// property, not a set of functions of its own. Called on anything but a WebSocket, they
// throw a TypeError, as browsers' do.
func (m *instance) prototype(proto *goja.Object) {
	rt := m.vu.Runtime()
	for name, v := range map[string]int{"CONNECTING": connecting, "OPEN": open, "CLOSING": closing, "CLOSED": closed} {
		_ = proto.DefineDataProperty(name, rt.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getter := func(name string, get func(s *socket) goja.Value) {
		_ = proto.DefineAccessorProperty(name, rt.ToValue(func(call goja.FunctionCall) goja.Value {
			return get(m.this(call.This, name))
		}), nil, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	getter("url", func(s *socket) goja.Value { return s.urlV })
	getter("readyState", func(s *socket) goja.Value { return rt.ToValue(s.readyState) })
	getter("protocol", func(s *socket) goja.Value { return rt.ToValue(s.protocol) })
	getter("extensions", func(s *socket) goja.Value { return rt.ToValue(s.extensions) })
	getter("bufferedAmount", func(s *socket) goja.Value { return rt.ToValue(s.bufferedAmount()) })
	_ = proto.DefineAccessorProperty("binaryType", rt.ToValue(func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(m.this(call.This, "binaryType").binaryType)
	}), rt.ToValue(func(call goja.FunctionCall) goja.Value {
		s := m.this(call.This, "binaryType")
		// As browsers: an unknown value is ignored (WHATWG).
		if t := call.Argument(0).String(); t == "blob" || t == "arraybuffer" {
			s.binaryType = t
		}
		return goja.Undefined()
	}), goja.FLAG_TRUE, goja.FLAG_TRUE)
	for _, ev := range []string{"open", "message", "error", "close", "ping", "pong"} {
		name := "on" + ev
		_ = proto.DefineAccessorProperty(name, rt.ToValue(func(call goja.FunctionCall) goja.Value {
			return m.this(call.This, name).attr(ev)
		}), rt.ToValue(func(call goja.FunctionCall) goja.Value {
			m.this(call.This, name).setAttr(ev, call.Argument(0))
			return goja.Undefined()
		}), goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	for name, fn := range map[string]func(*socket, goja.FunctionCall) goja.Value{
		"send": (*socket).send, "ping": (*socket).ping, "close": (*socket).close,
		"addEventListener": (*socket).addEventListener, "removeEventListener": (*socket).removeEventListener,
	} {
		_ = proto.DefineDataProperty(name, rt.ToValue(func(call goja.FunctionCall) goja.Value {
			return fn(m.this(call.This, name), call)
		}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
}

// this returns the socket of a WebSocket object, or throws a TypeError naming member.
func (m *instance) this(v goja.Value, member string) *socket {
	if o, ok := v.(*goja.Object); ok {
		if o == m.lastObj {
			return m.lastSocket
		}
		if v := o.GetSymbol(m.socketKey); v != nil {
			if h, ok := v.Export().(*socketHandle); ok {
				m.lastObj, m.lastSocket = o, h.s
				return h.s
			}
		}
	}
	panic(m.vu.Runtime().NewTypeError("WebSocket." + member + ": called on an object that is not a WebSocket"))
}

// socketHandle carries a socket in its JS object's hidden key (a goja dynamic object with
// no properties of its own, so that Export returns it as is).
type socketHandle struct{ s *socket }

func (*socketHandle) Get(string) goja.Value       { return nil }
func (*socketHandle) Set(string, goja.Value) bool { return false }
func (*socketHandle) Has(string) bool             { return false }
func (*socketHandle) Delete(string) bool          { return true }
func (*socketHandle) Keys() []string              { return nil }

func (s *socket) attr(ev string) goja.Value {
	for _, l := range s.listeners[ev] {
		if l.attr {
			return l.val
		}
	}
	return goja.Null()
}

// setAttr sets on<ev>: it keeps the place of the first one set among the listeners, as
// WHATWG's event handler attributes do; a non-function removes it.
func (s *socket) setAttr(ev string, v goja.Value) {
	fn, ok := goja.AssertFunction(v)
	ls := s.listeners[ev]
	for i, l := range ls {
		if l.attr {
			if ok {
				ls[i].fn, ls[i].val = fn, v
			} else {
				s.listeners[ev] = append(ls[:i:i], ls[i+1:]...)
			}
			return
		}
	}
	if ok {
		s.listeners[ev] = append(ls, listener{fn: fn, val: v, attr: true})
	}
}

func (s *socket) addEventListener(call goja.FunctionCall) goja.Value {
	ev := call.Argument(0).String()
	fn, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		panic(s.rt.NewTypeError("addEventListener: the handler must be a function"))
	}
	s.listeners[ev] = append(s.listeners[ev], listener{fn: fn, val: call.Argument(1)})
	return goja.Undefined()
}

func (s *socket) removeEventListener(call goja.FunctionCall) goja.Value {
	ev := call.Argument(0).String()
	target := call.Argument(1)
	ls := s.listeners[ev]
	for i, l := range ls {
		if !l.attr && l.val.SameAs(target) {
			s.listeners[ev] = append(ls[:i:i], ls[i+1:]...)
			break
		}
	}
	return goja.Undefined()
}

// fire calls the listeners of ev with an event object; the first exception ends it.
func (s *socket) fire(ev string, fill func(o *goja.Object)) error {
	ls := s.listeners[ev]
	if len(ls) == 0 {
		return nil
	}
	o := s.newEvent(ev, eventKeys)
	if fill != nil {
		fill(o)
	}
	return s.dispatch(ls, o)
}

// dispatch calls listeners with o; the first exception ends it.
func (s *socket) dispatch(ls []listener, o *goja.Object) error {
	for _, l := range ls {
		if _, err := l.fn(s.obj, o); err != nil {
			return err
		}
	}
	return nil
}

// message fires a message event with data (made only when a listener will see it).
func (s *socket) message(ev event) error {
	ls := s.listeners["message"]
	if len(ls) == 0 {
		return nil
	}
	var data goja.Value
	switch {
	case ev.kind == evText:
		data = s.rt.ToValue(ev.text)
	case s.binaryType == "arraybuffer":
		data = s.rt.ToValue(s.rt.NewArrayBuffer(ev.data))
	default:
		data = s.m.newBlob(ev.data, "")
	}
	return s.dispatch(ls, s.newEvent("message", messageKeys, data, s.urlV))
}

func (s *socket) fireError(err error) error {
	msg := err.Error()
	return s.fire("error", func(o *goja.Object) {
		_ = o.Set("error", msg)
		_ = o.Set("message", msg)
	})
}

// Goroutines.

// dialAndRead is the socket's reader goroutine: it dials, hands over the result and reads
// until the connection ends.
func (s *socket) dialAndRead(ctx context.Context, base metrics.TagSet) {
	c, err := wsconn.Dial(ctx, s.st, s.url, s.par, base)
	if err != nil {
		s.post(event{kind: evDialFailed, conn: c, err: err, at: time.Now()})
		return
	}
	conn := c.Conn
	s.mu.Lock()
	stopped := s.stopped
	s.live = conn
	s.mu.Unlock()
	lc := (*loopConn)(nil)
	if !stopped {
		lc = s.startLoop(c)
		s.lc.Store(lc)
	}
	if stopped || !s.post(event{kind: evOpen, conn: c, at: time.Now()}) {
		if lc != nil {
			lc.abort()
		}
		_ = conn.Close()
		return
	}
	if lc != nil {
		return // the loop reads from here on
	}
	conn.SetPingHandler(func(data string) error {
		_ = conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(controlWait))
		s.post(event{kind: evPing, data: []byte(data), at: time.Now()})
		return nil
	})
	conn.SetPongHandler(func(data string) error {
		s.post(event{kind: evPong, data: []byte(data), at: time.Now()})
		return nil
	})
	var buf []byte // the read buffer, reused: each message is copied out at its size
	for {
		mt, data, err := readMessage(conn, buf[:0])
		buf = data
		if err != nil {
			_ = conn.Close()
			ev := event{kind: evClosed, code: websocket.CloseAbnormalClosure, err: err, at: time.Now()}
			// A close frame from the server ends the session cleanly with its code and
			// reason; gorilla reports a connection lost without one as code 1006.
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				ev.code, ev.reason, ev.clean, ev.err = ce.Code, ce.Text, true, nil
			}
			s.post(ev)
			return
		}
		ev := event{kind: evText, at: time.Now()}
		if mt == websocket.BinaryMessage {
			ev.kind, ev.data = evBinary, bytes.Clone(data)
		} else {
			ev.text = string(data)
		}
		if cap(buf) > maxReadBuffer {
			buf = nil // a big message's buffer is not kept for the small ones
		}
		if !s.post(ev) {
			_ = conn.Close()
			return
		}
	}
}

// readMessage reads the next message into buf (grown as needed) and returns it.
func readMessage(conn *websocket.Conn, buf []byte) (int, []byte, error) {
	mt, r, err := conn.NextReader()
	if err != nil {
		return mt, buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return mt, buf, nil
		}
		if err != nil {
			return mt, buf, err
		}
	}
}

// post hands e to the loop; false when the socket has stopped.
func (s *socket) post(e event) bool {
	select {
	case s.events <- e: // the queue has room: no need to look at stop
	default:
		select {
		case s.events <- e:
		case <-s.stop:
			return false
		}
	}
	s.drainSlot.Wake()
	return true
}

// shutdown stops the goroutines and closes the connection; safe from any goroutine.
func (s *socket) shutdown() {
	if lc := s.lc.Load(); lc != nil {
		lc.abort()
	}
	s.mu.Lock()
	s.stopped = true
	live := s.live
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stop) })
	if live != nil {
		_ = live.Close()
	}
}

// release ends the socket's hold on the loop, the context and timers (VU goroutine).
func (s *socket) release() {
	s.drainSlot.Release()
	s.flushSlot.Release()
	if s.unwatch != nil {
		s.unwatch()
	}
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	if s.conn != nil {
		s.conn.Release()
		if s.conn.Conn != nil {
			_ = s.conn.Close()
		}
	}
}

// The VU goroutine's side.

// drain handles the events waiting now (at most a queue's worth, so timers and other
// sockets get their turn; those posted meanwhile have woken it again).
func (s *socket) drain() error {
	for n := len(s.events); n > 0; n-- {
		if err := s.handle(<-s.events); err != nil {
			s.m.closeAll()
			return err
		}
		if s.readyState == closed {
			return nil
		}
	}
	if lc := s.lc.Load(); lc != nil {
		lc.resume() // when the full queue had paused its reads
	}
	return nil
}

// deliver posts events the loop could not (the socket's queue was full when its connection
// ended), in order; it gives up when the socket stops.
func (s *socket) deliver(rest []event) {
	for _, e := range rest {
		select {
		case s.events <- e:
			s.drainSlot.Wake()
		case <-s.stop:
			return
		}
	}
}

func (s *socket) samples(ss ...metrics.Sample) {
	if s.ctx.Err() != nil || s.st.Samples == nil {
		return
	}
	s.st.Samples.Push(s.ctx, ss)
}

// sample pushes one sample (through the socket's one-sample slice: no allocation).
func (s *socket) sample(m *metrics.Metric, at time.Time, v float64) {
	s.one[0] = metrics.Sample{Metric: m, Tags: s.conn.Tags, Time: at, Value: v}
	s.samples(s.one[:]...)
	s.one[0] = metrics.Sample{}
}

func (s *socket) handle(ev event) error {
	switch ev.kind {
	case evOpen:
		s.conn = ev.conn
		s.readyState = open
		s.protocol = ev.conn.Subprotocol()
		s.extensions = ev.conn.Resp.Header.Get("Sec-WebSocket-Extensions")
		if s.extensions == "" {
			s.direct, s.keys = true, wsframe.NewKeySource()
		}
		s.samples(ev.conn.ConnectSamples(s.st.Builtin)...)
		if s.closeAsked { // close() while connecting
			s.startClose()
			return nil
		}
		return s.fire("open", nil)
	case evDialFailed:
		s.conn = ev.conn
		s.readyState = closed
		s.finish()
		if s.ctx.Err() != nil {
			return nil // interrupted, not failed
		}
		s.samples(ev.conn.ConnectSamples(s.st.Builtin)...)
		if err := s.fireError(ev.err); err != nil {
			return err
		}
		return s.fireClose(websocket.CloseAbnormalClosure, "", false)
	case evText, evBinary:
		s.sample(s.st.Builtin.WSMsgsReceived, ev.at, 1)
		return s.message(ev)
	case evPing:
		return s.fire("ping", nil)
	case evPong:
		if sent, ok := s.pings[string(ev.data)]; ok {
			delete(s.pings, string(ev.data))
			s.sample(s.st.Builtin.WSPing, ev.at, wsconn.Ms(ev.at.Sub(sent)))
		}
		return s.fire("pong", nil)
	case evClosed:
		s.readyState = closed
		s.sample(s.st.Builtin.WSSessionDuration, s.conn.Start, wsconn.Ms(ev.at.Sub(s.conn.Start)))
		s.finish()
		code, reason, clean := ev.code, ev.reason, ev.clean
		if ev.err != nil {
			if s.closeAsked {
				// We closed and the server did not answer within closeGrace: the session
				// ends with our code, not cleanly, and without an error.
				code, reason = s.closeCode, s.closeReason
			} else if err := s.fireError(ev.err); err != nil {
				return err
			}
		}
		return s.fireClose(code, reason, clean)
	}
	return nil
}

func (s *socket) fireClose(code int, reason string, clean bool) error {
	return s.fire("close", func(o *goja.Object) {
		_ = o.Set("code", code)
		_ = o.Set("reason", reason)
		_ = o.Set("wasClean", clean)
	})
}

// finish is the end of a socket: its goroutines stop, it leaves the VU's list and gives
// up its reservation on the loop (it does not re-register).
func (s *socket) finish() {
	s.shutdown()
	s.release()
	delete(s.m.sockets, s)
}

// JS methods.

// send(data) queues a text (string) or binary (ArrayBuffer, typed array, DataView, Blob)
// message. While connecting it throws InvalidStateError; once closing it is ignored.
func (s *socket) send(call goja.FunctionCall) goja.Value {
	switch s.readyState {
	case connecting:
		domError(s.rt, "InvalidStateError", "WebSocket.send: the connection is not open yet")
	case closing, closed:
		return goja.Undefined()
	}
	f, err := s.m.frameOf(call.Argument(0))
	if err != nil {
		panic(s.rt.NewTypeError(err.Error()))
	}
	s.hold(f)
	s.sample(s.st.Builtin.WSMsgsSent, time.Now(), 1)
	return goja.Undefined()
}

// hold counts f in bufferedAmount and keeps it until the current loop task ends.
func (s *socket) hold(f frame) {
	s.buffered += f.size()
	s.held = append(s.held, f)
	if !s.holding {
		s.holding = true
		s.flushSlot.Wake()
	}
}

// flushHeld writes the held frames, in order, on the VU's goroutine: the connection's
// Outbox takes them without blocking.
func (s *socket) flushHeld() {
	s.holding = false
	if lc := s.lc.Load(); lc != nil && len(s.held) > 0 {
		lc.send(s.held) // counted in lc.inflight from here
		for i, f := range s.held {
			s.buffered -= f.size()
			s.held[i] = frame{}
		}
		s.held = s.held[:0]
		return
	}
	for i, f := range s.held {
		s.writeFrame(f)
		s.held[i] = frame{}
	}
	s.held = s.held[:0]
}

// writeFrame writes f to the connection and keeps it in bufferedAmount until the kernel
// has all of it.
func (s *socket) writeFrame(f frame) {
	if s.writeErr || s.conn == nil || s.conn.Conn == nil {
		s.buffered -= f.size()
		return
	}
	var err error
	switch {
	case s.direct:
		s.wbuf = f.appendTo(s.wbuf[:0], s.keys)
		// The connection under gorilla's (the Outbox, through TLS and the byte count when
		// they are there) takes a whole frame per write, so the pongs gorilla writes from
		// the reader never land inside one.
		_, err = s.conn.NetConn().Write(s.wbuf)
		if cap(s.wbuf) > maxReadBuffer {
			s.wbuf = nil
		}
	case f.kind == websocket.TextMessage:
		err = s.writeText(f.text)
	default:
		err = s.conn.WriteMessage(f.kind, f.data)
	}
	if err != nil {
		// The connection is failing: drop it, and the reader reports its end.
		s.writeErr = true
		s.buffered -= f.size()
		_ = s.conn.Close()
		return
	}
	out := s.conn.Out
	if end := out.Accepted(); out.Taken() < end {
		s.inflight = append(s.inflight, inflight{end: end, size: f.size()})
		return
	}
	s.buffered -= f.size()
}

// writeText writes a text message from the script's string, without a []byte of it.
func (s *socket) writeText(text string) error {
	w, err := s.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, text); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// bufferedAmount is the payload bytes sent and not yet handed to the kernel.
func (s *socket) bufferedAmount() int64 {
	if lc := s.lc.Load(); lc != nil {
		return s.buffered + lc.inflight.Load()
	}
	if len(s.inflight) > 0 {
		taken := s.conn.Out.Taken()
		i := 0
		for ; i < len(s.inflight) && s.inflight[i].end <= taken; i++ {
			s.buffered -= s.inflight[i].size
		}
		s.inflight = s.inflight[:copy(s.inflight, s.inflight[i:])]
		if s.writeErr {
			for _, f := range s.inflight {
				s.buffered -= f.size
			}
			s.inflight = s.inflight[:0]
		}
	}
	return s.buffered
}

// ping() sends a ping; its pong records ws_ping.
func (s *socket) ping(goja.FunctionCall) goja.Value {
	if s.readyState != open {
		return goja.Undefined()
	}
	s.pingSeq++
	payload := strconv.Itoa(s.pingSeq)
	now := time.Now()
	if lc := s.lc.Load(); lc != nil {
		lc.control(wsframe.OpPing, []byte(payload))
	} else if err := s.conn.WriteControl(websocket.PingMessage, []byte(payload), now.Add(controlWait)); err != nil {
		return goja.Undefined() // the connection is going; the reader reports it
	}
	s.pings[payload] = now
	return goja.Undefined()
}

// close([code], [reason]) starts the closing handshake (code 1000 by default, or 3000 to
// 4999 and k6's 1000-range codes; reason at most 123 bytes of UTF-8).
func (s *socket) close(call goja.FunctionCall) goja.Value {
	code := websocket.CloseNormalClosure
	if a := call.Argument(0); !goja.IsUndefined(a) {
		code = int(a.ToInteger())
		if code < 1000 || code > 4999 || code == websocket.CloseNoStatusReceived || code == websocket.CloseAbnormalClosure || code == websocket.CloseTLSHandshake || code == 1004 {
			domError(s.rt, "InvalidAccessError", fmt.Sprintf("WebSocket.close: code %d is not one a client may send", code))
		}
	}
	reason := ""
	if a := call.Argument(1); !goja.IsUndefined(a) {
		reason = a.String()
		if len(reason) > 123 || !utf8.ValidString(reason) {
			domError(s.rt, "SyntaxError", "WebSocket.close: the reason is longer than 123 bytes")
		}
	}
	if s.closeAsked || s.readyState >= closing {
		return goja.Undefined()
	}
	s.closeAsked, s.closeCode, s.closeReason = true, code, reason
	if s.readyState == connecting {
		s.readyState = closing // the open event sends the close frame
		return goja.Undefined()
	}
	s.startClose()
	return goja.Undefined()
}

// startClose queues the close frame after the messages already sent and drops the
// connection if the server has not answered within closeGrace.
func (s *socket) startClose() {
	s.readyState = closing
	s.flushHeld() // the messages sent before close() go first
	lc := s.lc.Load()
	switch {
	case lc != nil:
		lc.control(wsframe.OpClose, websocket.FormatCloseMessage(s.closeCode, s.closeReason))
	case !s.writeErr:
		_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(s.closeCode, s.closeReason))
	}
	conn := s.conn.Conn
	s.closeTimer = time.AfterFunc(closeGrace, func() {
		if lc != nil {
			lc.abort()
		}
		_ = conn.Close()
	})
}
