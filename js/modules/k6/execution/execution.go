// Package execution is k6/execution: information about the running VU, scenario, instance
// and test, vu.tags (writes the VU's tags), test.abort() and test.fail().
package execution

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// AbortError is test.abort([reason]): the run stops with k6's exit code 108.
type AbortError struct{ Reason string }

func (e *AbortError) Error() string {
	if e.Reason == "" {
		return "test aborted"
	}
	return "test aborted: " + e.Reason
}

// Root is the k6/execution module.
type Root struct{}

var _ modules.Module = Root{}

func init() { modules.Register("k6/execution", Root{}) }

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

// iterCounter is implemented by pixelk6's VUs: iterations the VU started across scenarios.
type iterCounter interface{ IterationsInVU() int64 }

// aborter is implemented by pixelk6's VUs: it records a test.abort() for the runner.
type aborter interface{ Abort(err error) }

// optionsSource is implemented by pixelk6's VUs: the script's exported options.
type optionsSource interface{ ScriptOptions() json.RawMessage }

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	obj := rt.NewObject()
	m.define(obj, "vu", m.vuObject)
	m.define(obj, "scenario", m.scenarioObject)
	m.define(obj, "instance", m.instanceObject)
	m.define(obj, "test", m.testObject)
	// Only a default export: the runner makes named imports read through it, so the getters
	// run when used (outside init), not at import time.
	return modules.Exports{Default: obj}
}

