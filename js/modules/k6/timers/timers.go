// Package timers is the k6/timers module: setTimeout, clearTimeout, setInterval and
// clearInterval as imports. They are the VU's global timer functions (run on its event
// loop), so a script may import them or use the globals, as in k6.
package timers

import (
	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/timers", Root{}) }

// Root is the k6/timers module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

// names are the module's exports, each the global of the same name.
var names = []string{"setTimeout", "clearTimeout", "setInterval", "clearInterval"}

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	named := make(map[string]any, len(names))
	for _, n := range names {
		named[n] = rt.Get(n)
	}
	return modules.Exports{Default: named, Named: named}
}
