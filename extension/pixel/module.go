package pixel

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// ImportPath is the module's import path.
const ImportPath = "k6/x/pixel"

func init() { modules.Register(ImportPath, New()) }

// RootModule is the process-wide module value.
type RootModule struct {
	mu    sync.Mutex
	sets  map[*metrics.Registry]*metricSet // one metric set per test run's registry
	cache *chunkCache                      // built stream chunks, shared by every VU
}

var _ modules.Module = (*RootModule)(nil)

// New returns the root module.
func New() *RootModule {
	return &RootModule{sets: make(map[*metrics.Registry]*metricSet), cache: newChunkCache()}
}

// metricsFor returns the extension's metrics registered in r.
func (rm *RootModule) metricsFor(r *metrics.Registry) (*metricSet, error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if ms, ok := rm.sets[r]; ok {
		return ms, nil
	}
	ms, err := newMetricSet(r)
	if err != nil {
		return nil, err
	}
	rm.sets[r] = ms
	return ms, nil
}

// ModuleInstance is one VU's k6/x/pixel.
type ModuleInstance struct {
	root *RootModule
	vu   modules.VU

	paths        Paths
	throwOnError bool
	sessions     uint64 // pixel.stream calls by this VU, for default session ids
}

var _ modules.Instance = (*ModuleInstance)(nil)

// NewModuleInstance implements modules.Module.
func (rm *RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	// Register the metrics in the init context, as k6 registers custom metrics there, so
	// that thresholds on them (crisis_recall: ['rate>0.99']) are valid before the first
	// call. A conflict with a script's own metric of the same name is reported by state().
	if env := vu.InitEnv(); env != nil && env.Registry != nil {
		_, _ = rm.metricsFor(env.Registry)
	}
	return &ModuleInstance{root: rm, vu: vu, paths: DefaultPaths}
}

// Exports implements modules.Instance: the default export and named exports are the same
// functions.
func (mi *ModuleInstance) Exports() modules.Exports {
	fns := map[string]any{
		"inspect":     mi.inspect,
		"configure":   mi.configure,
		"stream":      mi.stream,
		"streamAsync": mi.streamAsync,
	}
	return modules.Exports{Default: fns, Named: fns}
}

// state returns the VU state and the metric set, or throws in the init context.
func (mi *ModuleInstance) state(fn string) (*modules.State, *metricSet) {
	rt := mi.vu.Runtime()
	st := mi.vu.State()
	if st == nil {
		panic(rt.NewGoError(fmt.Errorf("pixel.%s is not available in the init context", fn)))
	}
	ms, err := mi.root.metricsFor(st.Registry)
	if err != nil {
		panic(rt.NewGoError(err))
	}
	return st, ms
}

// baseTags returns the tags of a sample the VU emits now: the VU's tags, the scenario and
// group system tags (as k6 adds them to custom metrics) and the call's custom tags.
func baseTags(st *modules.State, custom map[string]string) metrics.TagSet {
	m := map[string]string{}
	if st.Tags != nil {
		m = st.Tags.Clone()
	}
	if systemTag(st, "scenario") && st.Scenario != "" {
		m["scenario"] = st.Scenario
	}
	if systemTag(st, "group") {
		m["group"] = st.Group
	}
	for k, v := range custom {
		m[k] = v
	}
	return metrics.NewTagSet(m)
}

// systemTag reports whether the system tag name is enabled (nil SystemTags: k6's default
// set, which includes every tag this module emits).
func systemTag(st *modules.State, name string) bool {
	if st.Options.SystemTags == nil {
		return true
	}
	for _, t := range st.Options.SystemTags {
		if t == name {
			return true
		}
	}
	return false
}

func (mi *ModuleInstance) push(st *modules.State, samples []metrics.Sample) {
	ctx := mi.vu.Context()
	if len(samples) == 0 || ctx.Err() != nil || st.Samples == nil {
		return
	}
	st.Samples.Push(ctx, samples)
}

