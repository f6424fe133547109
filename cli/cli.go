// Package cli is the pixelk6 command: a k6-compatible runner.
//
//	pixelk6 run [flags] script.js
//	pixelk6 version
//	pixelk6 --help
//
// `pixelk6 run` takes k6's flags: --vus/-u, --duration/-d, --iterations/-i, --stage/-s
// ("30s:10", repeated or comma-separated), --env/-e KEY=VALUE, --tag KEY=VALUE,
// --no-thresholds, --out/-o TYPE[=ARG] (repeatable: json=FILE[.gz], csv=FILE[.gz]),
// --summary-export FILE, --summary-mode compact|full|disabled, --no-summary,
// --summary-trend-stats avg,p(99), --summary-time-unit, --quiet/-q, --no-color,
// --http-debug[=full], --insecure-skip-tls-verify, --throw/-w, --include-system-env-vars (default
// true), --user-agent, --log-output stderr|stdout|none|file=PATH and --verbose/-v.
//
// Options come, in k6's order of precedence, from the defaults, a config file (none yet),
// the script's `options`, K6_* environment variables (K6_VUS, K6_DURATION, K6_ITERATIONS,
// K6_STAGES, K6_NO_THRESHOLDS, K6_SUMMARY_MODE, K6_NO_SUMMARY, K6_SUMMARY_EXPORT, K6_OUT,
// K6_LOG_OUTPUT, ...), then the command line; a later tier wins, and a tier that sets
// duration, iterations, stages or scenarios replaces all four of the tiers below it, as
// in k6. One function, consolidate, owns that order.
//
// The package presents a run; package engine executes it. cli consolidates the options,
// loads the script (package js), opens the outputs (package output), prints the banner,
// shows the progress (an engine.Observer), and after engine.Run returns prints the
// end-of-test summary or the script's handleSummary outputs, writes --summary-export and
// logs the crossed thresholds.
//
// Exit codes (k6's):
//
//	0    the test ran and every threshold passed
//	99   a threshold was crossed (also when abortOnFail stopped the test); stderr has
//	     level=error msg="thresholds on metrics '<names>' have been crossed"
//	104  invalid options, flags or thresholds (the message names the bad value)
//	105  the test was stopped by SIGINT/SIGTERM (outputs flushed, summary printed)
//	107  the script failed to load, or threw in its init context, in setup() or in teardown()
//	108  the script called test.abort() from k6/execution
//	255  any other failure (an output that cannot be opened, an unwritable file)
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
	"github.com/pixelk6/pixelk6/summary"
)

// Version is pixelk6's version.
const Version = "0.1.0"

// loaded is a loaded script: its exported options, and the engine's runner of it once
// the options are consolidated.
type loaded interface {
	Options() json.RawMessage
	Runner(opts modules.Options) script
}

// script is the loaded script as `run` uses it: the engine's runner, and the script's
// handleSummary. *js.Runner implements it.
type script interface {
	engine.Runner
	HandleSummary(ctx context.Context, spec engine.VUSpec, data json.RawMessage) (map[string]string, bool, error)
}

// jsLoaded is a *js.Bundle as loaded.
type jsLoaded struct{ *js.Bundle }

func (b jsLoaded) Runner(opts modules.Options) script { return js.NewRunner(b.Bundle, opts) }

// deps are what the run command builds on, replaceable in tests.
type deps struct {
	// load loads the script.
	load func(ctx context.Context, path string, opts js.LoadOptions) (loaded, error)
	// newOutput builds an --out output.
	newOutput func(spec string, p output.Params) (engine.Output, error)
	// environ is the process environment.
	environ func() []string
	// isTTY reports whether w is a terminal.
	isTTY func(w io.Writer) bool
}

func defaultDeps() deps {
	return deps{
		load: func(ctx context.Context, path string, opts js.LoadOptions) (loaded, error) {
			b, err := js.Load(ctx, path, opts)
			if err != nil {
				return nil, err
			}
			return jsLoaded{b}, nil
		},
		newOutput: func(spec string, p output.Params) (engine.Output, error) { return output.New(spec, p) },
		environ:   os.Environ,
		isTTY:     isTerminal,
	}
}

// Run runs the pixelk6 command line and returns its exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, defaultDeps())
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, d deps) int {
	code := 0
	root := &cobra.Command{
		Use:           "pixelk6",
		Short:         "pixelk6 runs k6 load-test scripts",
		Long:          "pixelk6 is a k6-compatible load-testing runner: `pixelk6 run script.js` runs a k6 script\nwith k6's options, outputs, summary and exit codes.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Show the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(stdout, "pixelk6 v%s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	})
	rf := &runFlags{}
	runCmd := &cobra.Command{
		Use:   "run [flags] script.js",
		Short: "Run a k6 test script",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			code = runTest(ctx, cmd, rf, a[0], stdout, stderr, d)
			return nil
		},
	}
	rf.register(runCmd)
	root.AddCommand(runCmd)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		if strings.Contains(err.Error(), "unknown command") {
			return engine.ExitGeneric
		}
		return engine.ExitInvalidConfig
	}
	return code
}

