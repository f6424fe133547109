package pixel

import (
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/extension/pixel/stream"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// ImportPath is the module's import path.
const ImportPath = "k6/x/pixel"

func init() { modules.Register(ImportPath, New()) }

// RootModule is the process-wide module value. It keeps nothing of a test run: the metrics
// live in the run's registry and the stream driver in the run's scope (modules.Run).
type RootModule struct {
	cache *chunkCache // built stream chunks (immutable, bounded), shared by every VU
}

var _ modules.Module = (*RootModule)(nil)

// New returns the root module.
func New() *RootModule { return &RootModule{cache: newChunkCache()} }

// driverKey is the modules.Run key of a test run's stream Driver.
type driverKey struct{}

// driver returns the stream Driver of st's test run: made when the run's first session needs
// it, shared by every VU of the run and closed when the run ends (modules.Run), so two runs
// in one process never share one and none outlives its run. done must be called when the
// session has ended. A State without a Run (built by hand) gets a one-loop Driver of its
// own, which done closes.
func (rm *RootModule) driver(st *modules.State) (d *stream.Driver, done func(), err error) {
	if st.Run == nil {
		d, err := stream.NewDriver(1)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { _ = d.Close() }, nil
	}
	d, err = modules.RunValue(st.Run, driverKey{}, func() (*stream.Driver, error) { return stream.NewDriver(0) })
	if err != nil {
		return nil, nil, err
	}
	return d, func() {}, nil
}

// ModuleInstance is one VU's k6/x/pixel.
type ModuleInstance struct {
	root *RootModule
	vu   modules.VU

	paths        Paths
	throwOnError bool
	sessions     uint64 // pixel.stream calls by this VU, for default session ids

	reg *metrics.Registry // the registry ms was registered in
	ms  *metricSet
}

// metricsFor returns the extension's metrics registered in r (Registry.NewMetric returns
// the existing metric of the same type, so every VU of a run gets the same ones).
func (mi *ModuleInstance) metricsFor(r *metrics.Registry) (*metricSet, error) {
	if mi.reg == r && mi.ms != nil {
		return mi.ms, nil
	}
	ms, err := newMetricSet(r)
	if err != nil {
		return nil, err
	}
	mi.reg, mi.ms = r, ms
	return ms, nil
}

var _ modules.Instance = (*ModuleInstance)(nil)

// NewModuleInstance implements modules.Module.
func (rm *RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	// Register the metrics in the init context, as k6 registers custom metrics there, so
	// that thresholds on them (crisis_recall: ['rate>0.99']) are valid before the first
	// call. A conflict with a script's own metric of the same name is reported by state().
	mi := &ModuleInstance{root: rm, vu: vu, paths: DefaultPaths}
	if env := vu.InitEnv(); env != nil && env.Registry != nil {
		_, _ = mi.metricsFor(env.Registry)
	}
	return mi
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
	ms, err := mi.metricsFor(st.Registry)
	if err != nil {
		panic(rt.NewGoError(err))
	}
	return st, ms
}

func (mi *ModuleInstance) push(st *modules.State, samples []metrics.Sample) {
	ctx := mi.vu.Context()
	if len(samples) == 0 || ctx.Err() != nil || st.Samples == nil {
		return
	}
	st.Samples.Push(ctx, samples)
}

// configureOptions are configure's options: the paths, and throwOnError.
type configureOptions struct {
	Paths
	ThrowOnError bool `js:"throwOnError"`
}

// configure(paths) sets the response field paths for this VU (call it in the init context
// to apply it to every VU). Unknown keys throw (and then nothing changes); a null path is
// "" (the field is not read). It returns the paths in force.
func (mi *ModuleInstance) configure(call goja.FunctionCall) goja.Value {
	rt := mi.vu.Runtime()
	o := configureOptions{Paths: mi.paths, ThrowOnError: mi.throwOnError}
	if err := modules.DecodeOptions(rt, call.Argument(0), &o); err != nil {
		panic(rt.NewTypeError("pixel.configure: " + err.Error()))
	}
	mi.paths, mi.throwOnError = o.Paths, o.ThrowOnError
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

// inspectOptions are inspect's detection options (index.d.ts InspectOptions); stream's
// options extend them.
type inspectOptions struct {
	Tags         map[string]string `js:"tags"`
	Expect       Expect            `js:"expect"`
	ThrowOnError bool              `js:"throwOnError"`
}

// parseInspectOptions reads inspect's options; throwOnError defaults to configure's.
func (mi *ModuleInstance) parseInspectOptions(fn string, v goja.Value) (inspectOptions, error) {
	o := inspectOptions{ThrowOnError: mi.throwOnError}
	if err := modules.DecodeOptions(mi.vu.Runtime(), v, &o); err != nil {
		return o, fmt.Errorf("pixel.%s: %w", fn, err)
	}
	return o, nil
}

// errHTTPStatus marks a response whose HTTP status is not 2xx (or a gRPC response whose
// status is not OK).
var errHTTPStatus = errors.New("not a successful HTTP response")

// bodyOf extracts the inference body from inspect's argument: a k6/http response (its body
// and status), a k6/net/grpc response (its message and status), a JSON string, an
// ArrayBuffer, or an already parsed object.
func bodyOf(rt *goja.Runtime, v goja.Value) ([]byte, error) {
	if modules.IsNullish(v) {
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
	if trailers := obj.Get("trailers"); body == nil && status != nil && trailers != nil {
		// A k6/net/grpc response: its message is the inference (status 0 is OK).
		if s := status.ToInteger(); s != 0 {
			return nil, fmt.Errorf("%w: gRPC status %d", errHTTPStatus, s)
		}
		msg := obj.Get("message")
		if modules.IsNullish(msg) {
			return nil, &ParseError{parseNotJSON, errors.New("gRPC response has no message")}
		}
		s, err := jsonStringify(rt, msg)
		if err != nil {
			return nil, &ParseError{parseNotJSON, err}
		}
		return []byte(s), nil
	}
	if body != nil && status != nil && !goja.IsUndefined(status) {
		// A k6/http response.
		if s := status.ToInteger(); s < 200 || s > 299 {
			return nil, fmt.Errorf("%w: status %d", errHTTPStatus, s)
		}
		if modules.IsNullish(body) {
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
	opts, err := mi.parseInspectOptions("inspect", call.Argument(1))
	if err != nil {
		panic(rt.NewTypeError(err.Error()))
	}
	now := time.Now()
	body, err := bodyOf(rt, call.Argument(0))
	var d Detection
	if err == nil {
		d, err = ParseDetection(body, mi.paths)
	}
	if err != nil && errors.Is(err, errHTTPStatus) {
		// A failed request is http_req_failed's business, not a detection result.
		if opts.ThrowOnError {
			panic(rt.NewGoError(fmt.Errorf("pixel.inspect: %w", err)))
		}
		return detectionObject(rt, Detection{}, err)
	}
	tags := modules.SampleTags(st, opts.Tags)
	mi.push(st, ms.detectionSamples(nil, tags, now, d, opts.Expect, err))
	if err != nil && opts.ThrowOnError {
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
