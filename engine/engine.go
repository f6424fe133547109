package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/summary"
)

// k6's exit codes.
const (
	ExitOK                = 0
	ExitThresholdsCrossed = 99  // a threshold failed (also when abortOnFail stopped the test)
	ExitInvalidConfig     = 104 // invalid options or thresholds
	ExitExternalAbort     = 105 // SIGINT/SIGTERM (ctx cancelled)
	ExitScriptError       = 107 // the script failed to load, or threw in init, setup or teardown
	ExitScriptAbort       = 108 // test.abort()
	ExitGeneric           = 255 // anything else (an output that cannot start, ...)
)

// ExitError is a failed run with its exit code. Its message has already been logged when
// Logged is true.
type ExitError struct {
	Code   int
	Err    error
	Logged bool
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the exit code for err: 0 for nil, the code of an *ExitError, and
// ExitGeneric otherwise.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitGeneric
}

// Config is what Run needs: the loaded script, its consolidated test and where to write.
type Config struct {
	Runner js.Runner
	// Registry is the run's metric registry: the one the script was loaded with, so that its
	// custom metrics are known.
	Registry *metrics.Registry
	Test     *Test
	Outputs  []Output
	// OutputNames describe the outputs in the banner, e.g. "json (out.json)".
	OutputNames []string
	// ScriptPath is shown in the banner.
	ScriptPath string
	Stdout     io.Writer
	Stderr     io.Writer
	// Logger receives log lines; nil means a Logger on Stderr.
	Logger *Logger
	// Quiet disables the banner and the progress lines (-q).
	Quiet   bool
	NoColor bool
	// StdoutTTY selects the live progress display and is reported to handleSummary.
	StdoutTTY, StderrTTY bool
	// SummaryMode is "compact" (default), "full" or "disabled".
	SummaryMode string
	// SummaryExport is the --summary-export file ("" for none).
	SummaryExport string
	// CWD resolves handleSummary's relative output paths; "" is the working directory.
	CWD string
	// ProgressEvery is the progress period (default 1s).
	ProgressEvery time.Duration
	// ErrorsPerSecond caps logged iteration errors (default 10).
	ErrorsPerSecond int
	// ThresholdsEvery is the live thresholds evaluation period (default 2s, as k6).
	ThresholdsEvery time.Duration
}

// run is the state of one Run.
type run struct {
	cfg     Config
	log     *Logger
	errs    *errorLog
	builtin *metrics.Builtin
	pipe    *pipeline
	scens   []*scenario

	active atomic.Int64
	inited atomic.Int64

	mu         sync.Mutex
	abortCode  int
	abortErr   error
	cancelRun  context.CancelFunc
	start      time.Time
	setupState *modules.State
}

// abort stops the run with code (the first abort wins).
func (r *run) abort(code int, err error) {
	r.mu.Lock()
	if r.abortCode == 0 {
		r.abortCode, r.abortErr = code, err
	}
	r.mu.Unlock()
	r.cancelRun()
}

