// Package cli is the pixelk6 command: a k6-compatible runner.
//
//	pixelk6 run [flags] script.js|-|archive.tar   (- reads the script from standard input)
//	pixelk6 archive [flags] -O archive.tar script.js|-
//	pixelk6 inspect [--execution-requirements] script.js|-|archive.tar
//	pixelk6 new [--force] [file]
//	pixelk6 build [VERSION] --with MODULE[@VERSION][=REPLACEMENT]... [--replace MOD=PATH]... [-o FILE]
//	pixelk6 version [--json]
//	pixelk6 --version | --help
//
// `pixelk6 run` has every flag of `k6 run` (k6 v2.2). supportTable (support.go) lists
// each flag, K6_* option variable and options key with what pixelk6 does with it, and the
// README's table is generated from it. Nothing is ignored silently: a setting pixelk6 does
// not honour yet fails the run with exit code 104 naming it (from the command line, the
// environment, the script's options or the config file); an options key k6 itself does not
// know gets k6's warning and the run goes on.
//
// Options come, in k6's order of precedence, from the defaults, the -c / K6_CONFIG JSON
// config file, the script's `options`, K6_* environment variables, then the command line;
// a later tier wins, and a tier that sets duration, iterations, stages or scenarios
// replaces all four of the tiers below it, as in k6. One function, consolidate, owns that
// order.
//
// The package presents a run; package engine executes it. cli consolidates the options,
// loads the script (package js), opens the outputs (package output), prints the banner,
// shows the progress (an engine.Observer), and after engine.Run returns prints the
// end-of-test summary or the script's handleSummary outputs, writes --summary-export and
// logs the crossed thresholds. Logs go to --log-output (stderr, stdout, none,
// file=PATH) in --log-format (text, json, raw); console.* lines carry source=console and
// go to --console-output FILE when given.
//
// Exit codes (k6's):
//
//	0    the test ran and every threshold passed
//	99   a threshold was crossed (also when abortOnFail stopped the test); stderr has
//	     level=error msg="thresholds on metrics '<names>' have been crossed"
//	100  setup() ran past setupTimeout
//	101  teardown() ran past teardownTimeout
//	103  the test was stopped through the REST API (PATCH /v1/status {"stopped":true})
//	104  invalid options, flags or thresholds (the message names the bad value), or k6
//	     settings pixelk6 does not honour yet (the message names each)
//	105  the test was stopped by SIGINT/SIGTERM (outputs flushed, summary printed); also
//	     during the init context, before the test started
//	106  the REST API server cannot listen on --address (a busy port, a bad address)
//	107  the script failed to load, or threw in its init context, in setup() or in teardown()
//	108  the script called test.abort() from k6/execution
//	110  the script called test.fail() from k6/execution (the run went on to its end)
//	255  a command line that does not parse (unknown flag or command, a flag value of the
//	     wrong type), an unsupported subcommand, or any other failure: an output that cannot
//	     be opened or flushed, an unwritable file — including a --summary-export file or a
//	     handleSummary output file that cannot be written (logged as level=error; a run that
//	     already has a non-zero code keeps it)
//
// A handleSummary that throws is logged (level=error) and does not change the exit code.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/secrets"
	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
	"github.com/pixelk6/pixelk6/output/webdashboard"
	"github.com/pixelk6/pixelk6/restapi"
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
	// stdin is the standard input (`pixelk6 run -` reads the script from it).
	stdin io.Reader
	// traceStart, when set (benchmarks), is the engine's Config.TraceStart.
	traceStart func(dispatch, wake time.Duration)
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
		stdin:     os.Stdin,
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
		Version:       "v" + Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionLine() + "\n")
	// Declared here so that cobra does not give it -v, which is k6's --verbose.
	root.Flags().Bool("version", false, "print the version")
	root.SetArgs(hoistGlobalFlags(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(versionCmd(stdout), extensionsCheckCmd(stdout))
	rf := &runFlags{}
	runCmd := &cobra.Command{
		Use:   "run [flags] script.js|-",
		Short: "Run a k6 test script (- reads it from standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			code = runTest(ctx, cmd, rf, a[0], stdout, stderr, d)
			return nil
		},
	}
	rf.register(runCmd)
	root.AddCommand(runCmd)
	root.AddCommand(inspectCmd(ctx, &code, stdout, stderr, d))
	root.AddCommand(newCmd(&code, stdout, stderr))
	root.AddCommand(archiveCmd(ctx, &code, stdout, stderr, d))
	root.AddCommand(buildCmd(ctx, &code, stdout, stderr))
	for _, u := range unsupportedCommands {
		root.AddCommand(&cobra.Command{
			Use: u.name, Short: "not supported by pixelk6 yet", DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error {
				code = engine.ExitGeneric
				fmt.Fprintf(stderr, "error: `k6 %s` is not supported by pixelk6 yet: %s\n", u.name, u.why)
				return nil
			},
		})
	}
	// As in k6, a command line that does not parse (an unknown flag or command, a flag
	// value of the wrong type, a wrong number of arguments) exits with 255.
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return engine.ExitGeneric
	}
	return code
}

