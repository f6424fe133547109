package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/metrics"
)

// k6's exit codes.
const (
	ExitOK                = 0
	ExitThresholdsCrossed = 99  // a threshold failed (also when abortOnFail stopped the test)
	ExitSetupTimeout      = 100 // setup() ran past setupTimeout
	ExitTeardownTimeout   = 101 // teardown() ran past teardownTimeout
	ExitGenericTimeout    = 102 // handleSummary() ran past handleSummaryTimeout
	ExitInvalidConfig     = 104 // invalid options or thresholds
	ExitExternalAbort     = 105 // SIGINT/SIGTERM (ctx cancelled)
	ExitScriptError       = 107 // the script failed to load, or threw in init, setup or teardown
	ExitScriptAbort       = 108 // test.abort()
	ExitMarkedAsFailed    = 110 // test.fail(): the run went on to its end, then failed
	ExitGeneric           = 255 // anything else (an output that cannot start, ...)
)

// Test is a consolidated, validated test: what Run executes. The command line builds it
// from k6's option tiers.
type Test struct {
	Scenarios []executor.Config
	// Thresholds are the parsed thresholds (nil with noThresholds).
	Thresholds []metrics.MetricThresholds
	// Tags are added to every sample of the run (options.tags with --tag).
	Tags map[string]string
	// SetupTimeout and TeardownTimeout bound setup() and teardown(); 0 means k6's 60 s.
	SetupTimeout, TeardownTimeout time.Duration
	// NoSetup and NoTeardown skip setup() and teardown() (k6's --no-setup, --no-teardown).
	NoSetup, NoTeardown bool
	// MinIterationDuration is the shortest time a VU spends on a completed iteration: it
	// waits out the rest before the next (k6's minIterationDuration; 0 for none).
	MinIterationDuration time.Duration
	// OptionsJSON are the consolidated options as JSON with the scenarios as run
	// (k6/execution's test.options).
	OptionsJSON []byte
	// Segment is the execution segment this instance runs (nil: the whole test); the
	// scenarios are scaled to it (executor.SetSegment). The VUs' numbers in the whole
	// test (VUSpec.IDInTest) are its stripe of the test's VU numbers, as in k6.
	Segment *executor.Tuple
}

// Config is what Run needs: the script's runner, the test and where samples go.
type Config struct {
	Runner Runner
	// Registry is the run's metric registry: the one the script was loaded with, so that its
	// custom metrics are known.
	Registry *metrics.Registry
	Test     *Test
	Outputs  []Output
	// Logger receives iteration errors and abort reasons; nil discards them.
	Logger Logger
	// Observer receives the run's events (see Observer for the contract); nil for none.
	Observer Observer
	// ByScenario keeps a sink per scenario and per group (Result.Scoped), for k6's
	// --summary-mode=full.
	ByScenario bool
	// ProgressEvery is the period of progress events (default 1s).
	ProgressEvery time.Duration
	// ErrorsPerSecond caps logged iteration errors (default 10).
	ErrorsPerSecond int
	// ThresholdsEvery is the live thresholds evaluation period (default 2s, as k6).
	ThresholdsEvery time.Duration
	// Control, when set, is the run's control surface (k6's REST API drives it): it gets
	// every event, can pause the run before its start (NewControl's paused), stop it, and
	// read its live metrics and groups.
	Control *Control

	// TraceStart, when set (benchmarks), gets the lateness of each arrival-rate start
	// against its scheduled time: when the scheduler handed it to a VU (dispatch) and when
	// the VU's goroutine woke with it (wake). It is called on the VU's goroutine, before
	// the iteration, so it must be cheap and safe for concurrent use.
	TraceStart func(dispatch, wake time.Duration)
}

