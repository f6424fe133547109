package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/dop251/goja"
	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// stream is one grpc.Stream. Its fields are used on the VU goroutine, except cs's receive
// side and next, which the reader goroutine uses.
type stream struct {
	c   *client
	rt  *goja.Runtime
	st  *modules.State
	r   *rpc
	cs  gogrpc.ClientStream
	obj *goja.Object

	// cancel ends the call (its context is the VU's, with params.timeout).
	cancel context.CancelFunc
	// next carries the event-loop slot of the next event from the VU goroutine to the
	// reader; it always holds one slot until the stream has ended, so the iteration waits
	// for the stream.
	next chan func(func() error)

	handlers    map[string][]goja.Callable
	writeClosed bool
	start       time.Time

	// iter is the scenario and iteration that opened the stream: the iteration waits for
	// the stream, so a stream still open in a later one was left behind by an iteration
	// that ended early (an exception drops the event loop's slots) and is abandoned.
	iter iterKey
	// abandoned is closed (once) when the stream is left behind or the run ends: the reader
	// stops waiting for an event-loop slot that will never come.
	abandoned chan struct{}
	abandon   sync.Once
	// vuCtx is the VU's context when the stream opened (VU.Context is for the VU goroutine).
	vuCtx context.Context
}

type iterKey struct {
	scenario  string
	iteration int64
}

// drop abandons the stream: its call is cancelled and its reader returns. Any goroutine.
func (s *stream) drop() {
	s.abandon.Do(func() {
		close(s.abandoned)
		s.cancel()
	})
}

// reap abandons the streams of earlier iterations that are still open. On the VU goroutine.
func (mi *instance) reap(st *modules.State) {
	cur := iterKey{st.Scenario, st.Iteration}
	for s := range mi.streams {
		if s.iter != cur {
			s.drop()
			delete(mi.streams, s)
		}
	}
}

// ended forgets a stream that has delivered its end. On the VU goroutine.
func (mi *instance) ended(s *stream) {
	delete(mi.streams, s)
	if t, err := s.c.tracker(s.st); err == nil {
		t.forget(s)
	}
}

// newStream is the grpc.Stream(client, method, params) constructor: it opens the stream
// and starts reading it.
func (mi *instance) newStream(call goja.ConstructorCall) *goja.Object {
	rt := mi.vu.Runtime()
	cobj, _ := call.Argument(0).(*goja.Object)
	c := mi.clients[cobj]
	if c == nil {
		throw(rt, errors.New("grpc.Stream: the first argument must be a grpc.Client"))
	}
	r, st, err := c.prepare("Stream", call.Argument(1).String(), goja.Undefined(), call.Argument(2), false)
	if err != nil {
		throw(rt, err)
	}
	// A stream has no deadline unless params.timeout sets one.
	var ctx context.Context
	var cancel context.CancelFunc
	if r.timeoutSet {
		ctx, cancel = context.WithTimeout(mi.vu.Context(), r.timeout)
	} else {
		ctx, cancel = context.WithCancel(mi.vu.Context())
	}
	ctx = metadata.NewOutgoingContext(ctx, r.meta)
	desc := &gogrpc.StreamDesc{StreamName: string(r.md.Name()),
		ServerStreams: r.md.IsStreamingServer(), ClientStreams: r.md.IsStreamingClient()}
	s := &stream{c: c, rt: rt, st: st, r: r, cancel: cancel, handlers: map[string][]goja.Callable{},
		next: make(chan func(func() error), 1), start: time.Now(),
		iter: iterKey{st.Scenario, st.Iteration}, abandoned: make(chan struct{}), vuCtx: mi.vu.Context()}
	cs, err := c.conn.NewStream(ctx, desc, r.method, r.opts...)
	if err != nil {
		cancel()
		throw(rt, fmt.Errorf("failed to create a new stream: %w", err))
	}
	s.cs = cs
	s.push(mi.metrics(st).Streams, r.tags, 1)
	s.obj = call.This
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"on": s.on, "write": s.write, "end": s.end,
	} {
		_ = s.obj.Set(name, rt.ToValue(fn))
	}
	if mi.streams == nil {
		mi.streams = map[*stream]struct{}{}
	}
	mi.streams[s] = struct{}{}
	if t, err := c.tracker(st); err == nil {
		t.track(s)
	}
	s.next <- mi.vu.RegisterCallback()
	go s.read()
	return s.obj
}

func (s *stream) push(m *metrics.Metric, tags metrics.TagSet, v float64) {
	ctx := s.c.mi.vu.Context()
	if s.st.Samples == nil || ctx.Err() != nil {
		return
	}
	s.st.Samples.Push(ctx, []metrics.Sample{{Metric: m, Tags: tags, Time: time.Now(), Value: v}})
}

// read receives messages until the stream ends and hands each, then the end, to the VU's
// event loop.
func (s *stream) read() {
	types := s.r.types
	mo := protojson.MarshalOptions{EmitUnpopulated: true, Resolver: types}
	for {
		msg := dynamicpb.NewMessage(s.r.md.Output())
		err := s.cs.RecvMsg(msg)
		if err != nil {
			s.finish(err)
			return
		}
		at := time.Now()
		enqueue, ok := s.slot()
		if !ok {
			return
		}
		enqueue(func() error {
			s.next <- s.c.mi.vu.RegisterCallback() // the slot of the next event
			s.push(s.c.mi.metrics(s.st).MsgsReceived, s.r.tags, 1)
			var v goja.Value = s.rt.NewObject() // params.discardResponseMessage: an empty object
			if !s.r.discard {
				var err error
				if v, err = s.c.mi.toJS(msg, mo); err != nil {
					s.cancel()
					return fmt.Errorf("unable to convert a stream message to JSON: %w", err)
				}
			}
			if err := s.fire("data", v, at); err != nil {
				s.cancel()
				return err
			}
			return nil
		})
	}
}