func (m *instance) define(obj *goja.Object, name string, get func() goja.Value) {
	rt := m.vu.Runtime()
	err := obj.DefineAccessorProperty(name, rt.ToValue(func(goja.FunctionCall) goja.Value { return get() }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	if err != nil {
		panic(err)
	}
}

// state returns the VU's state or throws, as k6 does, in the init context.
func (m *instance) state(what string) *modules.State {
	st := m.vu.State()
	if st == nil {
		panic(m.vu.Runtime().NewGoError(fmt.Errorf("getting %s information in the init context is not supported", what)))
	}
	return st
}

func (m *instance) getter(obj *goja.Object, name string, get func() any) {
	rt := m.vu.Runtime()
	if err := obj.DefineAccessorProperty(name, rt.ToValue(func(goja.FunctionCall) goja.Value { return rt.ToValue(get()) }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		panic(err)
	}
}

func (m *instance) vuObject() goja.Value {
	rt := m.vu.Runtime()
	st := m.state("VU")
	o := rt.NewObject()
	m.getter(o, "idInInstance", func() any { return st.VUID })
	m.getter(o, "idInTest", func() any {
		if st.VUIDGlobal != 0 {
			return st.VUIDGlobal
		}
		return st.VUID
	})
	m.getter(o, "iterationInScenario", func() any { return st.Iteration })
	m.getter(o, "iterationInInstance", func() any {
		if c, ok := m.vu.(iterCounter); ok {
			return c.IterationsInVU() - 1
		}
		return st.Iteration
	})
	tags := m.tagsObject(st)
	_ = o.Set("tags", tags)
	md := rt.NewObject()
	_ = md.Set("tags", tags)
	_ = o.Set("metrics", md)
	return o
}

// tagsObject is vu.tags: a live view of State.Tags; writes set the VU's tags.
func (m *instance) tagsObject(st *modules.State) goja.Value {
	rt := m.vu.Runtime()
	return rt.NewDynamicObject(&tagsView{rt: rt, st: st})
}

type tagsView struct {
	rt *goja.Runtime
	st *modules.State
}

func (t *tagsView) Get(k string) goja.Value {
	if v, ok := t.st.Tags.Get(k); ok {
		return t.rt.ToValue(v)
	}
	if k == "scenario" {
		return t.rt.ToValue(t.st.Scenario)
	}
	return goja.Undefined()
}

func (t *tagsView) Set(k string, val goja.Value) bool {
	switch val.Export().(type) {
	case string, int64, float64, bool:
		t.st.Tags.Set(k, val.String())
		return true
	default:
		t.st.Logger.Log("warn", fmt.Sprintf("vu.tags: only string, number and boolean values are allowed, not %q for tag %q", val.String(), k))
		return false
	}
}

func (t *tagsView) Has(k string) bool { _, ok := t.st.Tags.Get(k); return ok }

func (t *tagsView) Delete(k string) bool { t.st.Tags.Delete(k); return true }

func (t *tagsView) Keys() []string {
	m := t.st.Tags.Clone()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (m *instance) scenarioObject() goja.Value {
	rt := m.vu.Runtime()
	st := m.state("scenario")
	o := rt.NewObject()
	m.getter(o, "name", func() any { return st.Scenario })
	m.getter(o, "executor", func() any { return st.ScenarioExecutor })
	m.getter(o, "startTime", func() any { return st.ScenarioStart.UnixMilli() })
	m.getter(o, "progress", func() any {
		if st.ScenarioProgress == nil {
			return 0.0
		}
		return st.ScenarioProgress()
	})
	m.getter(o, "iterationInTest", func() any { return st.TestIteration })
	m.getter(o, "iterationInInstance", func() any { return st.ScenarioIteration })
	return o
}

func (m *instance) instanceObject() goja.Value {
	rt := m.vu.Runtime()
	st := m.state("instance")
	stats := func() modules.InstanceStats {
		if st.Instance == nil {
			return modules.InstanceStats{}
		}
		return st.Instance()
	}
	o := rt.NewObject()
	m.getter(o, "vusActive", func() any { return stats().VUsActive })
	m.getter(o, "vusInitialized", func() any { return stats().VUsInitialized })
	m.getter(o, "iterationsCompleted", func() any { return stats().IterationsCompleted })
	m.getter(o, "iterationsInterrupted", func() any { return stats().IterationsInterrupted })
	m.getter(o, "currentTestRunDuration", func() any {
		s := stats().Start
		if s.IsZero() {
			return 0.0
		}
		return float64(time.Since(s).Nanoseconds()) / 1e6
	})
	return o
}

func (m *instance) testObject() goja.Value {
	rt := m.vu.Runtime()
	o := rt.NewObject()
	_ = o.Set("abort", func(call goja.FunctionCall) goja.Value {
		reason := ""
		if a := call.Argument(0); !goja.IsUndefined(a) {
			reason = a.String()
		}
		err := &AbortError{Reason: reason}
		if a, ok := m.vu.(aborter); ok {
			a.Abort(err) // seen by the runner even if the exception is caught or turned into a rejection
		}
		rt.Interrupt(err)
		panic(rt.NewGoError(err)) // unwinds now; the interrupt keeps try/catch from swallowing it
	})
	_ = o.Set("fail", func(call goja.FunctionCall) goja.Value {
		reason := ""
		if a := call.Argument(0); !goja.IsUndefined(a) && !goja.IsNull(a) {
			reason = a.String()
		}
		st := m.vu.State()
		if st == nil {
			panic(rt.NewTypeError("test.fail() is not available in the init context"))
		}
		if st.MarkFailed != nil {
			st.MarkFailed(reason) // the runner reports the reasons once, at the end
		} else if st.Logger != nil {
			msg := "the test run was marked as failed"
			if reason != "" {
				msg += ": " + reason
			}
			st.Logger.Log("error", msg)
		}
		return goja.Undefined()
	})
	m.getter(o, "options", func() any {
		var raw []byte
		if st := m.vu.State(); st != nil && st.TestOptions != nil {
			raw = st.TestOptions
		} else if src, ok := m.vu.(optionsSource); ok {
			raw = src.ScriptOptions()
		}
		if len(raw) == 0 {
			return rt.NewObject()
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return rt.NewObject()
		}
		return v
	})
	return o
}