// k6's global flags, which k6 takes before the subcommand too (`k6 -q run x.js`); pixelk6
// declares them on run and archive, and hoistGlobalFlags moves them there.
var (
	globalBoolFlags  = map[string]bool{"-v": true, "--verbose": true, "-q": true, "--quiet": true, "--no-color": true, "--profiling-enabled": true}
	globalValueFlags = map[string]bool{"-c": true, "--config": true, "-a": true, "--address": true, "--log-output": true, "--log-format": true, "--logformat": true, "--secret-source": true}
)

// hoistGlobalFlags moves k6's global flags written before `run` or `archive` after it.
func hoistGlobalFlags(args []string) []string {
	var moved []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if len(moved) == 0 || (a != "run" && a != "archive") {
				return args
			}
			out := append([]string{a}, moved...)
			return append(out, args[i+1:]...)
		}
		name, _, hasValue := strings.Cut(a, "=")
		switch {
		case globalBoolFlags[name]:
			moved = append(moved, a)
		case globalValueFlags[name] && hasValue:
			moved = append(moved, a)
		case globalValueFlags[name] && i+1 < len(args):
			moved = append(moved, a, args[i+1])
			i++
		default:
			return args // --help, --version, an unknown flag: cobra handles them
		}
	}
	return args
}

// unsupportedCommands are k6's subcommands pixelk6 does not have yet: they fail with a
// message saying so (exit code 255) rather than "unknown command".
var unsupportedCommands = []struct{ name, why string }{
	{"cloud", "it has no Grafana Cloud integration"},
	{"login", "it has no Grafana Cloud or InfluxDB login"},
	{"pause", "it has no REST API client command yet (`pixelk6 run --address` serves the API: use curl)"},
	{"resume", "it has no REST API client command yet (`pixelk6 run --address` serves the API: use curl)"},
	{"scale", "it has no REST API client command yet, and k6 v2's API refuses live VU changes"},
	{"stats", "it has no REST API client command yet (`pixelk6 run --address` serves the API: use curl)"},
	{"status", "it has no REST API client command yet (`pixelk6 run --address` serves the API: use curl)"},
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
	logger, closeLog, err := newLogger(deref(pre.LogOutput), stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return engine.ExitInvalidConfig
	}
	defer closeLog()
	logger.Debug = rf.verbose
	logger.Format = deref(pre.LogFormat)
	fail := func(code int, err error) int {
		logger.Log("error", err.Error())
		return code
	}
	secretSources, err := secrets.ParseSources(rf.secretSources, procEnv, os.ReadFile)
	if err != nil {
		return fail(engine.ExitGeneric, err)
	}
	if secretSources != nil {
		logger.Redact = secretSources.Redact
	}
	// Settings pixelk6 refuses are gathered from every tier (flags, environment, config
	// file, script), so that one message names them all; any other error stops here.
	var refused refusals
	for _, err := range []error{flagErr, envErr} {
		if err != nil && !refused.add(err) {
			return fail(engine.ExitInvalidConfig, err)
		}
	}
	switch f := deref(pre.LogFormat); f {
	case "", "text", "json", "raw":
	default:
		return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --log-format %q (want text, json or raw)", f))
	}
	fileOpts, err := configTier(rf.config, procEnv, logger)
	if err != nil && !refused.add(err) {
		return fail(engine.ExitInvalidConfig, err)
	}
	pre = consolidate(tiers{defaults: defaultOptions(), file: fileOpts, env: envOpts, flags: flagOpts})
	arc, err := openInput(pre.Type, scriptPath, d.stdin)
	if err != nil {
		return fail(engine.ExitScriptError, err)
	}
	scriptLogger := &consoleLogger{Logger: logger}
	if p := deref(pre.ConsoleOutput); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --console-output: %w", err))
		}
		defer f.Close()
		scriptLogger.console = logfmt.New(f)
		scriptLogger.console.Debug = true
		if secretSources != nil {
			scriptLogger.console.Redact = secretSources.Redact
		}
	}
	scriptEnv := map[string]string{}
	if pre.IncludeSystemEnv == nil || *pre.IncludeSystemEnv {
		for k, v := range procEnv {
			scriptEnv[k] = v
		}
	}
	if arc != nil { // the archive's -e variables, under this command line's
		for k, v := range arc.meta.Env {
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
	lo := js.LoadOptions{Env: scriptEnv, Logger: scriptLogger, Registry: reg}
	if secretSources != nil {
		lo.Secrets = secretSources
	}
	switch {
	case arc != nil:
		scriptPath, lo.ReadFile, lo.Remote = arc.main, arc.ReadFile, arc.Remote
	case scriptPath == "-":
		if scriptPath, lo, err = stdinScript(d.stdin, lo); err != nil {
			return fail(engine.ExitScriptError, err)
		}
	}
	ld, err := d.load(ctx, scriptPath, lo)
	if err != nil {
		if ctx.Err() != nil { // a signal interrupted the init context: not a script error
			return fail(engine.ExitExternalAbort, fmt.Errorf("test run was aborted while loading the script: %w", ctx.Err()))
		}
		return fail(engine.ExitScriptError, err)
	}
	if c, ok := ld.(io.Closer); ok { // ends the run's module resources (modules.Run) after the summary
		defer func() {
			if err := c.Close(); err != nil {
				fmt.Fprintf(stderr, "closing the test run: %v\n", err)
			}
		}()
	}
	// An archive's options (consolidated when it was made) stand for the script's, as in k6.
	rawOpts, from := ld.Options(), fromScript
	if arc != nil {
		rawOpts, from = arc.meta.Options, fromArchive
	}
	scriptOpts, unknown, err := decodeOptions(rawOpts, from)
	warnUnknown(logger, unknown)
	if err != nil && !refused.add(err) {
		return fail(engine.ExitInvalidConfig, err)
	}
	if err := refused.Err(); err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), file: fileOpts, script: scriptOpts, env: envOpts, flags: flagOpts}))
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	if names := refusedCollectors(rc.Options); len(names) > 0 {
		return fail(engine.ExitInvalidConfig, fmt.Errorf("pixelk6 does not read %s of the config file: configure these outputs with their K6_* environment variables (and the --out argument)", strings.Join(names, ", ")))
	}
	for _, w := range noEffectWarnings(rc.Options, procEnv) {
		logger.Log("warning", w)
	}
	runner := ld.Runner(rc.Module)

	// k6's REST API and --paused: the run's control surface, served on --address.
	var ctl *engine.Control
	if rc.Paused || rc.Address != "" {
		ctl = engine.NewControl(rc.Test, rc.Paused)
	}
	if rc.Address != "" {
		srv, err := restapi.Listen(rc.Address, ctl, rc.Profiling)
		if err != nil {
			return fail(engine.ExitCannotStartAPI, err)
		}
		defer func() {
			if err := srv.Close(); err != nil {
				logger.Log("warning", "stopping the REST API server: "+err.Error())
			}
		}()
		logger.Log("debug", "REST API server listening on "+srv.Addr())
		if rc.Profiling {
			logger.Log("debug", "profiling served on http://"+srv.Addr()+"/debug/pprof/")
		}
	} else if rc.Paused {
		logger.Log("warning", "the test starts paused and the REST API is off (no --address): nothing can resume it; Ctrl+C stops it")
	}
	if rc.Profiling && rc.Address == "" {
		logger.Log("warning", "profiling is enabled but the REST API is off: its /debug/pprof/ endpoints are served only with --address (or K6_ADDRESS)")
	}

	params := output.Params{Metrics: k6file.MetricInfos(rc.Test.Thresholds, scriptOrder(rc.Options)), Env: procEnv, Stdout: stdout,
		Warn: func(msg string) { logger.Log("warning", msg) }, Version: Version}
	var outs []engine.Output
	var names []string
	var observers engine.Observers
	specs, err := webDashboardOuts(rc.Out, procEnv, rc.Options)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	for _, spec := range specs {
		var o engine.Output
		var err error
		if typ, arg, _ := strings.Cut(spec, "="); typ == "web-dashboard" {
			// The web dashboard is an output (the samples) and an observer (phases,
			// progress, thresholds, the abort).
			var dash *webdashboard.Dashboard
			if dash, err = newWebDashboard(arg, procEnv, scriptPath, logger); err == nil {
				o = dash
				observers = append(observers, dash)
				spec = "web-dashboard=" + dash.URL()
				defer func() { // after the summary and --linger: the page stays up till then
					if err := dash.Close(); err != nil {
						logger.Log("warning", err.Error())
					}
				}()
			}
		} else {
			o, err = d.newOutput(spec, params)
		}
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
		Control:    ctl,
		TraceStart: d.traceStart,
	}
	if err := engine.Validate(cfg); err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	// The run's observers: the web dashboard (above), the progress display.
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
	unwritable := false
	if res.Code != engine.ExitScriptError {
		end := &endOfTest{rc: rc, script: runner, stdout: stdout, stderr: stderr, stdoutTTY: stdoutTTY, stderrTTY: stderrTTY}
		if err := end.summary(ctx, res); err != nil {
			logger.Log("error", err.Error())
			unwritable = isWriteError(err)
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
	if res.MarkedFailed {
		msg := "the test run was marked as failed by the script (test.fail())"
		if len(res.FailReasons) > 0 {
			msg += ": " + strings.Join(res.FailReasons, "; ")
		}
		logger.Log("error", msg)
	}
	code := res.ExitCode()
	if code == engine.ExitOK && unwritable {
		code = engine.ExitGeneric // a report the user asked for is missing: never green
	}
	if rc.Linger && ctx.Err() == nil {
		// As k6's --linger: stay up after the test until interrupted; the exit code is the
		// test's.
		logger.Log("info", "Linger set; waiting for Ctrl+C to exit...")
		<-ctx.Done()
	}
	return code
}

// outputName is the banner's description of an --out value: "json (out.json)".
func outputName(spec string) string {
	typ, arg, ok := strings.Cut(spec, "=")
	if !ok || arg == "" {
		return typ
	}
	if u, err := url.Parse(arg); err == nil && u.User != nil { // never print a password
		u.User = nil
		arg = u.String()
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
// file=PATH[,level=LEVEL].
func newLogger(spec string, stdout, stderr io.Writer) (*logfmt.Logger, func(), error) {
	switch {
	case spec == "" || spec == "stderr":
		return logfmt.New(stderr), func() {}, nil
	case spec == "stdout":
		return logfmt.New(stdout), func() {}, nil
	case spec == "none":
		return logfmt.New(io.Discard), func() {}, nil
	case strings.HasPrefix(spec, "file="):
		path, level := "", ""
		for _, p := range strings.Split(strings.TrimPrefix(spec, "file="), ",") {
			switch k, v, _ := strings.Cut(p, "="); {
			case path == "":
				path = p
			case k == "level" && logfmt.ValidLevel(v):
				level = v
			default:
				return nil, nil, fmt.Errorf("invalid --log-output %q: unknown parameter %q (want file=PATH[,level=LEVEL])", spec, p)
			}
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid --log-output %q: %w", spec, err)
		}
		l := logfmt.New(f)
		l.Level = level
		return l, func() { f.Close() }, nil
	case strings.HasPrefix(spec, "loki"):
		return nil, nil, fmt.Errorf("invalid --log-output %q: pixelk6 cannot send logs to Loki yet", spec)
	}
	return nil, nil, fmt.Errorf("invalid --log-output %q (want stderr, stdout, none or file=PATH[,level=LEVEL])", spec)
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