// run is the state of one Run.
type run struct {
	cfg     Config
	log     Logger
	obs     *observers
	errs    *errorLog
	builtin *metrics.Builtin
	pipe    *pipeline
	scens   []*scenario

	active atomic.Int64
	inited atomic.Int64
	// nextID is the last VU ID given (VUs initialised during the test take the next ones).
	nextID atomic.Uint64

	mu        sync.Mutex
	failed    []string // test.fail() reasons
	marked    bool
	abortCode int
	abortErr  error
	cancelRun context.CancelFunc
	start     time.Time
	// setupData is the data the scenarios got (setup()'s result); the Result carries it.
	setupData json.RawMessage
	// pipeStarted is set once the aggregator runs (and start is set).
	pipeStarted atomic.Bool
}

// elapsed is the time since the scenarios started (0 before).
func (r *run) elapsed() time.Duration {
	if !r.pipeStarted.Load() {
		return 0
	}
	return time.Since(r.start)
}

// abort stops the run with code (the first abort wins).
func (r *run) abort(code int, err error) {
	r.mu.Lock()
	first := r.abortCode == 0
	if first {
		r.abortCode, r.abortErr = code, err
	}
	r.mu.Unlock()
	if first {
		r.obs.abort(code, err)
	}
	r.cancelRun()
}

// Validate checks cfg's thresholds against the registered metrics and the scenarios' exec
// functions against the script's exports. Run validates too; the command line calls it
// first to report a bad configuration before it prints anything.
func Validate(cfg Config) error {
	for _, mt := range cfg.Test.Thresholds {
		m := cfg.Registry.Get(mt.Metric)
		if m == nil {
			return fmt.Errorf("invalid threshold defined on %q: no metric named %q was found in the script", mt.Key, mt.Metric)
		}
		for _, t := range mt.Thresholds {
			if err := t.Validate(m.Type); err != nil {
				return fmt.Errorf("invalid threshold defined on %q: %w", mt.Key, err)
			}
		}
	}
	for _, c := range cfg.Test.Scenarios {
		if exec := c.Base().ExecOrDefault(); !cfg.Runner.HasExport(exec) {
			return fmt.Errorf("scenario %q: function %q is not exported by the script", c.Base().Name, exec)
		}
	}
	return nil
}

