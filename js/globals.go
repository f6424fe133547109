package js

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/eventloop"
	"github.com/pixelk6/pixelk6/js/textcodec"
	"github.com/pixelk6/pixelk6/js/webcrypto"
)

// installGlobals defines the k6 globals on the VU's runtime. They are served by a dynamic
// object put between the global object and Object.prototype (the global object itself
// stays as goja made it, its built-ins unmaterialised), and each becomes a JavaScript value
// the first time the script reads it: a goja function costs about 900 bytes and most VUs
// use few of these globals, so a VU does not pay for the ones its script never touches.
// __ITER is read from the VU's state on every access. Assigning one of these names from the
// script creates an own property of the global object, as usual.
func (v *vu) installGlobals() error {
	if err := v.rt.GlobalObject().SetPrototype(v.rt.NewDynamicObject(&lazyGlobals{v: v})); err != nil {
		return fmt.Errorf("installing globals: %w", err)
	}
	return nil
}

// assignedGlobal finds an assignment (plain or compound) to one of the lazily made globals
// by its bare name: not a member (obj.console = ...), not a comparison (==, ===, <=, ...).
var assignedGlobal = regexp.MustCompile(`(?:^|[^.\w$])(TextDecoder|TextEncoder|__ENV|__VU|clearInterval|clearTimeout|console|crypto|global|open|performance|require|setInterval|setTimeout)\s*(?:\*\*|<<|>>>|>>|&&|\|\||\?\?|[-+*/%&|^])?=(?:[^=]|$)`)

