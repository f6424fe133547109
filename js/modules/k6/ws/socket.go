package ws

import (
	"errors"
	"strconv"
	"time"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

type eventKind uint8

const (
	evText   eventKind = iota // a text message
	evBinary                  // a binary message
	evPing                    // the server pinged (the reader already answered)
	evPong                    // the server answered a ping
	evClosed                  // the connection ended; the reader has returned
)

// event is what the reader goroutine hands to the VU's loop.
type event struct {
	kind eventKind
	data []byte
	at   time.Time
	code int   // evClosed: the close code (1006 when none was received)
	err  error // evClosed: the read error
}

// timer is a socket timer (setTimeout / setInterval).
type timer struct {
	due   time.Time
	every time.Duration // 0 for setTimeout
	fn    goja.Callable
}

// socket is one ws.connect session. Everything but the reader's fields is used on the VU
// goroutine only.
type socket struct {
	vu   modules.VU
	rt   *goja.Runtime
	st   *modules.State
	conn *websocket.Conn
	tags metrics.TagSet
	obj  *goja.Object

	// events carries the reader's events; the reader blocks on it (backpressure onto the
	// server) until the loop takes them or stop is closed.
	events     chan event
	stop       chan struct{} // closed when the loop ends
	readerDone chan struct{} // closed when the reader returns

	handlers  map[string][]goja.Callable
	timers    []*timer
	pings     map[string]time.Time // ping payload → sent at
	pingSeq   int
	closing   bool      // close() was called
	closeCode int       // the code passed to close()
	closeBy   time.Time // when closing: drop the connection if the server has not closed by then
	done      bool      // the connection is gone; the loop ends
	err       error     // a JS exception from a callback; the loop ends and connect rethrows
	buf       []metrics.Sample
}

func newSocket(vu modules.VU, st *modules.State, conn *websocket.Conn, tags metrics.TagSet) *socket {
	s := &socket{
		vu: vu, rt: vu.Runtime(), st: st, conn: conn, tags: tags,
		events: make(chan event), stop: make(chan struct{}), readerDone: make(chan struct{}),
		handlers: map[string][]goja.Callable{}, pings: map[string]time.Time{},
	}
	s.obj = s.rt.NewObject()
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"on": s.on, "send": s.send, "sendBinary": s.sendBinary, "ping": s.ping,
		"setTimeout": s.setTimeout, "setInterval": s.setInterval, "close": s.close,
	} {
		_ = s.obj.Set(name, fn)
	}
	return s
}

func (s *socket) push(samples []metrics.Sample) {
	ctx := s.vu.Context()
	if len(samples) == 0 || ctx.Err() != nil || s.st.Samples == nil {
		return
	}
	s.st.Samples.Push(ctx, samples)
}

func (s *socket) sample(m *metrics.Metric, at time.Time, v float64) {
	s.buf = append(s.buf, metrics.Sample{Metric: m, Tags: s.tags, Time: at, Value: v})
}

func (s *socket) flush() {
	if len(s.buf) > 0 {
		s.push(s.buf)
		s.buf = nil
	}
}

// run calls setup(socket), fires 'open' and runs the loop until the connection is gone, the
// VU's context ends or a callback throws. The reader goroutine has exited when run returns.
func (s *socket) run(setup goja.Callable) error {
	go s.read()
	defer func() {
		close(s.stop)
		_ = s.conn.Close()
		<-s.readerDone
		s.flush()
	}()
	if _, err := setup(goja.Undefined(), s.obj); err != nil {
		return err
	}
	s.fire("open")
	ctx := s.vu.Context()
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	defer wake.Stop()
	for !s.done && s.err == nil {
		s.flush()
		var tc <-chan time.Time
		if next, ok := s.nextWake(); ok {
			wake.Reset(time.Until(next))
			tc = wake.C
		}
		select {
		case ev := <-s.events:
			s.handle(ev)
		case <-tc:
			s.runTimers(time.Now())
		case <-ctx.Done():
			s.done = true
		}
		wake.Stop()
	}
	return s.err
}

// nextWake returns the earliest timer or close deadline.
func (s *socket) nextWake() (time.Time, bool) {
	var next time.Time
	ok := false
	for _, t := range s.timers {
		if !ok || t.due.Before(next) {
			next, ok = t.due, true
		}
	}
	if s.closing && (!ok || s.closeBy.Before(next)) {
		next, ok = s.closeBy, true
	}
	return next, ok
}

func (s *socket) runTimers(now time.Time) {
	if s.closing && !now.Before(s.closeBy) {
		// The server did not answer our close frame: drop the connection; the reader
		// reports it and 'close' fires.
		_ = s.conn.Close()
	}
	kept := s.timers[:0]
	var due []*timer
	for _, t := range s.timers {
		if now.Before(t.due) {
			kept = append(kept, t)
			continue
		}
		due = append(due, t)
		if t.every > 0 {
			t.due = t.due.Add(t.every)
			if t.due.Before(now) {
				t.due = now.Add(t.every)
			}
			kept = append(kept, t)
		}
	}
	s.timers = kept
	for _, t := range due {
		if s.done || s.closing || s.err != nil {
			return
		}
		s.call(t.fn)
	}
}

