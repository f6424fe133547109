package js

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// Runner runs a Bundle for the engine: it implements engine.Runner. It builds each VU's
// modules.State from the engine's goja-free VUSpec (the registry and logger come from the
// bundle's LoadOptions, the module options from NewRunner), and turns a script's
// test.abort() into an engine abort.
type Runner struct {
	b       *Bundle
	builtin *metrics.Builtin
	opts    modules.Options
}

var _ engine.Runner = (*Runner)(nil)

// NewRunner returns a runner of b whose VUs see opts (k6/http's user agent, TLS, ...).
func NewRunner(b *Bundle, opts modules.Options) *Runner {
	return &Runner{b: b, builtin: metrics.RegisterBuiltin(b.opts.Registry), opts: opts}
}

// HasExport implements engine.Runner.
func (r *Runner) HasExport(name string) bool { return r.b.HasExport(name) }

// state is the modules.State of spec.
func (r *Runner) state(spec engine.VUSpec) *modules.State {
	st := &modules.State{
		VUID: spec.ID, VUIDGlobal: spec.ID, Registry: r.b.opts.Registry, Builtin: r.builtin,
		Samples: spec.Samples, Options: r.opts, Tags: modules.NewTagMap(spec.Tags), Env: spec.Env,
		TestOptions: spec.TestOptions, MarkFailed: spec.MarkFailed,
	}
	if spec.IDInTest != 0 {
		st.VUIDGlobal = spec.IDInTest
	}
	vu, iter := modules.SystemTagEnabled(st, "vu"), modules.SystemTagEnabled(st, "iter")
	if (vu || iter) && st.Samples != nil {
		st.Samples = vuMetadata{next: st.Samples, st: st, vu: vu, iter: iter}
	}
	if inst := spec.Instance; inst != nil {
		st.Instance = func() modules.InstanceStats {
			s := inst()
			return modules.InstanceStats{
				VUsActive: s.VUsActive, VUsInitialized: s.VUsInitialized,
				IterationsCompleted: s.IterationsCompleted, IterationsInterrupted: s.IterationsInterrupted, Start: s.Start,
			}
		}
	}
	return st
}

// NewVU implements engine.Runner.
func (r *Runner) NewVU(ctx context.Context, spec engine.VUSpec) (engine.VU, error) {
	v, err := r.b.NewVU(ctx, r.state(spec))
	if err != nil {
		return nil, engineErr(err)
	}
	return &engineVU{v: v}, nil
}

// Setup implements engine.Runner.
func (r *Runner) Setup(ctx context.Context, spec engine.VUSpec) (json.RawMessage, error) {
	data, err := r.b.Setup(ctx, r.state(spec))
	return data, engineErr(err)
}

// Teardown implements engine.Runner.
func (r *Runner) Teardown(ctx context.Context, spec engine.VUSpec, data json.RawMessage) error {
	return engineErr(r.b.Teardown(ctx, r.state(spec), data))
}

// HandleSummary calls the script's handleSummary(data) in the context spec describes
// (see Bundle.HandleSummary).
func (r *Runner) HandleSummary(ctx context.Context, spec engine.VUSpec, data json.RawMessage) (map[string]string, bool, error) {
	out, ok, err := r.b.HandleSummary(ctx, r.state(spec), data)
	return out, ok, engineErr(err)
}

// engineErr marks a test.abort() as an engine abort; other errors pass unchanged.
func engineErr(err error) error {
	if err != nil && IsAbort(err) {
		return engine.Abort(err)
	}
	return err
}

// engineVU is a VU as the engine drives it: before each iteration it copies the
// scenario and iteration numbers into the VU's state, for __ITER and k6/execution.
type engineVU struct {
	v    VU
	scen *engine.ScenarioInfo
}

func (e *engineVU) RunIteration(ctx context.Context, it engine.Iteration) error {
	st := e.v.State()
	if it.Scenario != nil && it.Scenario != e.scen {
		e.scen = it.Scenario
		st.Scenario, st.ScenarioExecutor = it.Scenario.Name, it.Scenario.Executor
		st.ScenarioStart, st.ScenarioProgress = it.Scenario.Start, it.Scenario.Progress
	}
	st.Iteration, st.ScenarioIteration, st.TestIteration = it.VUIteration, it.ScenarioIteration, it.TestIteration
	return engineErr(e.v.RunIteration(ctx, it.Exec, it.Data))
}

func (e *engineVU) Close() { e.v.Close() }

// vuMetadata adds the vu and iter system tags, when options.systemTags enables them, to
// every sample of a VU as metadata, as k6 does: they change with every iteration, so they
// would make a time series per iteration as tags (k6 writes them in the JSON output's
// "metadata", never in the tags).
type vuMetadata struct {
	next     metrics.Pusher
	st       *modules.State
	vu, iter bool
}

func (p vuMetadata) Push(ctx context.Context, samples []metrics.Sample) {
	vu, iter := strconv.FormatUint(p.st.VUID, 10), strconv.FormatInt(p.st.Iteration, 10)
	for i := range samples {
		md := make(map[string]string, len(samples[i].Metadata)+2)
		for k, v := range samples[i].Metadata {
			md[k] = v
		}
		if p.vu {
			md["vu"] = vu
		}
		if p.iter {
			md["iter"] = iter
		}
		samples[i].Metadata = md
	}
	p.next.Push(ctx, samples)
}
