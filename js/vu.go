package js

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/eventloop"
	"github.com/pixelk6/pixelk6/js/modules/k6"
	"github.com/pixelk6/pixelk6/js/modules/k6/execution"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/metrics"
)

// vu is one virtual user: a goja runtime, its event loop and its module instances. It
// implements both VU (for the engine) and modules.VU (for modules).
type vu struct {
	b     *Bundle
	rt    *goja.Runtime
	loop  *eventLoop
	ctx   context.Context
	state *modules.State

	initEnv   *modules.InitEnvironment // non-nil while the init context runs
	exports   *goja.Object             // the main module's module.exports
	modules   map[string]*goja.Object  // path or built-in name → module.exports
	pending   map[string]*goja.Promise // path → evaluation of a module with top-level await
	builtins  []*goja.Object           // the built-in modules' exports objects
	isBuiltin goja.Value               // __pixelk6Builtin, made on first use
	stringFn  goja.Callable            // JSON.stringify
	parseFn   goja.Callable            // JSON.parse

	timers    map[int64]*jsTimer
	nextTimer int64

	fnCache   map[string]goja.Callable
	dataRaw   []byte
	dataValue goja.Value
	iterInVU  int64
	aborted   error // set by test.abort(); wins over whatever the call returned

	// rejections are the Promises rejected with no handler during the current call or
	// init context, in order (a handler attached later removes its Promise).
	rejections []*goja.Promise
	tracking   bool          // rejections are being tracked (its buffer is reused)
	callResult *goja.Promise // the called function's own Promise: call reports it itself
}

// Abort records test.abort() (k6/execution calls it) for the current call.
func (v *vu) Abort(err error) { v.aborted = err }

var (
	_ VU         = (*vu)(nil)
	_ modules.VU = (*vu)(nil)
)

// fieldNameMapper exposes Go fields and methods to JavaScript: the SDK's mapper (a `js:"name"`
// tag wins, otherwise the name's first letter is lowercased), which modulestest uses too.
type fieldNameMapper = modules.FieldNameMapper

func (b *Bundle) newVU(ctx context.Context, state *modules.State) (*vu, error) {
	if state == nil {
		state = &modules.State{}
	}
	if state.Bytes == nil {
		state.Bytes = &modules.ByteCounter{}
	}
	if state.Run == nil {
		state.Run = b.run
	}
	if state.Logger == nil {
		state.Logger = b.opts.Logger
	}
	if state.Logger == nil {
		state.Logger = discardLogger{}
	}
	if state.Tags == nil {
		state.Tags = modules.NewTagMap(nil)
	}
	if state.Registry == nil {
		state.Registry = b.opts.Registry
	}
	if state.Builtin == nil {
		state.Builtin = metrics.RegisterBuiltin(state.Registry)
	}
	if state.Samples == nil {
		state.Samples = metrics.PusherFunc(func(context.Context, []metrics.Sample) {})
	}
	if state.Metadata == nil {
		state.Metadata = modules.NewTagMap(nil)
	}
	if um, ok := state.Samples.(userMetadata); !ok || um.md != state.Metadata {
		state.Samples = userMetadata{next: state.Samples, md: state.Metadata}
	}
	if state.HTTPClient == nil {
		state.HTTPClient = httpmod.NewClient(state)
	}
	rt := goja.New()
	rt.SetFieldNameMapper(fieldNameMapper{})
	v := &vu{
		b: b, rt: rt, loop: newEventLoop(), ctx: ctx, state: state,
		modules: map[string]*goja.Object{}, timers: map[int64]*jsTimer{}, fnCache: map[string]goja.Callable{},
	}
	rt.SetPromiseRejectionTracker(v.trackRejection)
	v.loop.setCheck(v.unhandledRejection)
	if err := v.installGlobals(); err != nil {
		return nil, &InitError{err}
	}
	if err := installJSONParse(rt); err != nil {
		return nil, &InitError{err}
	}
	v.initEnv = &modules.InitEnvironment{CWD: filepath.Dir(b.path), Registry: state.Registry, Run: state.Run, Secrets: b.opts.Secrets}
	v.initEnv.ReadFile = func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(v.initEnv.CWD, p)
		}
		return readFileCtx(ctx, b.opts.ReadFile, p)
	}
	v.trackRejections(true) // the init context fails on one too, as in k6
	err := v.withInterrupt(ctx, func() error {
		return v.loop.run(ctx, func() error {
			exp, err := v.requireFile(b.path)
			if err != nil {
				return err
			}
			v.exports = exp
			return nil
		})
	})
	v.trackRejections(false)
	if err == nil {
		err = v.settleMain()
	}
	v.initEnv = nil
	if v.aborted != nil {
		err, v.aborted = v.aborted, nil
		v.rt.ClearInterrupt()
	}
	if err != nil {
		v.Close()
		var ie *InitError
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &InitError{v.convertErr(err)}
	}
	return v, nil
}

