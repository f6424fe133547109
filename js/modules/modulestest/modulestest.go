// Package modulestest runs a module on a fake VU, for the module's tests: a real goja
// runtime with the runner's field-name mapper, the runner's event loop (package eventloop),
// a State wired to a fresh metric registry and a capturing sample sink, and a test run scope
// (modules.Run) closed when the test ends. An extension's test reads:
//
//	rt := modulestest.New(t)
//	rt.Instantiate(mymod.New(), "mymod") // init context: NewModuleInstance, global `mymod`
//	rt.MoveToVUContext()                 // iterations: State() is non-nil from here on
//	rt.MustRunString(`mymod.doAsync().then(function (r) { globalThis.r = r; })`) // waits for the promise
//	samples := rt.Samples.Metric("my_metric")
//
// RunString runs code the way an iteration runs: the code, then every callback queued
// through VU.RegisterCallback, until none is pending (or the VU's context ends).
package modulestest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/eventloop"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// Runtime is a fake VU with its sinks. Its fields may be changed between runs (State's tags,
// group, options, ...) from the test's goroutine.
type Runtime struct {
	t testing.TB

	// VU is what module instances get.
	VU *VU
	// State is the VU's state, already built during the init context (VU.State() returns it
	// once MoveToVUContext has been called).
	State *modules.State
	// Registry is the test run's metric registry; Builtin its built-in metrics.
	Registry *metrics.Registry
	Builtin  *metrics.Builtin
	// Samples records every sample the VU pushes.
	Samples *metricstest.Capture
	// Logs records the State's Logger output.
	Logs *Logs
	// Run is the test run scope, closed by the test's cleanup (or earlier by EndRun).
	Run *modules.Run

	cancel context.CancelFunc
}

// New returns a VU in its init context, with VU number 1 in scenario "default" at the top
// level group. Its context ends, and its Run is closed, when the test ends.
func New(t testing.TB) *Runtime {
	t.Helper()
	reg := metrics.NewRegistry()
	run := modules.NewRun()
	// Cleanups run last-registered first: the VUs' contexts end, then the run.
	t.Cleanup(func() {
		if err := run.Close(); err != nil {
			t.Errorf("closing the test run: %v", err)
		}
	})
	return newVU(t, 1, reg, metrics.RegisterBuiltin(reg), &metricstest.Capture{}, &Logs{}, run)
}

// AnotherVU returns the next VU of the same test run: its own goja runtime, event loop,
// context and State (VUID one more than r's), in its init context, sharing r's Registry,
// Builtin, Samples, Logs and Run.
func (r *Runtime) AnotherVU() *Runtime {
	return newVU(r.t, r.State.VUID+1, r.Registry, r.Builtin, r.Samples, r.Logs, r.Run)
}

func newVU(t testing.TB, id uint64, reg *metrics.Registry, builtin *metrics.Builtin, samples *metricstest.Capture, logs *Logs, run *modules.Run) *Runtime {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rt := goja.New()
	rt.SetFieldNameMapper(modules.FieldNameMapper{})
	r := &Runtime{
		t: t, Registry: reg, Builtin: builtin, Samples: samples, Logs: logs, Run: run, cancel: cancel,
	}
	r.State = &modules.State{
		VUID: id, VUIDGlobal: id, Scenario: "default",
		Tags:     modules.NewTagMap(nil),
		Registry: reg, Builtin: builtin, Samples: samples, Logger: logs,
		Bytes: &modules.ByteCounter{}, Run: run,
	}
	env := &modules.InitEnvironment{Registry: reg, Run: run}
	env.ReadFile = func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(env.CWD, p)
		}
		return os.ReadFile(p)
	}
	r.VU = &VU{ctx: ctx, rt: rt, loop: eventloop.New(), initEnv: env, owner: r}
	return r
}

// Instantiate makes mod's instance for this VU (as the runner does when the script imports
// it, in the init context) and binds its default export to the global name (skipped when
// name is ""). A module whose Default is nil gets its named exports as an object.
func (r *Runtime) Instantiate(mod modules.Module, name string) modules.Instance {
	r.t.Helper()
	mi := mod.NewModuleInstance(r.VU)
	if name != "" {
		exp := mi.Exports()
		var v any = exp.Default
		if v == nil {
			v = exp.Named
		}
		if err := r.VU.rt.Set(name, v); err != nil {
			r.t.Fatalf("binding %s: %v", name, err)
		}
	}
	return mi
}