// Run executes a test: it validates it, initialises the VUs, starts the outputs, runs
// setup, walks every scenario's plan, runs teardown, evaluates the thresholds a last time
// and stops the outputs. It prints nothing: it logs iteration errors and abort reasons to
// cfg.Logger, reports events to cfg.Observer and returns what the command line needs to
// present the end of the test. Cancelling ctx is a graceful external abort (exit code 105).
func Run(ctx context.Context, cfg Config) *Result {
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.ErrorsPerSecond <= 0 {
		cfg.ErrorsPerSecond = 10
	}
	obs := cfg.Observer
	if cfg.Control != nil {
		if obs != nil {
			obs = Observers{obs, cfg.Control}
		} else {
			obs = cfg.Control
		}
	}
	r := &run{cfg: cfg, log: cfg.Logger, obs: &observers{o: obs}}
	if r.log == nil {
		r.log = discardLogger{}
	}
	r.errs = newErrorLog(r.log, cfg.ErrorsPerSecond)
	r.builtin = metrics.RegisterBuiltin(cfg.Registry)
	fail := func(code int, err error) *Result {
		r.log.LogFields("error", err.Error())
		r.obs.abort(code, err)
		r.obs.phase(PhaseDone)
		return &Result{Code: code, Err: err}
	}

	if err := Validate(cfg); err != nil {
		return fail(ExitInvalidConfig, err)
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	r.cancelRun = cancelRun

	onThresholdAbort := func(keys []string) {
		r.abort(ExitThresholdsCrossed, fmt.Errorf("thresholds on metrics '%s' were crossed; at least one has abortOnFail enabled, stopping test prematurely", strings.Join(keys, ", ")))
	}
	r.pipe = newPipeline(cfg.Registry, r.builtin, cfg.Outputs, cfg.Test.Thresholds,
		func() (int64, int64) { return r.active.Load(), r.inited.Load() }, onThresholdAbort)
	r.pipe.full = cfg.ByScenario
	r.pipe.runTags = metrics.NewTagSet(cfg.Test.Tags)
	if cfg.ThresholdsEvery > 0 {
		r.pipe.thresholdsEvery = cfg.ThresholdsEvery
	}
	if obs != nil {
		r.pipe.observe = func(e ThresholdsEvent) { r.obs.emit(e) }
	}
	if cfg.Control != nil {
		r.pipe.trackGroups = true
		cfg.Control.attach(r)
	}
	r.obs.phase(PhaseInit)
	vus, err := r.initVUs(runCtx)
	defer func() {
		for _, v := range vus {
			v.Close()
		}
	}()
	if err != nil {
		if ctx.Err() != nil {
			return fail(ExitExternalAbort, fmt.Errorf("test run was aborted during VU initialisation: %w", ctx.Err()))
		}
		return fail(ExitScriptError, err)
	}
	if ctl := cfg.Control; ctl != nil {
		ctl.setExec(ExecInitDone)
		if !ctl.waitResume(runCtx) {
			r.mu.Lock()
			code, aerr := r.abortCode, r.abortErr
			r.mu.Unlock()
			if code == 0 {
				code, aerr = ExitExternalAbort, fmt.Errorf("test run was aborted while paused: %w", ctx.Err())
			}
			return fail(code, aerr)
		}
	}
	for i, o := range cfg.Outputs {
		if err := o.Start(); err != nil {
			for _, prev := range cfg.Outputs[:i] {
				_ = prev.Stop()
			}
			return fail(ExitGeneric, fmt.Errorf("starting output %d: %w", i+1, err))
		}
	}
	for _, sc := range r.scens {
		if sc.cfg.Base().StartTime == 0 {
			r.pipe.initialVUs += int64(sc.plan.VUsAt(0))
		}
	}
	r.start = time.Now()
	go r.pipe.run(r.start)
	r.pipeStarted.Store(true)
	var prog *progressLoop
	if cfg.Observer != nil {
		prog = r.startProgress(cfg.ProgressEvery)
	}

	code, runErr := r.execute(ctx, runCtx)

	// Stop: drain the samples, evaluate thresholds a last time, stop the outputs.
	close(r.pipe.stop)
	<-r.pipe.stopped
	elapsed := time.Since(r.start)
	r.pipe.evaluate(elapsed, false)
	if cfg.Control != nil {
		cfg.Control.snapshotFinal(r, elapsed)
	}
	if prog != nil {
		prog.stop()
	}
	r.errs.flush()
	var outErrs []error
	for _, o := range cfg.Outputs {
		if err := o.Stop(); err != nil {
			outErrs = append(outErrs, err)
		}
	}
	res := r.result(elapsed)
	res.Code, res.Err, res.OutputErrors = code, runErr, outErrs
	r.mu.Lock()
	res.MarkedFailed, res.FailReasons = r.marked, r.failed
	r.mu.Unlock()
	if cfg.Control != nil && res.MarkedFailed {
		cfg.Control.setExec(ExecMarkedAsFailed)
	}
	r.obs.phase(PhaseDone)
	return res
}

// execute runs setup, the scenarios and teardown. It returns a non-zero code when the run
// was aborted or failed, after logging why.
func (r *run) execute(ctx, runCtx context.Context) (int, error) {
	t := r.cfg.Test
	setupTimeout, teardownTimeout := 60*time.Second, 60*time.Second
	if t.SetupTimeout > 0 {
		setupTimeout = t.SetupTimeout
	}
	if t.TeardownTimeout > 0 {
		teardownTimeout = t.TeardownTimeout
	}
	// setup and teardown share one sample buffer, as they did one state.
	spec := r.spec(0, nil, nil)
	r.obs.phase(PhaseSetup)
	var data json.RawMessage
	if !t.NoSetup && r.cfg.Runner.HasExport("setup") {
		sctx, cancel := context.WithTimeout(runCtx, setupTimeout)
		var err error
		data, err = r.cfg.Runner.Setup(sctx, spec)
		timedOut := sctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			switch {
			case IsAbort(err):
				r.abort(ExitScriptAbort, err)
			case ctx.Err() != nil:
				r.abort(ExitExternalAbort, fmt.Errorf("test run was aborted during setup: %w", ctx.Err()))
			case timedOut:
				r.abort(ExitSetupTimeout, fmt.Errorf("setup() execution timed out after %s; you can raise the limit with the setupTimeout option", setupTimeout))
			default:
				r.abort(ExitScriptError, fmt.Errorf("setup: %w", err))
			}
			return r.finishAbort(ctx)
		}
	}
	if ctl := r.cfg.Control; ctl != nil {
		// setup()'s result is the setup data; without a setup() run, the data set through
		// the control (the k6-operator's PUT /v1/setup with noSetup).
		if !t.NoSetup && r.cfg.Runner.HasExport("setup") {
			ctl.SetSetupData(data)
		} else {
			data = ctl.SetupData()
		}
	}
	r.mu.Lock()
	r.setupData = data
	r.mu.Unlock()
	r.obs.phase(PhaseRunning)
	var wg sync.WaitGroup
	for _, sc := range r.scens {
		sc.setupData = data
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.run(runCtx)
		}()
	}
	wg.Wait()
	r.obs.phase(PhaseTeardown)
	if !t.NoTeardown && r.cfg.Runner.HasExport("teardown") {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		err := r.cfg.Runner.Teardown(tctx, spec, data)
		timedOut := tctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			switch {
			case IsAbort(err):
				r.abort(ExitScriptAbort, err)
			case timedOut:
				r.abort(ExitTeardownTimeout, fmt.Errorf("teardown() execution timed out after %s; you can raise the limit with the teardownTimeout option", teardownTimeout))
			default:
				// A script exception in teardown fails the run with 107; outputs are
				// still flushed.
				r.abort(ExitScriptError, fmt.Errorf("teardown: %w", err))
			}
		}
	}
	return r.finishAbort(ctx)
}