// Context implements modules.VU.
func (v *vu) Context() context.Context { return v.ctx }

// Runtime implements modules.VU.
func (v *vu) Runtime() *goja.Runtime { return v.rt }

// InitEnv implements modules.VU.
func (v *vu) InitEnv() *modules.InitEnvironment { return v.initEnv }

// State implements both modules.VU (nil in the init context) and VU.
func (v *vu) State() *modules.State {
	if v.initEnv != nil {
		return nil
	}
	return v.state
}

// RegisterCallback implements modules.VU.
func (v *vu) RegisterCallback() func(f func() error) { return v.loop.register() }

// HoldCallback implements modules.VU.
func (v *vu) HoldCallback(f func() error) *eventloop.Slot { return v.loop.l.Hold(f) }

// Close implements VU.
func (v *vu) Close() {
	v.stopTimers()
	if v.state != nil && v.state.HTTPClient != nil {
		v.state.HTTPClient.CloseIdleConnections()
	}
}

// withInterrupt runs f with the runtime interrupted when ctx is done.
func (v *vu) withInterrupt(ctx context.Context, f func() error) error {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		v.rt.Interrupt(ctx.Err())
		close(fired)
	})
	err := f()
	if !stop() {
		<-fired
		v.rt.ClearInterrupt()
	}
	if err == nil {
		// ctx may be done without the AfterFunc having started yet (a cancelled context
		// closes Done before it runs its AfterFuncs): f saw it (sleep returned early) but
		// stop() still won the race.
		err = ctx.Err()
	}
	return err
}

// convertErr turns goja errors into this package's error types.
func (v *vu) convertErr(err error) error {
	var ae *execution.AbortError
	if errors.As(err, &ae) {
		v.rt.ClearInterrupt()
		return ae
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		switch val := ie.Value().(type) {
		case *execution.AbortError:
			v.rt.ClearInterrupt()
			return val
		case error:
			return fmt.Errorf("interrupted: %w", val)
		default:
			return fmt.Errorf("interrupted: %v", val)
		}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		msg := ex.Error()
		stack := ""
		if s := ex.String(); strings.Contains(s, "\n") {
			first, rest, _ := strings.Cut(s, "\n")
			msg, stack = strings.TrimSpace(first), userFrames(rest)
		}
		return &ScriptException{Message: strings.TrimPrefix(msg, "GoError: "), Stack: stack}
	}
	return err
}

// userFrames drops the native (Go) frames of a stack trace and gives an anonymous default
// export back its name "default", as k6 prints it.
func userFrames(stack string) string {
	lines := strings.Split(strings.TrimRight(stack, "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasSuffix(l, "(native)") {
			out = append(out, defaultFrameName(l))
		}
	}
	return strings.Join(out, "\n")
}