// runTest is `pixelk6 run`: it consolidates the options, loads the script, opens the
// outputs, prints the banner, runs the test with the progress display and presents its
// end: the summary (or handleSummary's outputs), --summary-export, the output errors and
// the crossed thresholds. It returns the exit code.
func runTest(ctx context.Context, cmd *cobra.Command, rf *runFlags, scriptPath string, stdout, stderr io.Writer, d deps) int {
	procEnv := envMap(d.environ())
	flagOpts, flagErr := rf.options(cmd)
	envOpts, envErr := optionsFromEnv(procEnv)
	// The logger is needed before the script's options are known: its tier comes from
	// the same consolidation, without the script.
	pre := consolidate(tiers{defaults: defaultOptions(), env: envOpts, flags: flagOpts})
	logSpec := ""
	if pre.LogOutput != nil {
		logSpec = *pre.LogOutput
	}
	logger, closeLog, err := newLogger(logSpec, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return engine.ExitInvalidConfig
	}
	defer closeLog()
	logger.Debug = rf.verbose
	fail := func(code int, err error) int {
		logger.Log("error", err.Error())
		return code
	}
	if flagErr != nil {
		return fail(engine.ExitInvalidConfig, flagErr)
	}
	if envErr != nil {
		return fail(engine.ExitInvalidConfig, envErr)
	}
	scriptEnv := map[string]string{}
	if rf.includeSystemEnv {
		for k, v := range procEnv {
			scriptEnv[k] = v
		}
	}
	for _, kv := range rf.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --env %q: want KEY=VALUE", kv))
		}
		scriptEnv[k] = v
	}

	reg := metrics.NewRegistry()
	ld, err := d.load(ctx, scriptPath, js.LoadOptions{Env: scriptEnv, Logger: logger, Registry: reg})
	if err != nil {
		return fail(engine.ExitScriptError, err)
	}
	if c, ok := ld.(io.Closer); ok { // ends the run's module resources (modules.Run) after the summary
		defer func() {
			if err := c.Close(); err != nil {
				fmt.Fprintf(stderr, "closing the test run: %v\n", err)
			}
		}()
	}
	scriptOpts, err := parseScriptOptions(ld.Options())
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: scriptOpts, env: envOpts, flags: flagOpts}))
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	runner := ld.Runner(rc.Module)

	params := output.Params{Metrics: k6file.MetricInfos(rc.Test.Thresholds, scriptOrder(rc.Options)), Env: procEnv, Stdout: stdout}
	var outs []engine.Output
	var names []string
	for _, spec := range rc.Out {
		o, err := d.newOutput(spec, params)
		if err != nil {
			for _, prev := range outs {
				_ = prev.Stop()
			}
			return fail(engine.ExitInvalidConfig, err)
		}
		outs = append(outs, o)
		names = append(names, outputName(spec))
	}

	stdoutTTY, stderrTTY := d.isTTY(stdout), d.isTTY(stderr)
	cfg := engine.Config{
		Runner:     runner,
		Registry:   reg,
		Test:       rc.Test,
		Outputs:    outs,
		Logger:     logger,
		ByScenario: rc.Summary && rc.SummaryMode == summary.Full,
	}
	if err := engine.Validate(cfg); err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	// The run's observers: the progress display (and, later, a dashboard or REST status).
	var observers engine.Observers
	var prog *progress
	if !rf.quiet {
		banner(stdout, scriptPath, names, rc.Test.Scenarios)
		var around *logfmt.Logger
		if stdoutTTY && stderrTTY {
			around = logger
		}
		prog = newProgress(stdout, stdoutTTY, around)
		observers = append(observers, prog)
		if stdoutTTY {
			cfg.ProgressEvery = 200 * time.Millisecond
		}
	}
	if len(observers) > 0 {
		cfg.Observer = observers
	}

	res := engine.Run(ctx, cfg)
	if prog != nil {
		prog.detach()
	}
	if !res.Ran {
		return res.ExitCode() // why has been logged
	}
	if res.Code != engine.ExitScriptError {
		end := &endOfTest{rc: rc, script: runner, stdout: stdout, stderr: stderr, stdoutTTY: stdoutTTY, stderrTTY: stderrTTY}
		if err := end.summary(ctx, res); err != nil {
			logger.Log("error", err.Error())
		}
	}
	if prog != nil {
		prog.final()
	}
	for _, err := range res.OutputErrors {
		logger.Log("error", "output: "+err.Error())
	}
	if len(res.FailedThresholds) > 0 {
		logger.Log("error", fmt.Sprintf("thresholds on metrics '%s' have been crossed", strings.Join(res.FailedThresholds, ", ")))
	}
	return res.ExitCode()
}

// outputName is the banner's description of an --out value: "json (out.json)".
func outputName(spec string) string {
	typ, arg, ok := strings.Cut(spec, "=")
	if !ok || arg == "" {
		return typ
	}
	return typ + " (" + arg + ")"
}

// scriptOrder returns the thresholds' keys in the order the options wrote them.
func scriptOrder(o options) []string {
	dec := json.NewDecoder(strings.NewReader(string(o.Thresholds)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := tok.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// newLogger builds the logger of --log-output: stderr (default), stdout, none or
// file=PATH.
func newLogger(spec string, stdout, stderr io.Writer) (*logfmt.Logger, func(), error) {
	switch {
	case spec == "" || spec == "stderr":
		return logfmt.New(stderr), func() {}, nil
	case spec == "stdout":
		return logfmt.New(stdout), func() {}, nil
	case spec == "none":
		return logfmt.New(io.Discard), func() {}, nil
	case strings.HasPrefix(spec, "file="):
		f, err := os.OpenFile(strings.TrimPrefix(spec, "file="), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid --log-output %q: %w", spec, err)
		}
		return logfmt.New(f), func() { f.Close() }, nil
	}
	return nil, nil, fmt.Errorf("invalid --log-output %q (want stderr, stdout, none or file=PATH)", spec)
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
