package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pixelk6/pixelk6/metrics"
)

// Exit codes of k6verdict (a documented contract). Only 0 and 99 are verdicts.
const (
	ExitOK          = 0   // every threshold passed / no regression
	ExitUsage       = 2   // usage error, unreadable or duplicate input, too many bad lines, no samples, --strict warnings
	ExitInternal    = 3   // an internal failure (a bug): never a verdict
	ExitThresholds  = 99  // a threshold failed (as k6) / compare found a regression
	ExitInterrupted = 130 // interrupted (Ctrl-C, SIGINT): never a verdict
)

// errInternal marks a recovered panic.
var errInternal = errors.New("internal error")

// recoverInternal turns a panic of the calling goroutine into an error wrapping errInternal.
// It must be deferred directly.
func recoverInternal(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: %v\n%s", errInternal, p, debug.Stack())
	}
}

// failCode is the exit code of a failed analysis: interrupted, internal error or usage.
func failCode(ctx context.Context, err error) int {
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, errInternal):
		return ExitInternal
	}
	return ExitUsage
}

const usageText = `k6verdict — threshold verdicts from k6 output (NDJSON, NDJSON.gz, CSV)

Usage:
  k6verdict [flags] FILE...              ("-" reads standard input)
  k6verdict compare [flags] BASELINE NEW

Flags:
`

// interruptGrace is how long Run waits, once ctx is done, for the analysis to stop before it
// returns ExitInterrupted anyway (a read blocked on a pipe or a terminal cannot be cancelled).
const interruptGrace = time.Second

// Run is the k6verdict command line. It returns the process exit code. A panic is reported
// on stderr and exits ExitInternal; a cancelled ctx (Ctrl-C) exits ExitInterrupted within
// interruptGrace, even when a read is blocked (the analysis goroutine is then left to the
// end of the process).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	done := make(chan int, 1)
	go func() {
		var err error
		code := ExitInternal
		func() {
			defer recoverInternal(&err)
			switch {
			case len(args) > 0 && args[0] == "compare":
				code = runCompare(ctx, args[1:], stdin, stdout, stderr)
			case len(args) > 0 && args[0] == "report":
				code = runReport(ctx, args[1:], stdin, stdout, stderr)
			default:
				code = runAnalyze(ctx, args, stdin, stdout, stderr)
			}
		}()
		if err != nil {
			fmt.Fprintf(stderr, "k6verdict: %v\n", err)
			code = ExitInternal
		} else if ctx.Err() != nil && code != ExitInterrupted {
			fmt.Fprintln(stderr, "k6verdict: interrupted")
			code = ExitInterrupted
		}
		done <- code
	}()
	select {
	case code := <-done:
		return code
	case <-ctx.Done():
	}
	select {
	case code := <-done:
		return code
	case <-time.After(interruptGrace):
		fmt.Fprintln(stderr, "k6verdict: interrupted")
		return ExitInterrupted
	}
}