// defaultFrameName rewrites a frame "at NAME (PATH:LINE:COL(PC))" whose NAME is the one
// esbuild gives an anonymous default export — the file's base name made an identifier,
// plus "_default" — to "at default (...)".
func defaultFrameName(frame string) string {
	indent, rest, ok := strings.Cut(frame, "at ")
	if !ok || strings.TrimSpace(indent) != "" {
		return frame
	}
	name, loc, ok := strings.Cut(rest, " (")
	if !ok || !strings.HasSuffix(name, "_default") {
		return frame
	}
	path := loc
	if i := strings.LastIndexByte(path, ':'); i > 0 {
		path = path[:i]
		if j := strings.LastIndexByte(path, ':'); j > 0 {
			path = path[:j]
		}
	}
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if name != esbuildIdent(base)+"_default" {
		return frame
	}
	return indent + "at default (" + loc
}

// esbuildIdent turns a file's base name into an identifier the way esbuild names a
// module's default export: characters that cannot be in an identifier become "_", and
// leading digits are dropped ("1st.ts" → "st_default", as esbuild v0.28 does).
func esbuildIdent(base string) string {
	b := []byte(base)
	for i, c := range b {
		if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return strings.TrimLeft(string(b), "0123456789")
}

// exportFn returns the exported function name of the main module.
func (v *vu) exportFn(name string) (goja.Callable, error) {
	if fn, ok := v.fnCache[name]; ok {
		return fn, nil
	}
	fn, ok := goFunc(v.exports.Get(name))
	if !ok {
		return nil, fmt.Errorf("the script exports no function %q", name)
	}
	v.fnCache[name] = fn
	return fn, nil
}

func goFunc(val goja.Value) (goja.Callable, bool) {
	if val == nil {
		return nil, false
	}
	return goja.AssertFunction(val)
}

func isNullish(val goja.Value) bool { return val == nil || goja.IsUndefined(val) || goja.IsNull(val) }

// parseData turns setup data JSON into a value, caching it per VU while the bytes are equal.
func (v *vu) parseData(data json.RawMessage) (goja.Value, error) {
	if len(data) == 0 {
		return goja.Undefined(), nil
	}
	if v.dataValue != nil && bytes.Equal(v.dataRaw, data) {
		return v.dataValue, nil
	}
	_, parse := v.jsonFuncs()
	val, err := parse(goja.Undefined(), v.rt.ToValue(string(data)))
	if err != nil {
		return nil, fmt.Errorf("parsing setup data: %w", err)
	}
	v.dataRaw, v.dataValue = append(v.dataRaw[:0], data...), val
	return val, nil
}

// jsonFuncs returns JSON.stringify and JSON.parse. They are looked up on first use: the JSON
// object of a goja runtime is built lazily, and most VUs never need it (about 4 KB each).
func (v *vu) jsonFuncs() (stringify, parse goja.Callable) {
	if v.stringFn == nil {
		jsonObj := v.rt.Get("JSON").ToObject(v.rt)
		v.stringFn, _ = goja.AssertFunction(jsonObj.Get("stringify"))
		v.parseFn, _ = goja.AssertFunction(jsonObj.Get("parse"))
	}
	return v.stringFn, v.parseFn
}

func (v *vu) stringify(val goja.Value) (json.RawMessage, error) {
	stringify, _ := v.jsonFuncs()
	s, err := stringify(goja.Undefined(), val)
	if err != nil {
		return nil, v.convertErr(err)
	}
	if goja.IsUndefined(s) {
		return nil, nil
	}
	return json.RawMessage(s.String()), nil
}

// trackRejection is the runtime's promise rejection tracker (ECMAScript's
// HostPromiseRejectionTracker): while a call runs it keeps the Promises rejected with no
// handler.
func (v *vu) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	if !v.tracking {
		return
	}
	if op == goja.PromiseRejectionReject {
		v.rejections = append(v.rejections, p)
		return
	}
	for i, q := range v.rejections { // a handler was attached after the rejection
		if q == p {
			v.rejections = append(v.rejections[:i], v.rejections[i+1:]...)
			break
		}
	}
}

