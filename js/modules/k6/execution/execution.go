// Package execution is k6/execution: information about the running VU, scenario, instance
// and test, vu.tags (writes the VU's tags), test.abort() and test.fail().
package execution

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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
	tags := rt.NewDynamicObject(&tagsView{rt: rt, st: st})
	_ = o.Set("tags", tags)
	md := rt.NewObject()
	_ = md.Set("tags", tags)
	if st.Metadata == nil {
		st.Metadata = modules.NewTagMap(nil)
	}
	_ = md.Set("metadata", rt.NewDynamicObject(&metadataView{rt: rt, st: st}))
	_ = o.Set("metrics", md)
	return o
}

// tagsView is vu.tags and vu.metrics.tags: a live view of the VU's tags (State.Tags) and of
// the scenario and group system tags (when options.systemTags enables them), which pixelk6
// adds to each sample from the VU's state; writes set the VU's tags.
type tagsView struct {
	rt *goja.Runtime
	st *modules.State
}

// system returns the value of the system tag k that the VU's samples carry now.
func (t *tagsView) system(k string) (string, bool) {
	switch k {
	case "scenario":
		if t.st.Scenario != "" && modules.SystemTagEnabled(t.st, "scenario") {
			return t.st.Scenario, true
		}
	case "group":
		if modules.SystemTagEnabled(t.st, "group") {
			return t.st.Group, true
		}
	}
	return "", false
}

func (t *tagsView) Get(k string) goja.Value {
	if v, ok := t.system(k); ok {
		return t.rt.ToValue(v)
	}
	if v, ok := t.st.Tags.Get(k); ok {
		return t.rt.ToValue(v)
	}
	return nil
}

func (t *tagsView) Set(k string, val goja.Value) bool {
	if k == "scenario" || k == "group" {
		// pixelk6 sets these two on each sample from the VU's scenario and group, so a value
		// written here would not reach the samples: refused loudly rather than ignored.
		panic(t.rt.NewTypeError("vu.tags: the %q system tag is set by the runner; overriding it is not supported by pixelk6", k))
	}
	if s, ok := userValue(t.rt, t.st, val, "metric tag", k); ok {
		t.st.Tags.Set(k, s)
	}
	return true
}

func (t *tagsView) Has(k string) bool {
	if _, ok := t.system(k); ok {
		return true
	}
	_, ok := t.st.Tags.Get(k)
	return ok
}

func (t *tagsView) Delete(k string) bool {
	if k == "scenario" || k == "group" {
		panic(t.rt.NewTypeError("vu.tags: the %q system tag is set by the runner; deleting it is not supported by pixelk6", k))
	}
	t.st.Tags.Delete(k)
	return true
}

func (t *tagsView) Keys() []string {
	m := t.st.Tags.Clone()
	for _, k := range []string{"scenario", "group"} {
		if v, ok := t.system(k); ok {
			m[k] = v
		}
	}
	return sortedKeys(m)
}

// metadataView is vu.metrics.metadata: a live view of State.Metadata, which the runner adds
// to every sample the VU emits.
type metadataView struct {
	rt *goja.Runtime
	st *modules.State
}

func (d *metadataView) Get(k string) goja.Value {
	if v, ok := d.st.Metadata.Get(k); ok {
		return d.rt.ToValue(v)
	}
	return nil
}

func (d *metadataView) Set(k string, val goja.Value) bool {
	if s, ok := userValue(d.rt, d.st, val, "metric metadata", k); ok {
		d.st.Metadata.Set(k, s)
	}
	return true
}

func (d *metadataView) Has(k string) bool { _, ok := d.st.Metadata.Get(k); return ok }

func (d *metadataView) Delete(k string) bool { d.st.Metadata.Delete(k); return true }

func (d *metadataView) Keys() []string { return sortedKeys(d.st.Metadata.Clone()) }

// userValue converts a tag or metadata value a script sets: strings, numbers and booleans,
// as their string. Anything else is discarded with a warning, or throws with the throw
// option, as k6 documents.
func userValue(rt *goja.Runtime, st *modules.State, val goja.Value, what, k string) (string, bool) {
	switch val.Export().(type) {
	case string, int64, float64, bool:
		return val.String(), true
	}
	msg := fmt.Sprintf("invalid value for %s '%s': only String, Boolean and Number types are accepted as a %s value", what, k, what)
	if st.Options.Throw || st.Logger == nil {
		panic(rt.NewTypeError(msg))
	}
	st.Logger.Log("warn", msg)
	return "", false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
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
	var options goja.Value // made once per test object, as k6 does
	_ = o.DefineAccessorProperty("options", rt.ToValue(func(goja.FunctionCall) goja.Value {
		st := m.vu.State()
		if st == nil {
			panic(rt.NewGoError(fmt.Errorf("getting test options in the init context is not supported")))
		}
		if options == nil {
			raw := st.TestOptions
			if raw == nil {
				if src, ok := m.vu.(optionsSource); ok {
					raw = src.ScriptOptions()
				}
			}
			options = testOptions(rt, raw)
		}
		return options
	}), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return o
}

// optionKeys are the members of k6's test.options, in k6's order: its consolidated options
// object without vus, duration, iterations and stages (they are in scenarios by then),
// followed by consoleOutput and localIPs. A key the run leaves unset is null, as in k6.
var optionKeys = []string{
	"paused", "scenarios", "executionSegment", "executionSegmentSequence", "noSetup", "setupTimeout",
	"noTeardown", "teardownTimeout", "handleSummaryTimeout", "rps", "dns", "maxRedirects", "userAgent",
	"batch", "batchPerHost", "httpDebug", "insecureSkipTLSVerify", "tlsCipherSuites", "tlsVersion",
	"tlsAuth", "throw", "thresholds", "blacklistIPs", "blockHostnames", "hosts", "noConnectionReuse",
	"noVUConnectionReuse", "minIterationDuration", "cloud", "ext", "summaryTrendStats", "summaryTimeUnit",
	"systemTags", "tags", "metricSamplesBufferSize", "noCookiesReset", "discardResponseBodies", "features",
	"consoleOutput", "localIPs",
}

// testOptions is test.options from the consolidated options as JSON: k6's members in k6's
// order (cloud only when set, as k6 omits it empty), frozen deeply, so that writes do not
// stick (k6 freezes it too).
func testOptions(rt *goja.Runtime, raw []byte) goja.Value {
	var m map[string]json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(rt.NewGoError(fmt.Errorf("test.options: %w", err)))
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, k := range optionKeys {
		v, ok := m[k]
		if !ok || len(v) == 0 {
			if k == "cloud" {
				continue
			}
			v = json.RawMessage("null")
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kq, _ := json.Marshal(k)
		b.Write(kq)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	var parse, freeze goja.Callable
	if err := rt.Try(func() {
		parse, _ = goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
		freeze, _ = goja.AssertFunction(rt.Get("Object").ToObject(rt).Get("freeze"))
	}); err != nil {
		panic(err)
	}
	obj, err := parse(goja.Undefined(), rt.ToValue(b.String()))
	if err != nil {
		panic(err)
	}
	deepFreeze(rt, freeze, obj)
	return obj
}

func deepFreeze(rt *goja.Runtime, freeze goja.Callable, v goja.Value) {
	o, ok := v.(*goja.Object)
	if !ok {
		return
	}
	for _, k := range o.Keys() {
		deepFreeze(rt, freeze, o.Get(k))
	}
	if _, err := freeze(goja.Undefined(), o); err != nil {
		panic(err)
	}
}