// Run executes a test: it initialises the VUs, runs setup, walks every scenario's plan,
// runs teardown, prints the summary (or the script's handleSummary outputs), writes
// --summary-export, stops the outputs and returns an *ExitError for any exit code but 0.
// Cancelling ctx is a graceful external abort (exit code 105).
func Run(ctx context.Context, cfg Config) error {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.ErrorsPerSecond <= 0 {
		cfg.ErrorsPerSecond = 10
	}
	r := &run{cfg: cfg, log: cfg.Logger}
	if r.log == nil {
		r.log = NewLogger(cfg.Stderr)
	}
	r.errs = newErrorLog(r.log, cfg.ErrorsPerSecond)
	r.builtin = metrics.RegisterBuiltin(cfg.Registry)
	fail := func(code int, err error) error {
		r.log.Log("error", err.Error())
		return &ExitError{Code: code, Err: err, Logged: true}
	}

	if err := r.validate(); err != nil {
		return fail(ExitInvalidConfig, err)
	}
	if !cfg.Quiet {
		r.banner()
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	r.cancelRun = cancelRun

	onThresholdAbort := func(keys []string) {
		r.abort(ExitThresholdsCrossed, fmt.Errorf("thresholds on metrics '%s' were crossed; at least one has abortOnFail enabled, stopping test prematurely", strings.Join(keys, ", ")))
	}
	r.pipe = newPipeline(cfg.Registry, r.builtin, cfg.Outputs, cfg.Test.Thresholds,
		func() (int64, int64) { return r.active.Load(), r.inited.Load() }, onThresholdAbort)
	r.pipe.full = cfg.SummaryMode == "full"
	if cfg.ThresholdsEvery > 0 {
		r.pipe.thresholdsEvery = cfg.ThresholdsEvery
	}
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
	var prog *progress
	if !cfg.Quiet {
		prog = newProgress(cfg.Stdout, cfg.StdoutTTY, r)
		if cfg.StdoutTTY && cfg.StderrTTY {
			r.log.setAround(prog.around)
		}
		prog.start(cfg.ProgressEvery)
	}

	code, runErr := r.execute(ctx, runCtx)

	// Stop: drain the samples, evaluate thresholds a last time, stop the outputs.
	close(r.pipe.stop)
	<-r.pipe.stopped
	elapsed := time.Since(r.start)
	r.pipe.evaluate(elapsed, false)
	if prog != nil {
		prog.stop()
		r.log.setAround(nil)
	}
	r.errs.flush()
	var outErrs []error
	for _, o := range cfg.Outputs {
		if err := o.Stop(); err != nil {
			outErrs = append(outErrs, err)
		}
	}

	if code != ExitScriptError {
		if err := r.summary(ctx, elapsed); err != nil {
			r.log.Log("error", err.Error())
		}
	}
	if prog != nil {
		prog.final()
	}
	for _, err := range outErrs {
		r.log.Log("error", "output: "+err.Error())
	}

	failed := r.pipe.failedKeys()
	if len(failed) > 0 {
		r.log.Log("error", fmt.Sprintf("thresholds on metrics '%s' have been crossed", strings.Join(failed, ", ")))
	}
	switch {
	case code != 0:
		return &ExitError{Code: code, Err: runErr, Logged: true}
	case len(failed) > 0:
		return &ExitError{Code: ExitThresholdsCrossed, Err: fmt.Errorf("thresholds on metrics '%s' have been crossed", strings.Join(failed, ", ")), Logged: true}
	case len(outErrs) > 0:
		return &ExitError{Code: ExitGeneric, Err: errors.Join(outErrs...), Logged: true}
	}
	return nil
}

// execute runs setup, the scenarios and teardown. It returns a non-zero code when the run
// was aborted or failed, after logging why.
func (r *run) execute(ctx, runCtx context.Context) (int, error) {
	opts := r.cfg.Test.Options
	setupTimeout, teardownTimeout := 60*time.Second, 60*time.Second
	if opts.SetupTimeout != nil {
		setupTimeout = opts.SetupTimeout.D()
	}
	if opts.TeardownTimeout != nil {
		teardownTimeout = opts.TeardownTimeout.D()
	}
	st := r.newState(0, nil)
	r.setupState = st
	var data json.RawMessage
	if r.cfg.Runner.HasExport("setup") {
		sctx, cancel := context.WithTimeout(runCtx, setupTimeout)
		var err error
		data, err = r.cfg.Runner.Setup(sctx, st)
		cancel()
		if err != nil {
			switch {
			case js.IsAbort(err):
				r.abort(ExitScriptAbort, err)
			case ctx.Err() != nil:
				r.abort(ExitExternalAbort, fmt.Errorf("test run was aborted during setup: %w", ctx.Err()))
			default:
				r.abort(ExitScriptError, fmt.Errorf("setup: %w", err))
			}
			return r.finishAbort(ctx)
		}
	}
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
	if r.cfg.Runner.HasExport("teardown") {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		err := r.cfg.Runner.Teardown(tctx, st, data)
		cancel()
		if err != nil {
			if js.IsAbort(err) {
				r.abort(ExitScriptAbort, err)
			} else {
				// As k6: a script exception in teardown fails the run (the summary is
				// still printed and outputs are flushed).
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
	}
	if code != 0 {
		r.log.Log("error", err.Error())
	}
	return code, err
}

// validate checks the thresholds against the registered metrics and the scenarios'
// exec functions against the script's exports.
func (r *run) validate() error {
	for _, mt := range r.cfg.Test.Thresholds {
		m := r.cfg.Registry.Get(mt.Metric)
		if m == nil {
			return fmt.Errorf("invalid threshold defined on %q: no metric named %q was found in the script", mt.Key, mt.Metric)
		}
		for _, t := range mt.Thresholds {
			if err := t.Validate(m.Type); err != nil {
				return fmt.Errorf("invalid threshold defined on %q: %w", mt.Key, err)
			}
		}
	}
	for _, c := range r.cfg.Test.Scenarios {
		if exec := c.Base().ExecOrDefault(); !r.cfg.Runner.HasExport(exec) {
			return fmt.Errorf("scenario %q: function %q is not exported by the script", c.Base().Name, exec)
		}
	}
	return nil
}

// baseTags are options.tags (with --tag) plus a scenario's tags.
func (r *run) baseTags(extra map[string]string) map[string]string {
	m := make(map[string]string, len(r.cfg.Test.Options.Tags)+len(extra))
	for k, v := range r.cfg.Test.Options.Tags {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (r *run) moduleOptions() modules.Options {
	o := r.cfg.Test.Options
	var mo modules.Options
	if o.HTTPDebug != nil {
		mo.HTTPDebug = *o.HTTPDebug
	}
	if o.InsecureSkipTLSVerify != nil {
		mo.InsecureSkipTLSVerify = *o.InsecureSkipTLSVerify
	}
	if o.UserAgent != nil {
		mo.UserAgent = *o.UserAgent
	}
	if o.NoCookiesReset != nil {
		mo.NoCookiesReset = *o.NoCookiesReset
	}
	mo.SystemTags = o.SystemTags
	return mo
}

func (r *run) newState(id uint64, tags map[string]string) *modules.State {
	var samples metrics.Pusher = metrics.PusherFunc(func(context.Context, []metrics.Sample) {})
	if r.pipe != nil {
		samples = r.pipe.newBuffer()
	}
	return &modules.State{
		VUID:       id,
		VUIDGlobal: id,
		Registry:   r.cfg.Registry,
		Builtin:    r.builtin,
		Samples:    samples,
		Logger:     r.log,
		Options:    r.moduleOptions(),
		Tags:       modules.NewTagMap(r.baseTags(tags)),
		Bytes:      &modules.ByteCounter{},
	}
}

// initVUs creates every scenario's VUs, in parallel bounded by the cores, and the
// scenarios that own them.
func (r *run) initVUs(ctx context.Context) ([]js.VU, error) {
	type job struct {
		id   uint64
		tags map[string]string
		env  map[string]string
	}
	var jobs []job
	for _, c := range r.cfg.Test.Scenarios {
		for range c.Plan().MaxVUs {
			jobs = append(jobs, job{uint64(len(jobs) + 1), c.Base().Tags, c.Base().Env})
		}
	}
	vus := make([]js.VU, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		g.Go(func() error {
			st := r.newState(j.id, j.tags)
			st.Env = j.env
			v, err := r.cfg.Runner.NewVU(gctx, st)
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
	off := 0
	for _, c := range r.cfg.Test.Scenarios {
		n := c.Plan().MaxVUs
		sc := newScenario(c, vus[off:off+n])
		sc.engineActive = &r.active
		sc.onError = func(err error, s *scenario) { r.errs.iterationError(err, s.cfg.Base().Executor, s.name) }
		sc.onAbort = func(err error) { r.abort(ExitScriptAbort, err) }
		sc.instance = r.instanceStats
		sc.onDropped = func(n int64) {
			r.pipe.newBuffer().Push(context.Background(), []metrics.Sample{{
				Metric: r.builtin.DroppedIterations, Tags: metrics.NewTagSet(r.baseTags(nil)).With("scenario", sc.name),
				Time: time.Now(), Value: float64(n),
			}})
		}
		sc.testOptions = r.testOptionsJSON()
		r.scens = append(r.scens, sc)
		off += n
	}
	return vus, nil
}

// instanceStats are k6/execution's instance counters.
func (r *run) instanceStats() modules.InstanceStats {
	st := modules.InstanceStats{VUsActive: r.active.Load(), VUsInitialized: r.inited.Load(), Start: r.start}
	for _, sc := range r.scens {
		st.IterationsCompleted += sc.complete.Load()
		st.IterationsInterrupted += sc.interrupted.Load()
	}
	return st
}

// testOptionsJSON is the consolidated options as JSON, with the scenarios as run
// (k6/execution's test.options).
func (r *run) testOptionsJSON() []byte {
	o := r.cfg.Test.Options
	scen := map[string]executor.Config{}
	for _, c := range r.cfg.Test.Scenarios {
		scen[c.Base().Name] = c
	}
	raw, err := json.Marshal(scen)
	if err != nil {
		return nil
	}
	o.Scenarios = raw
	b, err := json.Marshal(o)
	if err != nil {
		return nil
	}
	return b
}

// summary builds the summary data and writes handleSummary's outputs or the text
// summary, and --summary-export.
func (r *run) summary(ctx context.Context, elapsed time.Duration) error {
	d := r.summaryData(elapsed)
	var errs []error
	handled := false
	// As in k6, --no-summary (--summary-mode=disabled) also skips handleSummary; the
	// --summary-export file is still written.
	if r.cfg.SummaryMode != "disabled" && r.cfg.Runner.HasExport("handleSummary") {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("encoding the summary data: %w", err)
		}
		raw := json.RawMessage(bytes.TrimSpace(buf.Bytes()))
		st := r.newState(0, nil)
		st.Samples = metrics.PusherFunc(func(context.Context, []metrics.Sample) {})
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		out, ok, err := r.cfg.Runner.HandleSummary(hctx, st, raw)
		cancel()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("handleSummary: %w", err))
		case ok:
			handled = true
			if err := r.writeSummaryOutputs(out); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !handled && r.cfg.SummaryMode != "disabled" {
		mode := summary.Compact
		if r.cfg.SummaryMode == "full" {
			mode = summary.Full
		}
		if _, err := io.WriteString(r.cfg.Stdout, "\n\n"); err != nil {
			errs = append(errs, err)
		}
		if err := summary.Text(r.cfg.Stdout, d, summary.TextOptions{Mode: mode, NoColor: r.cfg.NoColor || !r.cfg.StdoutTTY}); err != nil {
			errs = append(errs, fmt.Errorf("writing the summary: %w", err))
		}
		if _, err := io.WriteString(r.cfg.Stdout, "\n\n\n"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.cfg.SummaryExport != "" {
		if err := writeFile(r.path(r.cfg.SummaryExport), func(w io.Writer) error { return summary.Export(w, d) }); err != nil {
			errs = append(errs, fmt.Errorf("--summary-export: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (r *run) path(p string) string {
	if filepath.IsAbs(p) || r.cfg.CWD == "" {
		return p
	}
	return filepath.Join(r.cfg.CWD, p)
}

// writeSummaryOutputs writes handleSummary's result: "stdout", "stderr" or a file path.
func (r *run) writeSummaryOutputs(out map[string]string) error {
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		var err error
		switch name {
		case "stdout":
			_, err = io.WriteString(r.cfg.Stdout, out[name])
		case "stderr":
			_, err = io.WriteString(r.cfg.Stderr, out[name])
		default:
			err = writeFile(r.path(name), func(w io.Writer) error { _, e := io.WriteString(w, out[name]); return e })
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("handleSummary output %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summaryData builds k6's handleSummary data from the sinks (the aggregator has exited).
func (r *run) summaryData(elapsed time.Duration) *summary.Data {
	stats := r.cfg.Test.TrendStats
	d := &summary.Data{
		Options: summary.Options{SummaryTrendStats: stats, NoColor: r.cfg.NoColor},
		State: summary.State{IsStdOutTTY: r.cfg.StdoutTTY, IsStdErrTTY: r.cfg.StderrTTY,
			TestRunDurationMs: float64(elapsed) / float64(time.Millisecond)},
		Metrics:   map[string]*summary.Metric{},
		RootGroup: summary.NewRootGroup(),
	}
	if u := r.cfg.Test.Options.SummaryTimeUnit; u != nil {
		d.Options.SummaryTimeUnit = *u
	}
	thr := map[string]*thresholdSet{}
	for _, ts := range r.pipe.thr {
		thr[ts.mt.Key] = ts
	}
	add := func(key string, m *metrics.Metric, sink metrics.Sink) {
		ts := thr[key]
		if (sink == nil || sink.IsEmpty()) && ts == nil {
			return
		}
		if sink == nil {
			sink = metrics.NewSink(m.Type)
		}
		sm := summary.NewMetric(m.Type, m.Contains, sink.Values(elapsed, stats))
		if ts != nil {
			for i, t := range ts.mt.Thresholds {
				sm.Thresholds = append(sm.Thresholds, summary.Threshold{
					Source: t.Source, OK: !ts.failed[i], Agg: t.Agg.String(), Observed: nanToZero(ts.observed[i]),
				})
			}
		}
		d.Metrics[key] = sm
	}
	for _, m := range r.cfg.Registry.All() {
		var st *metricState
		if m.ID < len(r.pipe.states) {
			st = r.pipe.states[m.ID]
		}
		if st == nil {
			add(m.Name, m, nil)
			for _, def := range r.pipe.subDefs[m.Name] {
				add(def.key, m, nil)
			}
			continue
		}
		add(m.Name, m, st.sink)
		for _, sub := range st.subs {
			add(sub.key, m, sub.sink)
		}
	}
	for _, c := range r.pipe.checks {
		g := d.RootGroup
		for _, name := range splitGroupPath(c.key.group) {
			g = g.Group(name)
		}
		ch := g.Check(c.key.name)
		ch.Passes += c.passes
		ch.Fails += c.fails
	}
	if r.pipe.full {
		d.Scenarios = r.scenarioSummaries(elapsed)
	}
	return d
}

// scenarioSummaries builds the per-scenario and per-group parts of the full summary,
// scenarios sorted by name.
func (r *run) scenarioSummaries(elapsed time.Duration) []*summary.Scenario {
	stats := r.cfg.Test.TrendStats
	byName := map[string]*summary.Scenario{}
	get := func(name string) *summary.Scenario {
		sc := byName[name]
		if sc == nil {
			sc = &summary.Scenario{Name: name, Metrics: map[string]*summary.Metric{}, RootGroup: summary.NewRootGroup()}
			byName[name] = sc
		}
		return sc
	}
	for _, sc := range r.scens {
		get(sc.name)
	}
	keys := make([]scopeKey, 0, len(r.pipe.scoped))
	for k := range r.pipe.scoped {
		keys = append(keys, k)
	}
	// Groups appear in path order so that parents are created before children.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].metric.Name < keys[j].metric.Name
	})
	for _, k := range keys {
		sink := r.pipe.scoped[k]
		sm := summary.NewMetric(k.metric.Type, k.metric.Contains, sink.Values(elapsed, stats))
		sc := get(k.scenario)
		if k.group == allGroups {
			sc.Metrics[k.metric.Name] = sm
			continue
		}
		g := sc.RootGroup
		for _, name := range splitGroupPath(k.group) {
			g = g.Group(name)
		}
		if g.Metrics == nil {
			g.Metrics = map[string]*summary.Metric{}
		}
		g.Metrics[k.metric.Name] = sm
	}
	for _, c := range r.pipe.checks {
		if c.key.scenario == "" {
			continue
		}
		g := get(c.key.scenario).RootGroup
		for _, name := range splitGroupPath(c.key.group) {
			g = g.Group(name)
		}
		ch := g.Check(c.key.name)
		ch.Passes += c.passes
		ch.Fails += c.fails
	}
	out := make([]*summary.Scenario, 0, len(byName))
	for _, sc := range byName {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