// finishAbort returns the run's abort code, logging its reason; a cancelled ctx without
// another reason is an external abort.
func (r *run) finishAbort(ctx context.Context) (int, error) {
	r.mu.Lock()
	code, err := r.abortCode, r.abortErr
	r.mu.Unlock()
	if code == 0 && ctx.Err() != nil {
		code, err = ExitExternalAbort, errors.New("test run was aborted because pixelk6 received a signal (graceful stop)")
		r.obs.abort(code, err)
	}
	if code != 0 {
		r.log.LogFields("error", err.Error())
	}
	return code, err
}

// baseTags are the test's tags (options.tags with --tag) plus a scenario's tags.
func (r *run) baseTags(extra map[string]string) map[string]string {
	m := make(map[string]string, len(r.cfg.Test.Tags)+len(extra))
	for k, v := range r.cfg.Test.Tags {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// spec describes VU id of a scenario with tags and env (nil, nil for setup and teardown).
func (r *run) spec(id uint64, tags, env map[string]string) VUSpec {
	inTest := id
	if id > 0 {
		inTest = uint64(r.cfg.Test.Segment.Global(int64(id)-1)) + 1
	}
	return VUSpec{ID: id, IDInTest: inTest, Tags: r.baseTags(tags), Env: env, Samples: r.pipe.newBuffer(), MarkFailed: r.markFailed}
}

// markFailed records a test.fail(reason); the run goes on.
func (r *run) markFailed(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marked = true
	if reason != "" && !slices.Contains(r.failed, reason) && len(r.failed) < 100 {
		r.failed = append(r.failed, reason)
	}
}

// initVUs creates every scenario's VUs, in parallel bounded by the cores, and the
// scenarios that own them.
func (r *run) initVUs(ctx context.Context) ([]VU, error) {
	type job struct {
		id   uint64
		tags map[string]string
		env  map[string]string
	}
	var jobs []job
	for _, c := range r.cfg.Test.Scenarios {
		if c.Plan().Idle {
			continue
		}
		for range c.Plan().InitialVUs() {
			jobs = append(jobs, job{uint64(len(jobs) + 1), c.Base().Tags, c.Base().Env})
		}
	}
	vus := make([]VU, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		g.Go(func() error {
			spec := r.spec(j.id, j.tags, j.env)
			spec.Instance = r.instanceStats
			spec.TestOptions = r.cfg.Test.OptionsJSON
			v, err := r.cfg.Runner.NewVU(gctx, spec)
			if err != nil {
				return fmt.Errorf("initialising VU %d: %w", j.id, err)
			}
			vus[i] = v
			r.inited.Add(1)
			return nil
		})
	}
	err := g.Wait()
	live := vus[:0]
	for _, v := range vus {
		if v != nil {
			live = append(live, v)
		}
	}
	if err != nil {
		return live, err
	}
	r.nextID.Store(uint64(len(jobs)))
	off := 0
	for _, c := range r.cfg.Test.Scenarios {
		if c.Plan().Idle { // the execution segment leaves it no work: k6 does not run it
			continue
		}
		n := c.Plan().InitialVUs()
		sc := newScenario(c, vus[off:off+n])
		sc.engineActive = &r.active
		sc.minIter = r.cfg.Test.MinIterationDuration
		sc.onError = func(err error, s *scenario) { r.errs.iterationError(err, s.cfg.Base().Executor, s.name) }
		sc.onAbort = func(err error) { r.abort(ExitScriptAbort, err) }
		sc.onDropped = func(n int64) {
			r.pipe.newBuffer().Push(context.Background(), []metrics.Sample{{
				Metric: r.builtin.DroppedIterations, Tags: metrics.NewTagSet(r.baseTags(nil)).With("scenario", sc.name),
				Time: time.Now(), Value: float64(n),
			}})
		}
		if sc.plan.Arrival != nil {
			r.arrivalHooks(sc)
		}
		r.scens = append(r.scens, sc)
		off += n
	}
	return vus, nil
}

// arrivalHooks connects an arrival-rate scenario to the run: VUs initialised during the
// test, dropped_iterations samples (one per dropped iteration, as k6 emits them) and the
// warning and error logs.
func (r *run) arrivalHooks(sc *scenario) {
	base := sc.cfg.Base()
	a := &sc.arrival
	a.newVU = func(ctx context.Context) (VU, error) {
		id := r.nextID.Add(1)
		spec := r.spec(id, base.Tags, base.Env)
		spec.Instance = r.instanceStats
		spec.TestOptions = r.cfg.Test.OptionsJSON
		v, err := r.cfg.Runner.NewVU(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("initialising VU %d: %w", id, err)
		}
		r.inited.Add(1)
		return v, nil
	}
	buf := r.pipe.newBuffer()
	tags := metrics.NewTagSet(r.baseTags(nil)).With("scenario", sc.name)
	a.onDropped = func(t time.Time) {
		buf.Push(context.Background(), []metrics.Sample{{Metric: r.builtin.DroppedIterations, Tags: tags, Time: t, Value: 1}})
	}
	a.onInitError = func(err error) { r.abort(ExitScriptError, err) }
	a.traceStart = r.cfg.TraceStart
	a.warn = func(msg string) { r.log.LogFields("warning", msg, "executor", base.Executor, "scenario", sc.name) }
}

// instanceStats are k6/execution's instance counters.
func (r *run) instanceStats() InstanceStats {
	st := InstanceStats{VUsActive: r.active.Load(), VUsInitialized: r.inited.Load(), Start: r.start}
	for _, sc := range r.scens {
		st.IterationsCompleted += sc.complete.Load()
		st.IterationsInterrupted += sc.interrupted.Load()
	}
	return st
}

// discardLogger drops every line.
type discardLogger struct{}

func (discardLogger) LogFields(string, string, ...string) {}