func runAnalyze(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("k6verdict", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		criteria   []string
		profiles   []string
		format     string
		junit      string
		markdown   string
		maxBad     int
		noScript   bool
		instances  bool
		duration   time.Duration
		windows    bool
		window     time.Duration
		colourFlag string
		trendStats string
		workers    int
		strict     bool
		allowDup   bool
	)
	fs.StringArrayVar(&criteria, "criteria", nil, "criteria `FILE` (k6 thresholds in YAML/JSON); repeatable")
	fs.StringArrayVar(&profiles, "profile", nil, "built-in success criteria: rest or websocket; repeatable")
	fs.StringVar(&format, "format", "text", "output format on stdout: text or json")
	fs.StringVar(&junit, "junit", "", "also write a JUnit XML report to `FILE`")
	fs.StringVar(&markdown, "markdown", "", "also write a Markdown report to `FILE`")
	fs.IntVar(&maxBad, "max-bad-lines", 10, "stop with exit 2 when more lines than this are bad")
	fs.BoolVar(&noScript, "no-script-thresholds", false, "ignore the thresholds recorded in the files")
	fs.BoolVar(&instances, "instances", false, "the files are instances of one test (execution segments): sum their vus and vus_max gauges")
	fs.DurationVar(&duration, "duration", 0, "test duration for counter rates (default: span of the samples)")
	fs.BoolVar(&windows, "windows", false, "statistics per load level (plateaus of the vus gauge)")
	fs.DurationVar(&window, "window", 0, "statistics per fixed time window, e.g. 30s")
	fs.StringVar(&colourFlag, "color", "auto", "colour: auto (only on a terminal), always, never")
	fs.StringVar(&trendStats, "summary-trend-stats", "", "trend statistics to show, e.g. avg,p(99) (default k6's)")
	fs.IntVar(&workers, "workers", 0, "parsing goroutines (default: number of CPUs)")
	fs.BoolVar(&strict, "strict", false, "any data warning (bad lines, truncated input, skipped windows, samples outside the run) exits 2: for CI")
	fs.BoolVar(&allowDup, "allow-duplicate-inputs", false, "accept inputs with the same content or the same samples (they are different parts)")
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintf(stderr, "k6verdict: %v\n", err)
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "k6verdict: no input files (use - for standard input)")
		fs.Usage()
		return ExitUsage
	}
	if format != "text" && format != "json" {
		fmt.Fprintf(stderr, "k6verdict: --format %q: want text or json\n", format)
		return ExitUsage
	}
	if windows && window > 0 {
		fmt.Fprintln(stderr, "k6verdict: use either --windows or --window, not both")
		return ExitUsage
	}
	if window < 0 || (window > 0 && window%time.Second != 0) {
		fmt.Fprintf(stderr, "k6verdict: --window %s: want a positive whole number of seconds\n", window)
		return ExitUsage
	}
	colour, ok := wantColour(colourFlag, stdout)
	if !ok {
		fmt.Fprintf(stderr, "k6verdict: --color %q: want auto, always or never\n", colourFlag)
		return ExitUsage
	}
	o := Options{Files: fs.Args(), Criteria: criteria, Profiles: profiles, NoScript: noScript, Instances: instances,
		MaxBadLines: maxBad, Duration: duration, Workers: workers, Strict: strict, AllowDuplicates: allowDup, stdin: stdin}
	if trendStats != "" {
		o.TrendStats = strings.Split(trendStats, ",")
		for _, st := range o.TrendStats {
			if _, err := metrics.ParseAggregation(st); err != nil {
				fmt.Fprintf(stderr, "k6verdict: --summary-trend-stats: %v\n", err)
				return ExitUsage
			}
		}
	}
	if windows || window > 0 {
		o.Bucket = windowBucket
	}
	res, err := Analyze(ctx, o)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "k6verdict: interrupted")
			return ExitInterrupted
		}
		fmt.Fprintf(stderr, "k6verdict: %v\n", err)
		if res != nil {
			for _, bl := range res.BadLines {
				fmt.Fprintf(stderr, "  %s:%d: %s\n", bl.File, bl.Line, bl.Err)
			}
		}
		return failCode(ctx, err)
	}
	var ws []Window
	if windows || window > 0 {
		if ws, err = res.Windows(ctx, window); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "k6verdict: interrupted")
				return ExitInterrupted
			}
			fmt.Fprintf(stderr, "k6verdict: %v\n", err)
			return failCode(ctx, err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "k6verdict: interrupted")
		return ExitInterrupted
	}
	if format == "json" {
		err = res.WriteJSON(stdout, ws)
	} else {
		err = res.WriteText(stdout, colour)
		if err == nil && ws != nil {
			err = WriteWindowsText(stdout, ws)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict: write: %v\n", err)
		return ExitUsage
	}
	for _, side := range []struct {
		path  string
		write func(io.Writer) error
	}{{junit, res.WriteJUnit}, {markdown, res.WriteMarkdown}} {
		if side.path == "" {
			continue
		}
		if err := writeFile(side.path, side.write); err != nil {
			fmt.Fprintf(stderr, "k6verdict: %v\n", err)
			return ExitUsage
		}
	}
	if res.BadLineCount > 0 {
		fmt.Fprintf(stderr, "k6verdict: warning: %d bad line(s), the first at %s:%d: %s\n", res.BadLineCount, res.BadLines[0].File, res.BadLines[0].Line, res.BadLines[0].Err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "k6verdict: warning: %s\n", w)
	}
	if why := res.Refusal(); why != "" {
		fmt.Fprintf(stderr, "k6verdict: %s\n", why)
		return ExitUsage
	}
	if !res.Pass() {
		fmt.Fprintf(stderr, "k6verdict: thresholds on metrics '%s' have been crossed\n", strings.Join(res.crossed(), ", "))
		return ExitThresholds
	}
	return ExitOK
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %q: %w", path, cerr)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

// wantColour decides on colour: "always", "never", or "auto" (stdout is a terminal and
// NO_COLOR is unset).
func wantColour(flag string, stdout io.Writer) (bool, bool) {
	switch flag {
	case "always":
		return true, true
	case "never":
		return false, true
	case "auto":
		if os.Getenv("NO_COLOR") != "" {
			return false, true
		}
		f, ok := stdout.(*os.File)
		if !ok {
			return false, true
		}
		st, err := f.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0, true
	}
	return false, false
}

func runCompare(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("k6verdict compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tolerance  []string
		alpha      float64
		format     string
		colourFlag string
		maxBad     int
		minDelta   float64
	)
	fs.Float64Var(&minDelta, "min-delta", DefaultMinDeltaMs, "smallest worsening of a time statistic, in ms, that can be a regression")
	fs.StringArrayVar(&tolerance, "tolerance", nil, "allowed worsening per statistic, e.g. p(95)=5%,avg=10%,rate=0.5% (defaults: 10% for trends, 1 point for rates)")
	fs.Float64Var(&alpha, "alpha", DefaultAlpha, "significance level of the statistical tests")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	fs.StringVar(&colourFlag, "color", "auto", "colour: auto, always, never")
	fs.IntVar(&maxBad, "max-bad-lines", 10, "stop with exit 2 when more lines than this are bad")
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintf(stderr, "k6verdict: %v\n", err)
		return ExitUsage
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "k6verdict compare: want exactly two inputs, BASELINE and NEW")
		return ExitUsage
	}
	tol, err := ParseTolerances(tolerance)
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict compare: %v\n", err)
		return ExitUsage
	}
	if alpha <= 0 || alpha >= 1 {
		fmt.Fprintf(stderr, "k6verdict compare: --alpha %g: want a number in (0,1)\n", alpha)
		return ExitUsage
	}
	colour, ok := wantColour(colourFlag, stdout)
	if !ok || (format != "text" && format != "json") {
		fmt.Fprintln(stderr, "k6verdict compare: bad --color or --format")
		return ExitUsage
	}
	mk := func(f string) Options {
		return Options{Files: []string{f}, NoScript: true, MaxBadLines: maxBad, stdin: stdin}
	}
	c, err := Compare(ctx, mk(fs.Arg(0)), mk(fs.Arg(1)), CompareOptions{Tolerances: tol, Alpha: alpha, MinDeltaMs: minDelta})
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict compare: %v\n", err)
		return failCode(ctx, err)
	}
	if format == "json" {
		err = c.WriteJSON(stdout)
	} else {
		err = c.WriteText(stdout, colour)
	}
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict compare: write: %v\n", err)
		return ExitUsage
	}
	if c.Regression {
		return ExitThresholds
	}
	return ExitOK
}