// unhandledRejection runs after each task of a call's event loop: a Promise rejected with
// no handler by then ends the call with "Uncaught (in promise) ..." (the iteration fails,
// as in k6, instead of the error going unseen). The called function's own Promise is left
// to call.
func (v *vu) unhandledRejection() error {
	for _, p := range v.rejections {
		if p != v.callResult && !v.isModulePromise(p) {
			return rejectionError(p.Result(), true)
		}
	}
	return nil
}

// trackRejections starts (on) or ends tracking the Promises rejected with no handler,
// emptying the list either way; its buffer is reused, so a call costs no allocation.
func (v *vu) trackRejections(on bool) {
	clear(v.rejections)
	v.rejections, v.tracking, v.callResult = v.rejections[:0], on, nil
}

// isModulePromise reports whether p is the evaluation of a module with top-level await:
// its importer (or settleMain, for the main script) reports its rejection.
func (v *vu) isModulePromise(p *goja.Promise) bool {
	for _, q := range v.pending {
		if q == p {
			return true
		}
	}
	return false
}

// call runs fn(args...) on the event loop until it and its promise settle.
func (v *vu) call(ctx context.Context, fn goja.Callable, args ...goja.Value) (goja.Value, error) {
	var result goja.Value
	v.trackRejections(true)
	err := v.withInterrupt(ctx, func() error {
		return v.loop.run(ctx, func() error {
			var err error
			result, err = fn(goja.Undefined(), args...)
			if result != nil {
				v.callResult, _ = result.Export().(*goja.Promise)
			}
			return err
		})
	})
	v.trackRejections(false)
	v.stopTimers()
	if v.aborted != nil {
		err, v.aborted = v.aborted, nil
		v.rt.ClearInterrupt()
		return nil, err
	}
	if err == nil && result != nil {
		if p, ok := result.Export().(*goja.Promise); ok {
			switch p.State() {
			case goja.PromiseStateRejected:
				err = v.rejection(p.Result())
			case goja.PromiseStateFulfilled:
				result = p.Result()
			default:
				result = goja.Undefined()
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil && !IsAbort(v.convertErr(err)) {
			return nil, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return nil, v.convertErr(err)
	}
	return result, nil
}

func (v *vu) rejection(val goja.Value) error {
	if o, ok := val.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			s := st.String()
			first, rest, _ := strings.Cut(s, "\n")
			return &ScriptException{Message: first, Stack: strings.TrimRight(rest, "\n")}
		}
	}
	return &ScriptException{Message: "Uncaught (in promise) " + val.String()}
}

// runFunc calls the exported function name with data as its argument; out (when non-nil)
// receives the result as JSON.
func (v *vu) runFunc(ctx context.Context, name string, data json.RawMessage, out *json.RawMessage) error {
	fn, err := v.exportFn(name)
	if err != nil {
		return err
	}
	v.ctx = ctx
	arg, err := v.parseData(data)
	if err != nil {
		return err
	}
	// k6 runs setup and teardown as the groups "::setup" and "::teardown".
	v.state.Group = "::" + name
	defer func() { v.state.Group = "" }()
	res, err := v.call(ctx, fn, arg)
	if err != nil {
		return err
	}
	if out != nil && !isNullish(res) {
		raw, err := v.stringify(res)
		if err != nil {
			return fmt.Errorf("%s() result: %w", name, err)
		}
		*out = raw
	}
	return nil
}

func (v *vu) handleSummary(ctx context.Context, data json.RawMessage) (map[string]string, error) {
	fn, err := v.exportFn("handleSummary")
	if err != nil {
		return nil, err
	}
	v.ctx = ctx
	_, parse := v.jsonFuncs()
	arg, err := parse(goja.Undefined(), v.rt.ToValue(string(data)))
	if err != nil {
		return nil, fmt.Errorf("parsing summary data: %w", err)
	}
	// k6's data always has setup_data: undefined when the test had none (JSON has no
	// undefined, so the key is added here).
	if o, ok := arg.(*goja.Object); ok && o.Get("setup_data") == nil {
		_ = o.Set("setup_data", goja.Undefined())
	}
	res, err := v.call(ctx, fn, arg)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if isNullish(res) {
		return out, nil
	}
	obj := res.ToObject(v.rt)
	for _, k := range obj.Keys() {
		val := obj.Get(k)
		switch x := val.Export().(type) {
		case goja.ArrayBuffer:
			out[k] = string(x.Bytes())
		case []byte:
			out[k] = string(x)
		default:
			out[k] = val.String()
		}
	}
	return out, nil
}

// RunIteration implements VU.
func (v *vu) RunIteration(ctx context.Context, exec string, data json.RawMessage) error {
	if exec == "" {
		exec = "default"
	}
	fn, err := v.exportFn(exec)
	if err != nil {
		return err
	}
	arg, err := v.parseData(data)
	if err != nil {
		return err
	}
	st := v.state
	v.ctx = ctx
	st.Group = ""
	v.iterInVU++
	if st.Options.NoVUConnectionReuse && st.HTTPClient != nil && v.iterInVU > 1 {
		st.HTTPClient.CloseIdleConnections() // k6: no connection outlives its iteration
	}
	if !st.Options.NoCookiesReset && st.HTTPClient != nil && st.HTTPClient.Jar != nil && v.iterInVU > 1 {
		st.HTTPClient.Jar = httpmod.NewJar() // k6 starts every iteration with an empty jar
	}
	start := time.Now()
	_, err = v.call(ctx, fn, arg)
	end := time.Now()
	if ctx.Err() != nil || IsAbort(err) {
		return err // interrupted: k6 emits no iteration samples; bytes carry over
	}
	tags := k6.SampleTags(st) // group is "" here
	b := st.Builtin
	st.Samples.Push(ctx, []metrics.Sample{
		{Metric: b.DataSent, Tags: tags, Time: end, Value: float64(st.Bytes.Sent.Swap(0))},
		{Metric: b.DataReceived, Tags: tags, Time: end, Value: float64(st.Bytes.Received.Swap(0))},
		{Metric: b.IterationDuration, Tags: tags, Time: end, Value: float64(end.Sub(start)) / float64(time.Millisecond)},
		{Metric: b.Iterations, Tags: tags, Time: end, Value: 1},
	})
	return err
}

// IterationsInVU returns how many iterations this VU has started (vu.iterationInInstance).
func (v *vu) IterationsInVU() int64 { return v.iterInVU }

// discardLogger drops everything.
type discardLogger struct{}

func (discardLogger) Log(string, string) {}

// ScriptOptions returns the script's exported options (k6/execution's test.options).
func (v *vu) ScriptOptions() json.RawMessage { return v.b.options }

// readFileCtx reads p with read for open(). A read that can block in the kernel for as long
// as another process likes — a FIFO without a writer, a terminal or socket such as
// /dev/stdin — runs on its own goroutine, so that the init context still ends with ctx (a
// signal during init exits 105 at once); that goroutine exits when the read returns, at the
// latest with the process. Regular files (and paths a custom reader serves) are read directly.
func readFileCtx(ctx context.Context, read func(string) ([]byte, error), p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil || st.Mode()&(fs.ModeNamedPipe|fs.ModeCharDevice|fs.ModeSocket) == 0 || ctx.Done() == nil {
		return read(p)
	}
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := read(p)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// userMetadata adds the VU's metadata (vu.metrics.metadata) to every sample the VU pushes,
// as k6 does; a sample's own metadata (vu, iter, ...) wins. While the script has set none,
// samples pass untouched.
type userMetadata struct {
	next metrics.Pusher
	md   *modules.TagMap
}

func (p userMetadata) Push(ctx context.Context, samples []metrics.Sample) {
	if p.md.Version() != 0 {
		if md := p.md.Clone(); len(md) > 0 {
			for i := range samples {
				m := make(map[string]string, len(md)+len(samples[i].Metadata))
				for k, v := range md {
					m[k] = v
				}
				for k, v := range samples[i].Metadata {
					m[k] = v
				}
				samples[i].Metadata = m
			}
		}
	}
	p.next.Push(ctx, samples)
}