// slot waits for the event-loop slot of the next event; false when the stream was
// abandoned or the VU is stopping (then no slot will be served).
func (s *stream) slot() (func(func() error), bool) {
	select {
	case enqueue := <-s.next:
		return enqueue, true
	case <-s.abandoned:
	case <-s.vuCtx.Done():
	}
	return nil, false
}

// finish reports the stream's end: grpc_req_duration with its status, then (unless the
// iteration is ending) 'error' for a status other than OK and 'end'.
func (s *stream) finish(err error) {
	code := codes.OK
	if !errors.Is(err, io.EOF) {
		code = status.Code(err)
	}
	end := time.Now()
	enqueue, ok := s.slot()
	if !ok {
		return
	}
	enqueue(func() error {
		defer s.cancel()
		s.c.mi.ended(s)
		ctx := s.c.mi.vu.Context()
		if ctx.Err() != nil {
			return nil // the VU is stopping: no events, as in k6
		}
		tags := modules.WithSystemTag(s.st, s.r.tags, "status", strconv.Itoa(int(code)))
		if s.st.Samples != nil {
			s.st.Samples.Push(ctx, []metrics.Sample{{Metric: s.c.mi.metrics(s.st).ReqDuration, Tags: tags,
				Time: s.start, Value: float64(end.Sub(s.start)) / float64(time.Millisecond)}})
		}
		if code != codes.OK {
			if err := s.fireError(err, end); err != nil {
				return err
			}
		}
		return s.fire("end", goja.Undefined(), end)
	})
}

// fireError calls the 'error' handlers with k6's Error object {code, details, message}.
func (s *stream) fireError(err error, at time.Time) error {
	st := status.Convert(err)
	o := s.rt.NewObject()
	_ = o.Set("code", int(st.Code()))
	msg := st.Message()
	if msg == "" {
		msg = err.Error()
	}
	_ = o.Set("message", msg)
	details := []any{}
	for _, d := range st.Details() {
		details = append(details, fmt.Sprint(d))
	}
	_ = o.Set("details", s.rt.NewArray(details...))
	if len(s.handlers["error"]) == 0 && s.st.Logger != nil {
		s.st.Logger.Log("warn", "no handlers for error registered, but an error happened: "+err.Error())
	}
	return s.fire("error", o, at)
}

// fire calls the handlers of event with (value, {ts}).
func (s *stream) fire(event string, v goja.Value, at time.Time) error {
	for _, h := range s.handlers[event] {
		meta := s.rt.NewObject()
		_ = meta.Set("ts", at.Unix())
		if _, err := h(goja.Undefined(), v, meta); err != nil {
			return err
		}
	}
	return nil
}

// on(event, handler) adds a handler of 'data', 'error' or 'end'.
func (s *stream) on(call goja.FunctionCall) goja.Value {
	event := call.Argument(0).String()
	h, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		throw(s.rt, fmt.Errorf("handler for %q event isn't a callable function", event))
	}
	switch event {
	case "data", "error", "end":
	default:
		// k6 warns and goes on; so does pixelk6.
		s.warn(fmt.Sprintf("can't register %s event handler: unknown event (want data, error or end)", event))
		return goja.Undefined()
	}
	s.handlers[event] = append(s.handlers[event], h)
	return goja.Undefined()
}

// write(message) sends a message. For a method that is not client-streaming, the first
// message is the request and the stream's sending side closes after it.
func (s *stream) write(call goja.FunctionCall) goja.Value {
	if s.writeClosed {
		// k6 drops such a message; pixelk6 drops it too, with a warning.
		s.warn("stream.write after the stream's sending side was closed (end(), or the one request of a server-streaming method): the message is not sent")
		return goja.Undefined()
	}
	if modules.IsNullish(call.Argument(0)) {
		s.warn("stream.write: can't send an empty message")
		return goja.Undefined()
	}
	msg, err := s.c.toMessage(s.r.md.Input(), call.Argument(0))
	if err != nil {
		throw(s.rt, fmt.Errorf("stream.write: %w", err))
	}
	// An error here means the stream has ended; the reader reports its status.
	if err := s.cs.SendMsg(msg); err == nil {
		s.push(s.c.mi.metrics(s.st).MsgsSent, s.r.tags, 1)
	}
	if !s.r.md.IsStreamingClient() {
		s.end(goja.FunctionCall{})
	}
	return goja.Undefined()
}

func (s *stream) warn(msg string) {
	if s.st.Logger != nil {
		s.st.Logger.Log("warn", msg)
	}
}

// end() tells the server the client has finished sending.
func (s *stream) end(goja.FunctionCall) goja.Value {
	if !s.writeClosed {
		s.writeClosed = true
		_ = s.cs.CloseSend()
	}
	return goja.Undefined()
}
