package js

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// sdkRoot is an xk6-style extension used to test the SDK as an extension sees it.
type sdkRoot struct{}

type sdkInstance struct {
	vu modules.VU
}

// Greeter is a Go value exposed to JavaScript: fields and methods are lowerCamelCase, a js
// tag renames.
type Greeter struct {
	FirstName string
	Tagged    int `js:"renamed"`
}

// SayHello returns a greeting.
func (g *Greeter) SayHello(to string) string { return "hello " + to + " from " + g.FirstName }

func (sdkRoot) NewModuleInstance(vu modules.VU) modules.Instance { return &sdkInstance{vu: vu} }

func (m *sdkInstance) Exports() modules.Exports {
	return modules.Exports{
		Default: &Greeter{FirstName: "go", Tagged: 7},
		Named: map[string]any{
			"inInit": func() bool { return m.vu.InitEnv() != nil && m.vu.State() == nil },
			"vuID": func() uint64 {
				if st := m.vu.State(); st != nil {
					return st.VUID
				}
				return 0
			},
			// later(ms, v) resolves with v after ms, from another goroutine.
			"later": func(ms int64, v string) *goja.Promise {
				rt := m.vu.Runtime()
				p, resolve, _ := rt.NewPromise()
				enqueue := m.vu.RegisterCallback()
				go func() {
					time.Sleep(time.Duration(ms) * time.Millisecond)
					enqueue(func() error { return resolve(v) })
				}()
				return p
			},
		},
	}
}

func init() { modules.Register("k6/x/jstestsdk", sdkRoot{}) }

func TestExtensionSDK(t *testing.T) {
	h := mustLoad(t, `
import greeter from 'k6/x/jstestsdk';
import { inInit, vuID, later } from 'k6/x/jstestsdk';
export const options = { initSeen: inInit() };
export default async function () {
  if (greeter.sayHello('js') !== 'hello js from go') throw new Error('method: ' + greeter.sayHello('js'));
  if (greeter.firstName !== 'go' || greeter.renamed !== 7) throw new Error('fields');
  if (inInit()) throw new Error('inInit in an iteration');
  if (vuID() !== 5) throw new Error('vu ' + vuID());
  const v = await later(5, 'done');
  if (v !== 'done') throw new Error('promise ' + v);
}
`)
	if got := string(h.b.Options()); !strings.Contains(got, `"initSeen":true`) {
		t.Errorf("options %s: InitEnv was not visible during init", got)
	}
	if err := h.vu(t, 5).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}