func (s *socket) handle(ev event) {
	switch ev.kind {
	case evText:
		s.sample(s.st.Builtin.WSMsgsReceived, ev.at, 1)
		s.fire("message", s.rt.ToValue(string(ev.data)))
	case evBinary:
		s.sample(s.st.Builtin.WSMsgsReceived, ev.at, 1)
		s.fire("binaryMessage", s.rt.ToValue(s.rt.NewArrayBuffer(ev.data)))
	case evPing:
		s.fire("ping")
	case evPong:
		if sent, ok := s.pings[string(ev.data)]; ok {
			delete(s.pings, string(ev.data))
			s.sample(s.st.Builtin.WSPing, ev.at, ms(ev.at.Sub(sent)))
		}
		s.fire("pong")
	case evClosed:
		s.done = true
		// Without a close frame from the server (gorilla reports 1006, abnormal closure),
		// the session ended by our close() reports our code; otherwise it is an error.
		code := ev.code
		var ce *websocket.CloseError
		if !errors.As(ev.err, &ce) || ce.Code == websocket.CloseAbnormalClosure {
			if s.closing {
				code = s.closeCode
			} else {
				s.fire("error", s.errorValue(ev.err))
			}
		}
		s.fire("close", s.rt.ToValue(code))
	}
}

// errorValue is the object an 'error' handler gets: e.error() returns the message.
func (s *socket) errorValue(err error) goja.Value {
	o := s.rt.NewObject()
	msg := err.Error()
	_ = o.Set("error", func() string { return msg })
	_ = o.Set("toString", func() string { return msg })
	return o
}

// fire calls the handlers of event name; a throwing handler ends the session.
func (s *socket) fire(name string, args ...goja.Value) {
	for _, h := range s.handlers[name] {
		if s.err != nil {
			return
		}
		s.call(h, args...)
	}
}

func (s *socket) call(fn goja.Callable, args ...goja.Value) {
	if _, err := fn(goja.Undefined(), args...); err != nil && s.err == nil {
		s.err = err
	}
}

// read is the connection's reader goroutine; it returns when a read fails (the connection
// closed), after reporting it, or when the loop has stopped.
func (s *socket) read() {
	defer close(s.readerDone)
	s.conn.SetPingHandler(func(data string) error {
		_ = s.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(closeGrace))
		s.deliver(event{kind: evPing, at: time.Now()})
		return nil
	})
	s.conn.SetPongHandler(func(data string) error {
		s.deliver(event{kind: evPong, data: []byte(data), at: time.Now()})
		return nil
	})
	for {
		mt, data, err := s.conn.ReadMessage()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			s.deliver(event{kind: evClosed, code: code, err: err, at: time.Now()})
			return
		}
		kind := evText
		if mt == websocket.BinaryMessage {
			kind = evBinary
		}
		if !s.deliver(event{kind: kind, data: data, at: time.Now()}) {
			return
		}
	}
}

func (s *socket) deliver(e event) bool {
	select {
	case s.events <- e:
		return true
	case <-s.stop:
		return false
	}
}

// JS methods of the socket object.

func (s *socket) on(call goja.FunctionCall) goja.Value {
	name := call.Argument(0).String()
	fn, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		throwErr(s.rt, errors.New("socket.on: the handler must be a function"))
	}
	s.handlers[name] = append(s.handlers[name], fn)
	return goja.Undefined()
}

func (s *socket) write(frame int, data []byte) {
	if s.done {
		return
	}
	if err := s.conn.WriteMessage(frame, data); err != nil {
		s.fire("error", s.errorValue(err))
		return
	}
	s.sample(s.st.Builtin.WSMsgsSent, time.Now(), 1)
}

func (s *socket) send(call goja.FunctionCall) goja.Value {
	s.write(websocket.TextMessage, []byte(call.Argument(0).String()))
	return goja.Undefined()
}

func (s *socket) sendBinary(call goja.FunctionCall) goja.Value {
	ab, ok := call.Argument(0).Export().(goja.ArrayBuffer)
	if !ok {
		panic(s.rt.NewTypeError("socket.sendBinary: the argument must be an ArrayBuffer"))
	}
	s.write(websocket.BinaryMessage, ab.Bytes())
	return goja.Undefined()
}

func (s *socket) ping(goja.FunctionCall) goja.Value {
	if s.done {
		return goja.Undefined()
	}
	s.pingSeq++
	payload := strconv.Itoa(s.pingSeq)
	now := time.Now()
	if err := s.conn.WriteControl(websocket.PingMessage, []byte(payload), now.Add(closeGrace)); err != nil {
		s.fire("error", s.errorValue(err))
		return goja.Undefined()
	}
	s.pings[payload] = now
	return goja.Undefined()
}

func (s *socket) addTimer(call goja.FunctionCall, repeat bool) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(s.rt.NewTypeError("socket timer: the callback must be a function"))
	}
	d := time.Duration(call.Argument(1).ToFloat() * float64(time.Millisecond))
	if repeat && d <= 0 {
		panic(s.rt.NewTypeError("socket.setInterval: the interval must be > 0 ms"))
	}
	t := &timer{due: time.Now().Add(max(d, 0)), fn: fn}
	if repeat {
		t.every = d
	}
	s.timers = append(s.timers, t)
	return goja.Undefined()
}

func (s *socket) setTimeout(call goja.FunctionCall) goja.Value  { return s.addTimer(call, false) }
func (s *socket) setInterval(call goja.FunctionCall) goja.Value { return s.addTimer(call, true) }

// close([code]) sends a close frame (default 1000) and lets the loop wait, up to closeGrace,
// for the server's; 'close' fires when the connection is gone. Socket timers stop firing.
func (s *socket) close(call goja.FunctionCall) goja.Value {
	if s.closing || s.done {
		return goja.Undefined()
	}
	code := websocket.CloseNormalClosure
	if a := call.Argument(0); !goja.IsUndefined(a) && !goja.IsNull(a) {
		code = int(a.ToInteger())
	}
	s.closing, s.closeCode = true, code
	now := time.Now()
	s.closeBy = now.Add(closeGrace)
	if err := s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), now.Add(closeGrace)); err != nil {
		_ = s.conn.Close()
	}
	return goja.Undefined()
}