// configure(paths) sets the response field paths for this VU (call it in the init context
// to apply it to every VU). Unknown keys throw. It returns the paths in force.
func (mi *ModuleInstance) configure(call goja.FunctionCall) goja.Value {
	rt := mi.vu.Runtime()
	if arg := call.Argument(0); !goja.IsUndefined(arg) && !goja.IsNull(arg) {
		obj := arg.ToObject(rt)
		for _, k := range obj.Keys() {
			v := obj.Get(k)
			if k == "throwOnError" {
				mi.throwOnError = v.ToBoolean()
				continue
			}
			dst := mi.pathField(k)
			if dst == nil {
				panic(rt.NewTypeError(fmt.Sprintf("pixel.configure: unknown option %q (want response, latencyMs, crisisDetected, riskLevel, confidence, biasDetected, biasCategories, biasScore, throwOnError)", k)))
			}
			if goja.IsNull(v) {
				*dst = ""
			} else {
				*dst = v.String()
			}
		}
	}
	out := rt.NewObject()
	p := mi.paths
	for _, kv := range [][2]string{{"response", p.Response}, {"latencyMs", p.LatencyMs}, {"crisisDetected", p.CrisisDetected},
		{"riskLevel", p.RiskLevel}, {"confidence", p.Confidence}, {"biasDetected", p.BiasDetected},
		{"biasCategories", p.BiasCategories}, {"biasScore", p.BiasScore}} {
		_ = out.Set(kv[0], kv[1])
	}
	_ = out.Set("throwOnError", mi.throwOnError)
	return out
}

func (mi *ModuleInstance) pathField(k string) *string {
	switch k {
	case "response":
		return &mi.paths.Response
	case "latencyMs", "latency_ms":
		return &mi.paths.LatencyMs
	case "crisisDetected":
		return &mi.paths.CrisisDetected
	case "riskLevel", "risk_level":
		return &mi.paths.RiskLevel
	case "confidence":
		return &mi.paths.Confidence
	case "biasDetected":
		return &mi.paths.BiasDetected
	case "biasCategories":
		return &mi.paths.BiasCategories
	case "biasScore":
		return &mi.paths.BiasScore
	}
	return nil
}

// inspectOptions are inspect's (and stream's) detection options.
type inspectOptions struct {
	tags         map[string]string
	expect       Expect
	throwOnError bool
}

func (mi *ModuleInstance) parseInspectOptions(v goja.Value) inspectOptions {
	o := inspectOptions{throwOnError: mi.throwOnError}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return o
	}
	rt := mi.vu.Runtime()
	obj := v.ToObject(rt)
	o.tags = toStringMap(rt, obj.Get("tags"))
	if t := obj.Get("throwOnError"); t != nil && !goja.IsUndefined(t) {
		o.throwOnError = t.ToBoolean()
	}
	if e := obj.Get("expect"); e != nil && !goja.IsUndefined(e) && !goja.IsNull(e) {
		eo := e.ToObject(rt)
		if c := eo.Get("crisis"); c != nil && !goja.IsUndefined(c) && !goja.IsNull(c) {
			b := c.ToBoolean()
			o.expect.Crisis = &b
		}
		if c := eo.Get("bias"); c != nil && !goja.IsUndefined(c) && !goja.IsNull(c) {
			b := c.ToBoolean()
			o.expect.Bias = &b
		}
	}
	return o
}

func toStringMap(rt *goja.Runtime, v goja.Value) map[string]string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	obj := v.ToObject(rt)
	out := make(map[string]string, len(obj.Keys()))
	for _, k := range obj.Keys() {
		out[k] = obj.Get(k).String()
	}
	return out
}

// errHTTPStatus marks a response whose HTTP status is not 2xx.
var errHTTPStatus = errors.New("not a successful HTTP response")

