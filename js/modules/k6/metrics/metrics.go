// Package metrics is the k6/metrics module: custom Counter, Gauge, Rate and Trend metrics,
// created in the init context and fed with add(value[, tags]) during iterations.
package metrics

import (
	"fmt"
	"reflect"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6/metrics", Root{}) }

// Root is the k6/metrics module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct {
	vu   modules.VU
	tags k6.TagCache
	// one is the slice add pushes (Push copies it): no allocation per sample.
	one [1]metrics.Sample
}

func (m *instance) Exports() modules.Exports {
	named := map[string]any{
		"Counter": m.constructor(metrics.Counter),
		"Gauge":   m.constructor(metrics.Gauge),
		"Rate":    m.constructor(metrics.Rate),
		"Trend":   m.constructor(metrics.Trend),
	}
	return modules.Exports{Default: named, Named: named}
}

// constructor returns the JavaScript constructor of one metric type: new T(name[, isTime]).
func (m *instance) constructor(t metrics.MetricType) func(call goja.ConstructorCall) *goja.Object {
	return func(call goja.ConstructorCall) *goja.Object {
		rt := m.vu.Runtime()
		env := m.vu.InitEnv()
		if env == nil || env.Registry == nil {
			panic(rt.NewGoError(fmt.Errorf("metrics must be declared in the init context")))
		}
		name := call.Argument(0).String()
		contains := metrics.Default
		if call.Argument(1).ToBoolean() {
			contains = metrics.Time
		}
		metric, err := env.Registry.NewMetric(name, t, contains)
		if err != nil {
			panic(rt.NewGoError(err))
		}
		obj := call.This
		_ = obj.Set("name", metric.Name)
		_ = obj.Set("add", func(c goja.FunctionCall) goja.Value { return m.add(metric, c) })
		return nil
	}
}

// add emits one sample. Values: numbers; booleans (true = 1); for a Rate any non-zero value
// counts as true. It returns true as k6 does.
// The export types of JS booleans and numbers (ExportType does not allocate; Export does).
var (
	boolType    = reflect.TypeFor[bool]()
	int64Type   = reflect.TypeFor[int64]()
	float64Type = reflect.TypeFor[float64]()
)

func (m *instance) add(metric *metrics.Metric, call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	st := m.vu.State()
	if st == nil {
		panic(rt.NewGoError(fmt.Errorf("%s.add() is not supported in the init context", metric.Name)))
	}
	arg := call.Argument(0)
	// An invalid value throws with the throw option; otherwise it is a warning and add
	// returns false (k6's rule).
	invalid := func(format string) goja.Value {
		err := rt.NewTypeError(format, metric.Name, arg.String())
		if st.Options.Throw || st.Logger == nil {
			panic(err)
		}
		st.Logger.Log("warn", err.String())
		return rt.ToValue(false)
	}
	var value float64
	switch arg.ExportType() {
	case boolType:
		if arg.ToBoolean() {
			value = 1
		}
	case int64Type, float64Type:
		value = arg.ToFloat()
	default:
		if goja.IsUndefined(arg) || goja.IsNull(arg) {
			return invalid("%s.add(%s): the value must be a number or a boolean")
		}
		// Strings, objects, ...: JavaScript's number conversion, as k6 does ('5.3' is 5.3,
		// 'abc' and {} are NaN: a warning), except that a truthy value converting to 0
		// counts 1 (k6's rule: '0' and [] add 1, '' adds 0).
		value = arg.ToFloat()
		if value == 0 && arg.ToBoolean() {
			value = 1
		}
	}
	if metric.Type == metrics.Rate && value != 0 {
		value = 1
	}
	if value != value { // NaN
		return invalid("%s.add(%s): the value must be a number")
	}
	ctx := m.vu.Context()
	if ctx.Err() != nil {
		return rt.ToValue(false)
	}
	tags := k6.TagsFromValue(rt, m.tags.Tags(st), call.Argument(1))
	m.one[0] = metrics.Sample{Metric: metric, Tags: tags, Time: time.Now(), Value: value}
	st.Samples.Push(ctx, m.one[:])
	m.one[0] = metrics.Sample{}
	return rt.ToValue(true)
}