// assignedGlobals returns the lazily made globals that src assigns by bare name, once each.
// A match in a comment, a string or a declaration of a local of that name only costs the
// VU that global made up front.
func assignedGlobals(src string) []string {
	var out []string
	for _, m := range assignedGlobal.FindAllStringSubmatch(src, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// ownGlobals makes the globals names own properties of the global object before a module
// that assigns them runs. ES modules are strict mode code, and goja resolves a strict
// assignment to an undeclared name against the global object's own properties only, so
// `setTimeout = f` would throw a ReferenceError where k6 (whose globals are own
// properties) replaces the global. Scripts rarely do that, so the other VUs keep their
// globals lazy. __ITER, which changes with every iteration, is not offered.
func (v *vu) ownGlobals(names []string) {
	if len(names) == 0 {
		return
	}
	g := v.rt.GlobalObject()
	own := g.GetOwnPropertyNames()
	for _, k := range names {
		if slices.Contains(own, k) {
			continue // made already (by another module), perhaps assigned since
		}
		if val := g.Get(k); val != nil { // read through lazyGlobals
			_ = g.DefineDataProperty(k, val, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
	}
}

// lazyGlobalNames are the globals lazyGlobals serves, sorted.
var lazyGlobalNames = []string{"TextDecoder", "TextEncoder", "__ENV", "__ITER", "__VU", "clearInterval", "clearTimeout",
	"console", "crypto", "global",
	"open", "performance", "require", "setInterval", "setTimeout"}

// valueCache is a small map of property values (a VU caches two or three per object, where
// a Go map would cost several hundred bytes).
type valueCache []cachedValue

type cachedValue struct {
	k string
	v goja.Value
}

func (c valueCache) get(k string) (goja.Value, bool) {
	for _, e := range c {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

func (c *valueCache) set(k string, v goja.Value) {
	for i := range *c {
		if (*c)[i].k == k {
			(*c)[i].v = v
			return
		}
	}
	*c = append(*c, cachedValue{k, v})
}

func (c *valueCache) del(k string) {
	*c = slices.DeleteFunc(*c, func(e cachedValue) bool { return e.k == k })
}

// lazyGlobals is the global object's prototype: it makes the k6 globals on first read.
type lazyGlobals struct {
	v     *vu
	cache valueCache
}

func (g *lazyGlobals) Get(k string) goja.Value {
	if val, ok := g.cache.get(k); ok {
		return val
	}
	if k == "__ITER" {
		return g.v.rt.ToValue(g.v.state.Iteration)
	}
	val := g.make(k)
	if val == nil {
		return nil
	}
	g.Set(k, val)
	return val
}

// make builds the global k, nil for a name it does not serve.
func (g *lazyGlobals) make(k string) goja.Value {
	v, rt := g.v, g.v.rt
	switch k {
	case "__VU":
		return rt.ToValue(v.state.VUID)
	case "global":
		return rt.GlobalObject()
	case "__ENV":
		return rt.NewDynamicObject(&envObject{rt: rt, layers: [2]map[string]string{v.state.Env, v.b.opts.Env}})
	case "console":
		return rt.NewDynamicObject(&consoleObject{v: v})
	case "crypto":
		return webcrypto.New(v)
	case "TextEncoder":
		return textcodec.Encoder(rt)
	case "TextDecoder":
		return textcodec.Decoder(rt)
	case "performance":
		perf := rt.NewObject()
		start := v.b.start
		_ = perf.Set("now", func(goja.FunctionCall) goja.Value {
			return rt.ToValue(float64(time.Since(start).Nanoseconds()) / 1e6)
		})
		return perf
	case "open":
		return rt.ToValue(v.open)
	case "require":
		return rt.ToValue(v.requireFrom(filepath.Dir(v.b.path)))
	case "setTimeout":
		return rt.ToValue(func(call goja.FunctionCall) goja.Value { return v.setTimer(call, false) })
	case "setInterval":
		return rt.ToValue(func(call goja.FunctionCall) goja.Value { return v.setTimer(call, true) })
	case "clearTimeout", "clearInterval":
		return rt.ToValue(v.clearTimer)
	}
	return nil
}

func (g *lazyGlobals) Set(k string, val goja.Value) bool {
	g.cache.set(k, val)
	return true
}

func (g *lazyGlobals) Has(k string) bool {
	if _, ok := g.cache.get(k); ok {
		return true
	}
	_, ok := slices.BinarySearch(lazyGlobalNames, k)
	return ok
}

func (g *lazyGlobals) Delete(k string) bool { g.cache.del(k); return true }

func (g *lazyGlobals) Keys() []string {
	keys := slices.Clone(lazyGlobalNames)
	for _, e := range g.cache {
		k := e.k
		if _, ok := slices.BinarySearch(lazyGlobalNames, k); !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// envObject is __ENV: the scenario's env over the run's (-e and the process environment),
// read from the shared maps; the script's own assignments and deletions are kept per VU.
type envObject struct {
	rt      *goja.Runtime
	layers  [2]map[string]string // first wins
	own     map[string]goja.Value
	deleted map[string]bool
}

func (e *envObject) lookup(k string) (string, bool) {
	if e.deleted[k] {
		return "", false
	}
	for _, m := range e.layers {
		if s, ok := m[k]; ok {
			return s, true
		}
	}
	return "", false
}

func (e *envObject) Get(k string) goja.Value {
	if val, ok := e.own[k]; ok {
		return val
	}
	if s, ok := e.lookup(k); ok {
		return e.rt.ToValue(s)
	}
	return nil
}

func (e *envObject) Set(k string, val goja.Value) bool {
	if e.own == nil {
		e.own = map[string]goja.Value{}
	}
	e.own[k] = val
	delete(e.deleted, k)
	return true
}

func (e *envObject) Has(k string) bool {
	if _, ok := e.own[k]; ok {
		return true
	}
	_, ok := e.lookup(k)
	return ok
}

func (e *envObject) Delete(k string) bool {
	delete(e.own, k)
	if e.deleted == nil {
		e.deleted = map[string]bool{}
	}
	e.deleted[k] = true
	return true
}

// Keys returns the variables sorted by name (JSON.stringify(__ENV) is stable).
func (e *envObject) Keys() []string {
	seen := map[string]bool{}
	var keys []string
	add := func(k string) {
		if !seen[k] && !e.deleted[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for k := range e.own {
		add(k)
	}
	for _, m := range e.layers {
		for k := range m {
			add(k)
		}
	}
	sort.Strings(keys)
	return keys
}

// consoleLevels maps console's methods to log levels (k6's).
var consoleLevels = map[string]string{"log": "info", "info": "info", "warn": "warn", "error": "error", "debug": "debug"}

// fieldLogger is a modules.Logger that also takes key, value fields (logfmt.Logger).
type fieldLogger interface {
	LogFields(level, msg string, kv ...string)
}

// consoleObject is console: each method becomes a function on first use.
type consoleObject struct {
	v     *vu
	cache valueCache
}

func (c *consoleObject) Get(k string) goja.Value {
	if val, ok := c.cache.get(k); ok {
		return val
	}
	level, ok := consoleLevels[k]
	if !ok {
		return nil
	}
	v := c.v
	val := v.rt.ToValue(func(call goja.FunctionCall) goja.Value {
		msg := v.formatArgs(call.Arguments)
		// k6 marks console lines source=console; a logger with fields gets the mark (and
		// may route the line to --console-output).
		if lf, ok := v.state.Logger.(fieldLogger); ok {
			lf.LogFields(level, msg, "source", "console")
		} else {
			v.state.Logger.Log(level, msg)
		}
		return goja.Undefined()
	})
	c.Set(k, val)
	return val
}

func (c *consoleObject) Set(k string, val goja.Value) bool {
	c.cache.set(k, val)
	return true
}

func (c *consoleObject) Has(k string) bool {
	_, cached := c.cache.get(k)
	_, method := consoleLevels[k]
	return cached || method
}

func (c *consoleObject) Delete(k string) bool { c.cache.del(k); return true }

func (c *consoleObject) Keys() []string {
	keys := []string{"debug", "error", "info", "log", "warn"}
	for _, e := range c.cache {
		k := e.k
		if _, ok := consoleLevels[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// formatArgs renders console arguments like k6: strings as they are, objects as JSON,
// typed arrays as their elements joined by commas.
func (v *vu) formatArgs(args []goja.Value) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if o, ok := a.(*goja.Object); ok && !isTypedArray(o) {
			if _, isFn := goja.AssertFunction(o); !isFn && o.ClassName() != "Error" {
				stringify, _ := v.jsonFuncs()
				if s, err := stringify(goja.Undefined(), o); err == nil && !goja.IsUndefined(s) {
					b.WriteString(s.String())
					continue
				}
			}
		}
		b.WriteString(a.String())
	}
	return b.String()
}

func isTypedArray(o *goja.Object) bool {
	switch o.Export().(type) {
	case []int8, []uint8, []int16, []uint16, []int32, []uint32, []int64, []uint64, []float32, []float64:
		return true
	}
	return false
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
	key, err := v.resolve(dir, spec)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return v.requireBuiltin(spec)
	}
	exp, err := v.requireKey(key, spec)
	if err != nil {
		return nil, err
	}
	if p := v.pending[key]; p != nil {
		switch p.State() {
		case goja.PromiseStatePending:
			return nil, fmt.Errorf("%s has a top-level await that has not settled when it is imported here: "+
				"pixelk6 waits for a module's top-level await only in a module that itself has one (add one to the importer)", key)
		case goja.PromiseStateRejected:
			return nil, rejectionError(p.Result(), false)
		}
	}
	return exp, nil
}

// resolve returns the module key (an absolute path or a remote module's URL) that spec,
// imported by the module whose directory (or URL, for a remote module) is dir, names; ""
// for a built-in or extension module.
func (v *vu) resolve(dir, spec string) (string, error) { return v.resolveSpec(dir, spec, true) }

// resolveSpec is resolve; warn logs k6's warning for a specifier made https.
func (v *vu) resolveSpec(dir, spec string, warn bool) (string, error) {
	if v.initEnv != nil {
		// dir is a local module's directory or a remote module's own URL (relative
		// imports resolve against it)
		u, ok, _, err := resolveRemote(dir, spec)
		if err != nil {
			return "", err
		}
		if !ok && !isLocalSpec(spec) && looksLikeHost(spec) {
			if _, builtin := modules.Lookup(spec); !builtin {
				u, ok = "https://"+spec, true
				if warn {
					v.state.Logger.Log("warning", fmt.Sprintf("The moduleSpecifier %q has no scheme but we will try to resolve it as remote module. "+
						"This will be deprecated in the future and all remote modules will need to explicitly use \"https\" as scheme.", spec))
				}
			}
		}
		if ok {
			return u, nil
		}
	}
	if !isLocalSpec(spec) {
		return "", nil
	}
	if v.initEnv == nil {
		return "", fmt.Errorf("require(%q): imports are only possible in the init context", spec)
	}
	return resolvePath(dir, strings.TrimPrefix(spec, "file://"), v.fileExists)
}

// requireKey runs the module key (see resolve), imported as spec.
func (v *vu) requireKey(key, spec string) (*goja.Object, error) {
	exp, err := v.requireFile(key)
	if re := (*RemoteModuleError)(nil); errors.As(err, &re) && re.URL == key {
		err = &RemoteModuleError{Spec: spec, URL: key, Err: re.Err} // the failed fetch, named as imported here
	}
	return exp, err
}

// importAsync is a module with top-level await importing spec: the module's exports, or a
// Promise of them while the imported module's own top-level await has not settled.
func (v *vu) importAsync(dir, spec string) (goja.Value, error) {
	key, err := v.resolve(dir, spec)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return v.requireBuiltin(spec)
	}
	exp, err := v.requireKey(key, spec)
	if err != nil {
		return nil, err
	}
	p := v.pending[key]
	if p == nil || p.State() == goja.PromiseStateFulfilled {
		return exp, nil
	}
	then, _ := goja.AssertFunction(v.rt.ToValue(p).ToObject(v.rt).Get("then"))
	return then(v.rt.ToValue(p), v.rt.ToValue(func(goja.FunctionCall) goja.Value { return exp }))
}

// asyncDeps reports whether the CommonJS module key (compiled as c) imports, directly or
// through its imports, a module with top-level await. The answer is kept in c: it is the
// same for every VU.
func (v *vu) asyncDeps(key string, c *compiled) bool {
	c.mu.Lock()
	done, r := c.depsChecked, c.depsAsync
	c.mu.Unlock()
	if done {
		return r
	}
	r = v.findAsyncDeps(key, c, map[string]bool{key: true})
	c.mu.Lock()
	c.depsChecked, c.depsAsync = true, r
	c.mu.Unlock()
	return r
}

// findAsyncDeps walks the literal imports of c (the module key) depth first; visiting
// cuts cycles. An import that does not resolve or load is skipped: requiring it fails
// later, where the error belongs.
func (v *vu) findAsyncDeps(key string, c *compiled, visiting map[string]bool) bool {
	base := moduleDir(key)
	if isRemote(key) {
		base = key
	}
	for _, spec := range c.deps {
		dk, err := v.resolveSpec(base, spec, false)
		if err != nil || dk == "" || visiting[dk] {
			continue
		}
		visiting[dk] = true
		dc, err := v.b.comp.load(v.ctx, dk)
		if err != nil {
			continue
		}
		if dc.async || v.findAsyncDeps(dk, dc, visiting) {
			return true
		}
	}
	return false
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
	c, err := v.b.comp.load(v.ctx, abs)
	if err != nil {
		return nil, err
	}
	prog, async := c.prog, c.async
	if !async && len(c.deps) > 0 && v.asyncDeps(abs, c) {
		// an import awaits at top level: this module waits for it as an async module
		if prog, err = c.asyncProgram(); err != nil {
			return nil, err
		}
		async = true
	}
	v.ownGlobals(c.assigned)
	fnVal, err := v.rt.RunProgram(prog)
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
	dir, base := moduleDir(abs), moduleDir(abs)
	prevCWD := v.initEnv.CWD
	if isRemote(abs) {
		base = abs // relative imports resolve against the module's URL; open() keeps the importer's directory
	} else {
		v.initEnv.CWD = dir
	}
	args := []goja.Value{exports, v.rt.ToValue(v.requireFrom(base)), module, v.rt.ToValue(abs), v.rt.ToValue(dir), v.isBuiltinFunc()}
	if async {
		open := v.rt.Get("open")
		if !isRemote(abs) {
			open = v.openFrom(dir)
		}
		args = append(args, v.tlaHelpers(base), open)
	}
	res, err := fn(goja.Undefined(), args...)
	v.initEnv.CWD = prevCWD
	if err != nil {
		return nil, err
	}
	if async {
		p, ok := res.Export().(*goja.Promise)
		if !ok {
			return nil, fmt.Errorf("%s: internal error: the async module function returned no Promise", abs)
		}
		if v.pending == nil {
			v.pending = map[string]*goja.Promise{}
		}
		v.pending[abs] = p
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
	if len(exp.Named) > 0 && (exp.Default == nil || sameMap(exp.Default, exp.Named)) {
		// The common shape: named exports (and the same object as default). Converted lazily,
		// so a VU pays only for the exports its script uses.
		lz := &lazyExports{rt: v.rt, named: exp.Named}
		obj := v.rt.NewDynamicObject(lz)
		lz.self = obj
		v.modules[name] = obj
		v.builtins = append(v.builtins, obj)
		return obj, nil
	}
	obj := v.rt.NewObject()
	_ = obj.Set("__esModule", true)
	for k, val := range exp.Named {
		if err := obj.Set(k, val); err != nil {
			return nil, fmt.Errorf("module %q export %q: %w", name, k, err)
		}
	}
	if exp.Default != nil && sameMap(exp.Default, exp.Named) {
		// The common `Default: named, Named: named`: one object, converted once.
		_ = obj.Set("default", obj)
	} else if exp.Default != nil {
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
	v.builtins = append(v.builtins, obj)
	return obj, nil
}

// isBuiltinFunc returns the VU's __pixelk6Builtin(value) function (see slimInterop): true
// when value is the exports object of a built-in or extension module.
func (v *vu) isBuiltinFunc() goja.Value {
	if v.isBuiltin == nil {
		v.isBuiltin = v.rt.ToValue(func(call goja.FunctionCall) goja.Value {
			if o, ok := call.Argument(0).(*goja.Object); ok {
				for _, b := range v.builtins {
					if b == o {
						return v.rt.ToValue(true)
					}
				}
			}
			return v.rt.ToValue(false)
		})
	}
	return v.isBuiltin
}

// lazyExports is a built-in module's exports object: each export is converted to a
// JavaScript value on first access. Scripts may overwrite or add properties.
type lazyExports struct {
	rt    *goja.Runtime
	named map[string]any
	self  *goja.Object
	cache valueCache
}

func (l *lazyExports) Get(k string) goja.Value {
	if v, ok := l.cache.get(k); ok {
		return v
	}
	var v goja.Value
	switch val, ok := l.named[k]; {
	case ok:
		v = l.rt.ToValue(val)
	case k == "__esModule":
		return l.rt.ToValue(true)
	case k == "default":
		return l.self
	default:
		return nil
	}
	l.Set(k, v)
	return v
}

func (l *lazyExports) Set(k string, v goja.Value) bool {
	l.cache.set(k, v)
	return true
}

func (l *lazyExports) Has(k string) bool {
	_, named := l.named[k]
	_, cached := l.cache.get(k)
	return named || cached || k == "__esModule" || k == "default"
}

func (l *lazyExports) Delete(k string) bool { l.cache.del(k); return true }

func (l *lazyExports) Keys() []string {
	keys := make([]string, 0, len(l.named)+2)
	keys = append(keys, "default") // esbuild's __toESM copies own property names
	for k := range l.named {
		keys = append(keys, k)
	}
	for _, e := range l.cache {
		k := e.k
		if _, ok := l.named[k]; !ok && k != "default" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// sameMap reports whether a is the map b (the same map value, not equal contents).
func sameMap(a any, b map[string]any) bool {
	m, ok := a.(map[string]any)
	return ok && b != nil && reflect.ValueOf(m).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// setTimer is setTimeout (repeat false) and setInterval: a timer on the VU's event loop,
// which keeps the iteration going until it has run (or been cleared).
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
	due := time.Now().Add(d)
	jt := &jsTimer{}
	jt.t = v.loop.afterFunc(d, func() error {
		if !repeat {
			delete(v.timers, id)
		}
		if _, err := fn(goja.Undefined(), args...); err != nil {
			return err
		}
		if repeat && !jt.cleared { // (clearInterval in the callback clears it)
			due = nextTick(due, jt.t.FiredAt(), d)
			jt.t.ResetAt(due)
		}
		return nil
	})
	v.timers[id] = jt
	return v.rt.ToValue(id)
}

// jsTimer is one setTimeout/setInterval; cleared is set by clearTimeout/clearInterval.
type jsTimer struct {
	t       *eventloop.Timer
	cleared bool
}

// nextTick is when an interval timer of period d that was due at due fires next, at now:
// one period after due, so the lateness of a tick (the loop was busy) does not add up over
// the ticks; if that time has passed already, now (one late tick, never a burst to catch
// up).
func nextTick(due, now time.Time, d time.Duration) time.Time {
	next := due.Add(d)
	if next.Before(now) {
		return now
	}
	return next
}

func (v *vu) clearTimer(call goja.FunctionCall) goja.Value {
	id := call.Argument(0).ToInteger()
	if jt, ok := v.timers[id]; ok {
		delete(v.timers, id)
		jt.cleared = true
		jt.t.Stop()
	}
	return goja.Undefined()
}

// stopTimers forgets the timers once a run of the loop has ended (which dropped them).
func (v *vu) stopTimers() { clear(v.timers) }
