// Package data is the k6/data module: SharedArray, an array built once (by the first VU that
// asks for a name) and then given to every VU, read-only.
package data

import (
	"fmt"
	"sync"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6/data", &Root{arrays: map[arrayKey]*shared{}}) }

// Root is the k6/data module; it holds the arrays shared by the VUs of each test run.
type Root struct {
	mu     sync.Mutex
	arrays map[arrayKey]*shared
}

// arrayKey names an array within one test run: a run is identified by its metric registry,
// so two runs in one process (tests, an embedding program) never see each other's arrays.
type arrayKey struct {
	run  *metrics.Registry
	name string
}

var _ modules.Module = (*Root)(nil)

// shared is one named array, stored as JSON; each VU parses it once.
type shared struct {
	once sync.Once
	raw  string
	err  error
}

// NewModuleInstance implements modules.Module.
func (r *Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{root: r, vu: vu} }

type instance struct {
	root *Root
	vu   modules.VU
}

func (m *instance) Exports() modules.Exports {
	named := map[string]any{"SharedArray": m.sharedArray}
	return modules.Exports{Default: named, Named: named}
}

func (r *Root) get(run *metrics.Registry, name string) *shared {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := arrayKey{run, name}
	s, ok := r.arrays[k]
	if !ok {
		s = &shared{}
		r.arrays[k] = s
	}
	return s
}

// sharedArray is `new SharedArray(name, fn)`: fn runs once per test run and must return an
// array; every VU gets a copy frozen all the way down (its elements too).
func (m *instance) sharedArray(call goja.ConstructorCall) *goja.Object {
	rt := m.vu.Runtime()
	env := m.vu.InitEnv()
	if env == nil {
		panic(rt.NewGoError(fmt.Errorf("new SharedArray() is only possible in the init context")))
	}
	name := call.Argument(0).String()
	fn, ok := goja.AssertFunction(call.Argument(1))
	if name == "" || !ok {
		panic(rt.NewTypeError("SharedArray(name, fn): a non-empty name and a function are required"))
	}
	s := m.root.get(env.Registry, name)
	s.once.Do(func() {
		v, err := fn(goja.Undefined())
		if err != nil {
			s.err = err
			return
		}
		obj, isObj := v.(*goja.Object)
		if !isObj || obj.ClassName() != "Array" {
			s.err = fmt.Errorf("SharedArray %q: the function must return an array", name)
			return
		}
		// JSON.stringify, not Go's encoder: it keeps the objects' key order, as k6 does.
		stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
		b, err := stringify(goja.Undefined(), v)
		if err != nil {
			s.err = fmt.Errorf("SharedArray %q: %w", name, err)
			return
		}
		s.raw = b.String()
	})
	if s.err != nil {
		panic(rt.NewGoError(s.err))
	}
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	freeze, _ := goja.AssertFunction(rt.Get("Object").ToObject(rt).Get("freeze"))
	// The reviver sees every value bottom-up: each object and array, the elements' own
	// included, is frozen, so the data is read-only all the way down as in k6.
	reviver := rt.ToValue(func(call goja.FunctionCall) goja.Value {
		v := call.Argument(1)
		if _, isObj := v.(*goja.Object); isObj {
			if _, err := freeze(goja.Undefined(), v); err != nil {
				panic(err)
			}
		}
		return v
	})
	arr, err := parse(goja.Undefined(), rt.ToValue(s.raw), reviver)
	if err != nil {
		panic(err)
	}
	return arr.ToObject(rt)
}
