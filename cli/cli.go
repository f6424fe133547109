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
// --http-debug[=full], --insecure-skip-tls-verify, --include-system-env-vars (default
// true), --user-agent, --log-output stderr|stdout|none|file=PATH and --verbose/-v.
//
// Options come from the script's `options`, then K6_* environment variables (K6_VUS,
// K6_DURATION, K6_ITERATIONS, K6_STAGES, K6_NO_THRESHOLDS, ...), then the command line;
// a later tier wins, and a tier that sets duration, iterations, stages or scenarios
// replaces all four of the tiers below it, as in k6.
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
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
)

// Version is pixelk6's version.
const Version = "0.1.0"

// deps are what the run command builds on, replaceable in tests.
type deps struct {
	// load loads the script.
	load func(ctx context.Context, path string, opts js.LoadOptions) (js.Runner, error)
	// newOutput builds an --out output.
	newOutput func(spec string, p output.Params) (engine.Output, error)
	// environ is the process environment.
	environ func() []string
	// isTTY reports whether w is a terminal.
	isTTY func(w io.Writer) bool
}

func defaultDeps() deps {
	return deps{
		load: func(ctx context.Context, path string, opts js.LoadOptions) (js.Runner, error) {
			return js.Load(ctx, path, opts)
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

// runTest is `pixelk6 run`: it loads the script, consolidates the options, opens the
// outputs and runs the test.
func runTest(ctx context.Context, cmd *cobra.Command, rf *runFlags, script string, stdout, stderr io.Writer, d deps) int {
	procEnv := envMap(d.environ())
	logger, closeLog, err := newLogger(rf.logOutput, procEnv, stdout, stderr)
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

	cliOpts, err := rf.options(cmd)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	envOpts, err := engine.OptionsFromEnv(procEnv)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
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
	runner, err := d.load(ctx, script, js.LoadOptions{Env: scriptEnv, Logger: logger, Registry: reg})
	if err != nil {
		return fail(engine.ExitScriptError, err)
	}
	scriptOpts, err := engine.ParseScriptOptions(runner.Options())
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	test, err := engine.NewTest(engine.Consolidate(scriptOpts, envOpts, cliOpts))
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}

	mode := rf.summaryMode
	if !cmd.Flags().Changed("summary-mode") {
		if v := procEnv["K6_SUMMARY_MODE"]; v != "" {
			mode = v
		}
	}
	if rf.noSummary || envBool(procEnv, "K6_NO_SUMMARY") {
		mode = "disabled"
	}
	switch mode {
	case "compact", "full", "disabled":
	default:
		return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --summary-mode %q (want compact, full or disabled)", mode))
	}
	export := rf.summaryExport
	if export == "" {
		export = procEnv["K6_SUMMARY_EXPORT"]
	}
	outSpecs := rf.out
	if len(outSpecs) == 0 && procEnv["K6_OUT"] != "" {
		outSpecs = splitOutEnv(procEnv["K6_OUT"])
	}

	params := output.Params{Metrics: k6file.MetricInfos(test.Thresholds, scriptOrder(test)), Env: procEnv, Stdout: stdout}
	var outs []engine.Output
	var names []string
	for _, spec := range outSpecs {
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

	noColor := rf.noColor || envBool(procEnv, "K6_NO_COLOR") || procEnv["NO_COLOR"] != ""
	err = engine.Run(ctx, engine.Config{
		Runner:        runner,
		Registry:      reg,
		Test:          test,
		Outputs:       outs,
		OutputNames:   names,
		ScriptPath:    script,
		Stdout:        stdout,
		Stderr:        stderr,
		Logger:        logger,
		Quiet:         rf.quiet,
		NoColor:       noColor,
		StdoutTTY:     d.isTTY(stdout),
		StderrTTY:     d.isTTY(stderr),
		SummaryMode:   mode,
		SummaryExport: export,
	})
	var ee *engine.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Logged) {
		logger.Log("error", err.Error())
	}
	return engine.ExitCode(err)
}

// outputName is the banner's description of an --out value: "json (out.json)".
func outputName(spec string) string {
	typ, arg, ok := strings.Cut(spec, "=")
	if !ok || arg == "" {
		return typ
	}
	return typ + " (" + arg + ")"
}

// splitOutEnv splits K6_OUT: several outputs are comma-separated ("json=a.json,csv=b.csv").
func splitOutEnv(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// scriptOrder returns the thresholds' keys in the order the options wrote them.
func scriptOrder(t *engine.Test) []string {
	dec := json.NewDecoder(strings.NewReader(string(t.Options.Thresholds)))
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

func envBool(env map[string]string, k string) bool {
	switch strings.ToLower(env[k]) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// newLogger builds the logger of --log-output: stderr (default), stdout, none or
// file=PATH.
func newLogger(spec string, env map[string]string, stdout, stderr io.Writer) (*engine.Logger, func(), error) {
	if spec == "" {
		spec = env["K6_LOG_OUTPUT"]
	}
	switch {
	case spec == "" || spec == "stderr":
		return engine.NewLogger(stderr), func() {}, nil
	case spec == "stdout":
		return engine.NewLogger(stdout), func() {}, nil
	case spec == "none":
		return engine.NewLogger(io.Discard), func() {}, nil
	case strings.HasPrefix(spec, "file="):
		f, err := os.OpenFile(strings.TrimPrefix(spec, "file="), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid --log-output %q: %w", spec, err)
		}
		return engine.NewLogger(f), func() { f.Close() }, nil
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
