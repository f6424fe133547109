// Package secrets is the k6/secrets module and its secret sources (k6's --secret-source):
// secrets.get(key) and secrets.source(name).get(key) return Promises of the secrets of the
// file, mock and url sources, and the Manager redacts every secret handed out from the run's
// logs (as ***SECRET_REDACTED***), as k6 does.
package secrets

import (
	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/secrets", Root{}) }

// Root is the k6/secrets module.
type Root struct{}

var (
	_ modules.Module  = Root{}
	_ modules.Secrets = (*Manager)(nil)
)

// NewModuleInstance implements modules.Module. The secrets come from the init context's
// environment (the runner's LoadOptions).
func (Root) NewModuleInstance(vu modules.VU) modules.Instance {
	var s modules.Secrets
	if env := vu.InitEnv(); env != nil {
		s = env.Secrets
	}
	return &instance{vu: vu, secrets: s}
}

type instance struct {
	vu      modules.VU
	secrets modules.Secrets
}

// Exports implements modules.Instance: a default export only, as k6 has.
func (m *instance) Exports() modules.Exports {
	obj := m.sourceObject(DefaultSource)
	_ = obj.Set("source", func(call goja.FunctionCall) goja.Value {
		return m.sourceObject(call.Argument(0).String())
	})
	return modules.Exports{Default: obj}
}

// sourceObject is the object of one source: its get(key) returns a Promise of the secret,
// rejected with an Error when the source or the key is unknown.
func (m *instance) sourceObject(name string) *goja.Object {
	rt := m.vu.Runtime()
	obj := rt.NewObject()
	_ = obj.Set("get", func(call goja.FunctionCall) goja.Value {
		p, resolve, reject := rt.NewPromise()
		key := call.Argument(0).String()
		if m.secrets == nil {
			_ = reject(jsError(rt, errNoSources))
			return rt.ToValue(p)
		}
		// a source may fetch over the network (url): off the VU's goroutine
		enqueue := m.vu.RegisterCallback()
		go func() {
			v, err := m.secrets.Get(name, key)
			enqueue(func() error {
				if err != nil {
					return reject(jsError(rt, err))
				}
				return resolve(v)
			})
		}()
		return rt.ToValue(p)
	})
	return obj
}

// jsError is a JavaScript Error with err's message.
func jsError(rt *goja.Runtime, err error) goja.Value {
	if e, nerr := rt.New(rt.Get("Error"), rt.ToValue(err.Error())); nerr == nil {
		return e
	}
	return rt.NewGoError(err)
}
