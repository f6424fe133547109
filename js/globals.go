package js

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// installGlobals defines the k6 globals on the VU's runtime.
func (v *vu) installGlobals() error {
	rt := v.rt
	env := rt.NewObject()
	for _, m := range []map[string]string{v.b.opts.Env, v.state.Env} { // the scenario's env wins
		for k, val := range m {
			if err := env.Set(k, val); err != nil {
				return err
			}
		}
	}
	console := rt.NewObject()
	for _, lv := range []struct{ name, level string }{
		{"log", "info"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}, {"debug", "debug"},
	} {
		level := lv.level
		if err := console.Set(lv.name, func(call goja.FunctionCall) goja.Value {
			v.state.Logger.Log(level, v.formatArgs(call.Arguments))
			return goja.Undefined()
		}); err != nil {
			return err
		}
	}
	perf := rt.NewObject()
	start := v.b.start
	if err := perf.Set("now", func(goja.FunctionCall) goja.Value {
		return rt.ToValue(float64(time.Since(start).Nanoseconds()) / 1e6)
	}); err != nil {
		return err
	}
	globals := map[string]any{
		"__ENV":         env,
		"__VU":          v.state.VUID,
		"__ITER":        v.state.Iteration,
		"console":       console,
		"performance":   perf,
		"open":          v.open,
		"require":       v.requireFrom(filepath.Dir(v.b.path)),
		"setTimeout":    func(call goja.FunctionCall) goja.Value { return v.setTimer(call, false) },
		"setInterval":   func(call goja.FunctionCall) goja.Value { return v.setTimer(call, true) },
		"clearTimeout":  v.clearTimer,
		"clearInterval": v.clearTimer,
		"global":        rt.GlobalObject(),
		"globalThis":    rt.GlobalObject(),
	}
	for k, val := range globals {
		if err := rt.Set(k, val); err != nil {
			return fmt.Errorf("defining global %s: %w", k, err)
		}
	}
	return nil
}

// formatArgs renders console arguments like k6: strings as they are, objects as JSON.
func (v *vu) formatArgs(args []goja.Value) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if o, ok := a.(*goja.Object); ok {
			if _, isFn := goja.AssertFunction(o); !isFn && o.ClassName() != "Error" {
				if s, err := v.stringFn(goja.Undefined(), o); err == nil && !goja.IsUndefined(s) {
					b.WriteString(s.String())
					continue
				}
			}
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// open reads a file relative to the current script's directory; init context only.
func (v *vu) open(call goja.FunctionCall) goja.Value {
	if v.initEnv == nil {
		panic(v.rt.NewGoError(fmt.Errorf("open() can be used only in the init context")))
	}
	name := call.Argument(0).String()
	data, err := v.initEnv.ReadFile(name)
	if err != nil {
		panic(v.rt.NewGoError(fmt.Errorf("open(%q): %w", name, err)))
	}
	if call.Argument(1).String() == "b" {
		return v.rt.ToValue(v.rt.NewArrayBuffer(data))
	}
	return v.rt.ToValue(string(data))
}

// requireFrom returns a require function resolving local files relative to dir.
func (v *vu) requireFrom(dir string) func(call goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		spec := call.Argument(0).String()
		exp, err := v.require(dir, spec)
		if err != nil {
			var ex *goja.Exception
			if errors.As(err, &ex) {
				panic(ex) // an exception in the imported file: keep its own message and stack
			}
			panic(v.rt.NewGoError(err))
		}
		return exp
	}
}

func (v *vu) require(dir, spec string) (*goja.Object, error) {
	if !isLocalSpec(spec) {
		return v.requireBuiltin(spec)
	}
	if v.initEnv == nil {
		return nil, fmt.Errorf("require(%q): imports are only possible in the init context", spec)
	}
	p, err := resolvePath(dir, strings.TrimPrefix(spec, "file://"), v.fileExists)
	if err != nil {
		return nil, err
	}
	return v.requireFile(p)
}

func (v *vu) fileExists(p string) bool {
	if v.b.opts.ReadFile == nil {
		st, err := os.Stat(p)
		return err == nil && !st.IsDir()
	}
	if st, err := os.Stat(p); err == nil {
		return !st.IsDir()
	}
	_, err := v.b.opts.ReadFile(p)
	return err == nil
}