// Import instantiates the module registered as importPath (modules.Register) and binds it to
// the global name; the test fails if none is registered or it is not a modules.Module.
func (r *Runtime) Import(importPath, name string) modules.Instance {
	r.t.Helper()
	m, ok := modules.Lookup(importPath)
	if !ok {
		r.t.Fatalf("%s is not registered", importPath)
	}
	mod, ok := m.(modules.Module)
	if !ok {
		r.t.Fatalf("%s is registered as a %T, not a modules.Module", importPath, m)
	}
	return r.Instantiate(mod, name)
}

// MoveToVUContext ends the init context: InitEnv() becomes nil and State() returns State.
func (r *Runtime) MoveToVUContext() { r.VU.initEnv = nil }

// Cancel ends the VU's context, as the end of the test (or of the iteration's graceful stop)
// does.
func (r *Runtime) Cancel() { r.cancel() }

// EndRun closes the test run scope (modules.Run) now, as the runner does when the test ends.
func (r *Runtime) EndRun() error { return r.Run.Close() }

// RunString runs src on the VU's event loop: the code, then every callback it (or the
// callbacks) reserved through RegisterCallback, until none is pending or the VU's context
// ends. It returns the code's completion value and the first error (an exception of src or
// of a callback, or the context's error).
func (r *Runtime) RunString(src string) (goja.Value, error) {
	var v goja.Value
	err := r.VU.loop.Run(r.VU.ctx, func() error {
		var err error
		v, err = r.VU.rt.RunString(src)
		return err
	})
	return v, err
}

// MustRunString is RunString that fails the test on error.
func (r *Runtime) MustRunString(src string) goja.Value {
	r.t.Helper()
	v, err := r.RunString(src)
	if err != nil {
		r.t.Fatalf("script failed: %v\n%s", err, src)
	}
	return v
}

// VU is the fake modules.VU. Its methods follow modules.VU's contract.
type VU struct {
	ctx     context.Context
	rt      *goja.Runtime
	loop    *eventloop.Loop
	initEnv *modules.InitEnvironment
	owner   *Runtime
	calls   atomic.Int64 // RegisterCallback calls
}

var _ modules.VU = (*VU)(nil)

// Context implements modules.VU.
func (v *VU) Context() context.Context { return v.ctx }

// Runtime implements modules.VU.
func (v *VU) Runtime() *goja.Runtime { return v.rt }

// InitEnv implements modules.VU: non-nil until MoveToVUContext.
func (v *VU) InitEnv() *modules.InitEnvironment { return v.initEnv }

// State implements modules.VU: nil in the init context.
func (v *VU) State() *modules.State {
	if v.initEnv != nil {
		return nil
	}
	return v.owner.State
}

// RegisterCallback implements modules.VU with the runner's event loop.
func (v *VU) RegisterCallback() func(f func() error) {
	v.calls.Add(1)
	return v.loop.Register()
}

// HoldCallback implements modules.VU with the runner's event loop.
func (v *VU) HoldCallback(f func() error) *eventloop.Slot {
	v.calls.Add(1)
	return v.loop.Hold(f)
}

// Callbacks returns how many times RegisterCallback has been called, so a test can check
// that a synchronous module never uses the event loop.
func (v *VU) Callbacks() int64 { return v.calls.Load() }

// Logs is a modules.Logger that records "level: msg" lines. Safe for concurrent use.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

var _ modules.Logger = (*Logs)(nil)

// Log implements modules.Logger.
func (l *Logs) Log(level, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, level+": "+msg)
	l.mu.Unlock()
}

// Lines returns the lines logged so far.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Goroutines returns how many goroutines have a stack containing match (a function name such
// as "ws.(*socket).read(" or "evloop.(*Loop).run("), for leak checks. Goroutines that have
// been told to stop may still be exiting, so it waits, up to a second, for the count to
// reach 0.
func Goroutines(match string) int { return WaitGoroutines(match, 0) }

// WaitGoroutines is Goroutines for a process that may run some such goroutines of its own
// (other tests' servers): it waits, up to 10 s (a busy machine may be slow to let
// goroutines exit), for the count to fall to want or below,
// and returns the count.
func WaitGoroutines(match string, want int) int {
	n := CountGoroutines(match)
	for i := 0; i < 2000 && n > want; i++ {
		time.Sleep(5 * time.Millisecond)
		n = CountGoroutines(match)
	}
	return n
}

// CountGoroutines returns how many goroutines have a stack containing match, now.
func CountGoroutines(match string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return countStacks(string(buf[:n]), match)
		}
		buf = make([]byte, 2*len(buf))
	}
}

// countStacks counts the goroutine stacks of a runtime.Stack dump that contain match.
func countStacks(dump, match string) int {
	n := 0
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, match) {
			n++
		}
	}
	return n
}