func runReport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("k6verdict report", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out       string
		baseline  []string
		title     string
		criteria  []string
		profiles  []string
		noScript  bool
		instances bool
		duration  time.Duration
		window    time.Duration
		maxBad    int
		strict    bool
		allowDup  bool
	)
	fs.StringVarP(&out, "output", "o", "", "write the HTML report to `FILE` (required)")
	fs.StringArrayVar(&baseline, "baseline", nil, "a previous run's result `FILE` to draw under this one; repeatable (its parts)")
	fs.StringVar(&title, "title", "", "the report's title (default: the input files' names)")
	fs.StringArrayVar(&criteria, "criteria", nil, "criteria `FILE` (k6 thresholds in YAML/JSON); repeatable")
	fs.StringArrayVar(&profiles, "profile", nil, "built-in success criteria: rest or websocket; repeatable")
	fs.BoolVar(&noScript, "no-script-thresholds", false, "ignore the thresholds recorded in the files")
	fs.BoolVar(&instances, "instances", false, "the files are instances of one test (execution segments): sum their vus and vus_max gauges")
	fs.DurationVar(&duration, "duration", 0, "test duration for counter rates (default: span of the samples)")
	fs.DurationVar(&window, "window", 0, "fixed windows of this width, e.g. 30s (default: the load levels of the vus gauge)")
	fs.IntVar(&maxBad, "max-bad-lines", 10, "stop with exit 2 when more lines than this are bad")
	fs.BoolVar(&strict, "strict", false, "any data warning exits 2 (the report is still written)")
	fs.BoolVar(&allowDup, "allow-duplicate-inputs", false, "accept inputs with the same content or the same samples")
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintf(stderr, "k6verdict report: %v\n", err)
		return ExitUsage
	}
	if fs.NArg() == 0 || out == "" {
		fmt.Fprintln(stderr, "k6verdict report: want input files and -o FILE for the HTML report")
		return ExitUsage
	}
	if window < 0 || window%time.Second != 0 {
		fmt.Fprintf(stderr, "k6verdict report: --window %s: want a positive whole number of seconds\n", window)
		return ExitUsage
	}
	o := Options{Files: fs.Args(), Criteria: criteria, Profiles: profiles, NoScript: noScript, Instances: instances,
		MaxBadLines: maxBad, Duration: duration, Strict: strict, AllowDuplicates: allowDup, Bucket: windowBucket, stdin: stdin}
	res, err := Analyze(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict report: %v\n", err)
		return failCode(ctx, err)
	}
	ro := ReportOptions{Title: title, Window: window}
	if len(baseline) > 0 {
		bo := Options{Files: baseline, NoScript: true, Instances: instances, MaxBadLines: maxBad, AllowDuplicates: allowDup, Bucket: windowBucket, stdin: stdin}
		if ro.Baseline, err = Analyze(ctx, bo); err != nil {
			fmt.Fprintf(stderr, "k6verdict report: baseline: %v\n", err)
			return failCode(ctx, err)
		}
	}
	rep, err := res.Report(ctx, ro)
	if err != nil {
		fmt.Fprintf(stderr, "k6verdict report: %v\n", err)
		return failCode(ctx, err)
	}
	if err := writeFile(out, func(w io.Writer) error { return WriteHTML(w, rep) }); err != nil {
		fmt.Fprintf(stderr, "k6verdict report: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stdout, "k6verdict report: %s: %s, %d threshold(s), %d point(s) of %gs\n", out, res.Verdict(), len(rep.Thresholds), len(rep.Points), rep.Period)
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "k6verdict: warning: %s\n", w)
	}
	if why := res.Refusal(); why != "" {
		fmt.Fprintf(stderr, "k6verdict: %s\n", why)
		return ExitUsage
	}
	if !res.Pass() {
		fmt.Fprintf(stderr, "k6verdict: thresholds on metrics '%s' have been crossed\n", strings.Join(res.crossed(), ", "))
		return ExitThresholds
	}
	return ExitOK
}