// requireFile runs a local module (once per VU) and returns its exports. A module that is
// still initialising (an import cycle) returns its partial exports, as Node does.
func (v *vu) requireFile(abs string) (*goja.Object, error) {
	if m, ok := v.modules[abs]; ok {
		return m.Get("exports").ToObject(v.rt), nil
	}
	c, err := v.b.comp.load(abs)
	if err != nil {
		return nil, err
	}
	fnVal, err := v.rt.RunProgram(c.prog)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(fnVal)
	if !ok {
		return nil, fmt.Errorf("%s: internal error: module wrapper is not a function", abs)
	}
	module := v.rt.NewObject()
	exports := v.rt.NewObject()
	_ = module.Set("exports", exports)
	v.modules[abs] = module
	dir := filepath.Dir(abs)
	prevCWD := v.initEnv.CWD
	v.initEnv.CWD = dir
	_, err = fn(goja.Undefined(), exports, v.rt.ToValue(v.requireFrom(dir)), module, v.rt.ToValue(abs), v.rt.ToValue(dir))
	v.initEnv.CWD = prevCWD
	if err != nil {
		return nil, err
	}
	return module.Get("exports").ToObject(v.rt), nil
}

// requireBuiltin returns a registered module's exports for this VU (one instance per VU),
// shaped for esbuild's ES module interop: __esModule, default and the named exports.
func (v *vu) requireBuiltin(name string) (*goja.Object, error) {
	if m, ok := v.modules[name]; ok {
		return m, nil
	}
	mod, ok := modules.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown module %q: not a built-in module, an extension linked into this binary, or a local file (local imports start with ./ or ../)", name)
	}
	var exp modules.Exports
	if m, ok := mod.(modules.Module); ok {
		exp = m.NewModuleInstance(v).Exports()
	} else {
		exp.Default = mod
	}
	obj := v.rt.NewObject()
	_ = obj.Set("__esModule", true)
	for k, val := range exp.Named {
		if err := obj.Set(k, val); err != nil {
			return nil, fmt.Errorf("module %q export %q: %w", name, k, err)
		}
	}
	if exp.Default != nil {
		def := v.rt.ToValue(exp.Default)
		_ = obj.Set("default", def)
		if len(exp.Named) == 0 {
			// Named imports read through the default object (getters stay lazy).
			if dobj, ok := def.(*goja.Object); ok {
				if err := obj.SetPrototype(dobj); err != nil {
					return nil, fmt.Errorf("module %q: %w", name, err)
				}
			}
		}
	} else {
		_ = obj.Set("default", obj)
	}
	v.modules[name] = obj
	return obj, nil
}

// timer is one setTimeout/setInterval.
type timer struct {
	t       *time.Timer
	enqueue func(func() error)
}

func (v *vu) setTimer(call goja.FunctionCall, repeat bool) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(v.rt.NewTypeError("setTimeout/setInterval: the first argument must be a function"))
	}
	d := time.Duration(call.Argument(1).ToFloat() * float64(time.Millisecond))
	if d < 0 {
		d = 0
	}
	var args []goja.Value
	if len(call.Arguments) > 2 {
		args = append(args, call.Arguments[2:]...)
	}
	v.nextTimer++
	id := v.nextTimer
	var schedule func()
	schedule = func() {
		t := &timer{enqueue: v.loop.register()}
		v.timers[id] = t
		t.t = time.AfterFunc(d, func() {
			t.enqueue(func() error {
				if v.timers[id] != t {
					return nil // cleared
				}
				if !repeat {
					delete(v.timers, id)
				}
				if _, err := fn(goja.Undefined(), args...); err != nil {
					return err
				}
				if repeat && v.timers[id] == t {
					schedule()
				}
				return nil
			})
		})
	}
	schedule()
	return v.rt.ToValue(id)
}

func (v *vu) clearTimer(call goja.FunctionCall) goja.Value {
	id := call.Argument(0).ToInteger()
	if t, ok := v.timers[id]; ok {
		delete(v.timers, id)
		if t.t.Stop() {
			t.enqueue(func() error { return nil }) // release the loop slot
		}
	}
	return goja.Undefined()
}

func (v *vu) stopTimers() {
	for id, t := range v.timers {
		t.t.Stop()
		delete(v.timers, id)
	}
}
