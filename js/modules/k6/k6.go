// Package k6 is the "k6" module: check, group, sleep and fail. It also holds the tag helpers
// the other built-in modules share (SampleTags).
package k6

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6", Root{}) }

// Root is the k6 module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct {
	vu     modules.VU
	tags   TagCache
	checks map[checkKey]metrics.TagSet // (base, name) → check tag set
}

type checkKey struct {
	base metrics.TagSet
	name string
}

func (m *instance) Exports() modules.Exports {
	named := map[string]any{
		"check": m.check,
		"group": m.group,
		"sleep": m.sleep,
		"fail":  m.fail,
		// randomSeed(n) makes this VU's Math.random a reproducible sequence (k6's randomSeed).
		"randomSeed": func(seed int64) {
			m.vu.Runtime().SetRandSource(rand.New(rand.NewPCG(uint64(seed), 0x6b36)).Float64)
		},
	}
	return modules.Exports{Default: named, Named: named}
}

// SampleTags returns the tags every sample of the VU carries: the VU's tags plus the
// scenario and group system tags (as far as options.systemTags allow).
func SampleTags(st *modules.State) metrics.TagSet {
	return FilterSystemTags(st, st.Tags.TagSet().With("scenario", st.Scenario).With("group", st.Group))
}

// FilterSystemTags drops the system tags that options.systemTags (State.Options.SystemTags)
// does not list; nil keeps k6's default set, i.e. everything the modules add. The list of
// system tags is the SDK's (modules.IsSystemTag).
func FilterSystemTags(st *modules.State, ts metrics.TagSet) metrics.TagSet {
	allowed := st.Options.SystemTags
	if allowed == nil {
		return ts
	}
	out := ts
	ts.Each(func(k, _ string) bool {
		if modules.IsSystemTag(k) && !modules.SystemTagEnabled(st, k) {
			out = out.Without(k)
		}
		return true
	})
	return out
}

// TagCache caches SampleTags for one VU: the tag set is rebuilt only when the VU's tags,
// scenario or group change. Not safe for concurrent use (one per module instance).
type TagCache struct {
	tags     *modules.TagMap
	version  uint64
	scenario string
	group    string
	set      metrics.TagSet
	valid    bool
}

// Tags returns SampleTags(st), cached.
func (c *TagCache) Tags(st *modules.State) metrics.TagSet {
	v := st.Tags.Version()
	if c.valid && c.tags == st.Tags && c.version == v && c.scenario == st.Scenario && c.group == st.Group {
		return c.set
	}
	c.tags, c.version, c.scenario, c.group = st.Tags, v, st.Scenario, st.Group
	c.set, c.valid = SampleTags(st), true
	return c.set
}

// TagsFromValue adds the properties of a JavaScript tags object to base.
func TagsFromValue(rt *goja.Runtime, base metrics.TagSet, v goja.Value) metrics.TagSet {
	if modules.IsNullish(v) {
		return base
	}
	obj := v.ToObject(rt)
	keys := obj.Keys()
	if len(keys) == 0 {
		return base
	}
	m := base.Map()
	for _, k := range keys {
		m[k] = obj.Get(k).String()
	}
	return metrics.NewTagSet(m)
}

func (m *instance) stateOrThrow(fn string) *modules.State {
	st := m.vu.State()
	if st == nil {
		panic(m.vu.Runtime().NewGoError(fmt.Errorf("%s() is not supported in the init context", fn)))
	}
	return st
}

// check(val, sets[, tags]) runs every check and emits one `checks` sample per check; it
// returns whether all passed. A check is a function (called with val) or a value.
func (m *instance) check(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	st := m.stateOrThrow("check")
	val := call.Argument(0)
	setsV := call.Argument(1)
	if goja.IsUndefined(setsV) || goja.IsNull(setsV) {
		return rt.ToValue(true)
	}
	sets := setsV.ToObject(rt)
	base := TagsFromValue(rt, m.tags.Tags(st), call.Argument(2))
	ctx := m.vu.Context()
	all := true
	for _, name := range sets.Keys() {
		c := sets.Get(name)
		ok := false
		if fn, isFn := goja.AssertFunction(c); isFn {
			res, err := fn(goja.Undefined(), val)
			if err != nil {
				panic(err)
			}
			ok = res.ToBoolean()
		} else {
			ok = c.ToBoolean()
		}
		v := 0.0
		if ok {
			v = 1
		} else {
			all = false
		}
		if ctx.Err() == nil {
			st.Samples.Push(ctx, []metrics.Sample{{Metric: st.Builtin.Checks, Tags: m.checkTags(base, name), Time: time.Now(), Value: v}})
		}
	}
	return rt.ToValue(all)
}

// checkTags returns base with the check tag, cached (bounded) per VU.
func (m *instance) checkTags(base metrics.TagSet, name string) metrics.TagSet {
	k := checkKey{base, name}
	if ts, ok := m.checks[k]; ok {
		return ts
	}
	if m.checks == nil || len(m.checks) > 256 {
		m.checks = make(map[checkKey]metrics.TagSet)
	}
	ts := FilterSystemTags(m.vu.State(), base.With("check", name))
	m.checks[k] = ts
	return ts
}

// group(name, fn) runs fn inside the named group (nested as "::outer::inner") and emits
// group_duration. It returns fn's result.
func (m *instance) group(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	st := m.stateOrThrow("group")
	name := call.Argument(0).String()
	fn, ok := goja.AssertFunction(call.Argument(1))
	if !ok {
		panic(rt.NewTypeError("group(%q, fn): fn must be a function", name))
	}
	if name == "" {
		panic(rt.NewGoError(fmt.Errorf("group name must not be empty")))
	}
	if isAsyncFunction(call.Argument(1)) {
		// As k6: the group tag and group_duration cannot follow awaited work.
		panic(rt.NewGoError(fmt.Errorf("group(%q): group() does not support async functions as arguments; call the async code inside a synchronous function, or tag the requests yourself", name)))
	}
	parent := st.Group
	st.Group = parent + "::" + name
	defer func() { st.Group = parent }()
	start := time.Now()
	res, err := fn(goja.Undefined())
	end := time.Now()
	if err != nil {
		panic(err)
	}
	ctx := m.vu.Context()
	if ctx.Err() == nil {
		st.Samples.Push(ctx, []metrics.Sample{{Metric: st.Builtin.GroupDuration, Tags: m.tags.Tags(st), Time: end,
			Value: float64(end.Sub(start)) / float64(time.Millisecond)}})
	}
	return res
}

// sleep(seconds) pauses the VU; it returns early when the VU's context is done.
func (m *instance) sleep(call goja.FunctionCall) goja.Value {
	m.stateOrThrow("sleep")
	secs := call.Argument(0).ToFloat()
	if secs <= 0 {
		return goja.Undefined()
	}
	sleepCtx(m.vu.Context(), time.Duration(secs*float64(time.Second)))
	return goja.Undefined()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// fail(msg) throws an error with msg.
func (m *instance) fail(call goja.FunctionCall) goja.Value {
	panic(m.vu.Runtime().NewGoError(fmt.Errorf("%s", call.Argument(0).String())))
}

// isAsyncFunction reports whether v is an async function (its constructor is
// AsyncFunction), which group() refuses as k6 does.
func isAsyncFunction(v goja.Value) bool {
	obj, ok := v.(*goja.Object)
	if !ok {
		return false
	}
	proto := obj.Prototype()
	if proto == nil {
		return false
	}
	ctor, ok := proto.Get("constructor").(*goja.Object)
	return ok && ctor.Get("name").String() == "AsyncFunction"
}