// bodyOf extracts the inference body from inspect's argument: a k6/http response (its body
// and status), a JSON string, an ArrayBuffer, or an already parsed object.
func bodyOf(rt *goja.Runtime, v goja.Value) ([]byte, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, &ParseError{parseNotJSON, errors.New("no response (undefined or null)")}
	}
	switch x := v.Export().(type) {
	case string:
		return []byte(x), nil
	case goja.ArrayBuffer:
		return x.Bytes(), nil
	case []byte:
		return x, nil
	}
	obj := v.ToObject(rt)
	body := obj.Get("body")
	status := obj.Get("status")
	if body != nil && status != nil && !goja.IsUndefined(status) {
		// A k6/http response.
		if s := status.ToInteger(); s < 200 || s > 299 {
			return nil, fmt.Errorf("%w: status %d", errHTTPStatus, s)
		}
		if body == nil || goja.IsUndefined(body) || goja.IsNull(body) {
			return nil, &ParseError{parseNotJSON, errors.New("response has no body")}
		}
		switch b := body.Export().(type) {
		case string:
			return []byte(b), nil
		case goja.ArrayBuffer:
			return b.Bytes(), nil
		case []byte:
			return b, nil
		}
		return nil, &ParseError{parseNotJSON, fmt.Errorf("response body is a %s, not a string", body.ExportType())}
	}
	// A parsed body.
	s, err := jsonStringify(rt, v)
	if err != nil {
		return nil, &ParseError{parseNotJSON, err}
	}
	return []byte(s), nil
}

func jsonStringify(rt *goja.Runtime, v goja.Value) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("JSON.stringify: %v", r)
		}
	}()
	stringify, ok := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	if !ok {
		return "", errors.New("JSON.stringify is not a function")
	}
	out, err := stringify(goja.Undefined(), v)
	if err != nil {
		return "", err
	}
	return out.String(), nil
}

// inspect(response[, options]) parses an inference response natively, records the detection
// counters and returns {ok, crisis, riskLevel, confidence, bias, categories, biasScore,
// latencyMs, response, error}.
func (mi *ModuleInstance) inspect(call goja.FunctionCall) goja.Value {
	rt := mi.vu.Runtime()
	st, ms := mi.state("inspect")
	opts := mi.parseInspectOptions(call.Argument(1))
	now := time.Now()
	body, err := bodyOf(rt, call.Argument(0))
	var d Detection
	if err == nil {
		d, err = ParseDetection(body, mi.paths)
	}
	if err != nil && errors.Is(err, errHTTPStatus) {
		// A failed request is http_req_failed's business, not a detection result.
		if opts.throwOnError {
			panic(rt.NewGoError(fmt.Errorf("pixel.inspect: %w", err)))
		}
		return detectionObject(rt, Detection{}, err)
	}
	tags := baseTags(st, opts.tags)
	mi.push(st, ms.detectionSamples(nil, tags, now, d, opts.expect, err))
	if err != nil && opts.throwOnError {
		panic(rt.NewGoError(fmt.Errorf("pixel.inspect: %w", err)))
	}
	return detectionObject(rt, d, err)
}

func detectionObject(rt *goja.Runtime, d Detection, err error) *goja.Object {
	o := rt.NewObject()
	_ = o.Set("ok", err == nil)
	_ = o.Set("crisis", d.Crisis)
	_ = o.Set("riskLevel", d.RiskLevel)
	_ = o.Set("confidence", d.Confidence)
	_ = o.Set("bias", d.Bias)
	cats := make([]any, len(d.Categories))
	for i, c := range d.Categories {
		cats[i] = c
	}
	_ = o.Set("categories", rt.NewArray(cats...))
	_ = o.Set("biasScore", d.BiasScore)
	if d.HasLatency {
		_ = o.Set("latencyMs", d.LatencyMs)
	} else {
		_ = o.Set("latencyMs", goja.Null())
	}
	_ = o.Set("response", d.Response)
	if err != nil {
		_ = o.Set("error", err.Error())
	} else {
		_ = o.Set("error", "")
	}
	return o
}

// parseDuration reads a timeout option: a number of milliseconds or a Go/k6 duration string.
func parseDuration(name string, v goja.Value) (time.Duration, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0, nil
	}
	switch x := v.Export().(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("option %s: %q is not a duration (want milliseconds or e.g. \"10s\"): %w", name, x, err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("option %s: %v is not a duration", name, v)
}
