// Package streams is the k6/experimental/streams module: ReadableStream with its default
// reader and controller, CountQueuingStrategy and ByteLengthQueuingStrategy, as k6 documents
// them (the readable half of the WHATWG Streams standard; no byte streams, BYOB readers,
// tee or pipes, which k6 lacks too). It is written in JavaScript (streams.js), compiled once
// per process and evaluated in each VU's runtime.
package streams

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

//go:embed streams.js
var source string

func init() { modules.Register("k6/experimental/streams", &Root{}) }

// Root is the k6/experimental/streams module; it compiles streams.js on first use.
type Root struct {
	once sync.Once
	prog *goja.Program
	err  error
}

var _ modules.Module = (*Root)(nil)

// names are the module's exports.
var names = []string{"ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamDefaultController", "CountQueuingStrategy", "ByteLengthQueuingStrategy"}

// NewModuleInstance implements modules.Module.
func (r *Root) NewModuleInstance(vu modules.VU) modules.Instance {
	r.once.Do(func() { r.prog, r.err = goja.Compile("k6/experimental/streams", source, true) })
	return &instance{root: r, vu: vu}
}

type instance struct {
	root *Root
	vu   modules.VU
}

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	if m.root.err != nil {
		panic(rt.NewGoError(fmt.Errorf("k6/experimental/streams: %w", m.root.err)))
	}
	factory, err := rt.RunProgram(m.root.prog)
	if err != nil {
		panic(err)
	}
	fn, ok := goja.AssertFunction(factory)
	if !ok {
		panic(rt.NewGoError(fmt.Errorf("k6/experimental/streams: internal error: no factory")))
	}
	exp, err := fn(goja.Undefined())
	if err != nil {
		panic(err)
	}
	obj := exp.ToObject(rt)
	named := make(map[string]any, len(names))
	for _, n := range names {
		named[n] = obj.Get(n)
	}
	return modules.Exports{Default: named, Named: named}
}
