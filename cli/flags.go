package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/executor"
)

// runFlags are `pixelk6 run`'s flags.
type runFlags struct {
	vus              int64
	duration         string
	iterations       int64
	stages           []string
	env              []string
	tags             []string
	noThresholds     bool
	out              []string
	summaryExport    string
	summaryMode      string
	noSummary        bool
	trendStats       string
	timeUnit         string
	quiet            bool
	noColor          bool
	httpDebug        string
	insecure         bool
	throw            bool
	includeSystemEnv bool
	userAgent        string
	logOutput        string
	verbose          bool
}

func (f *runFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.Int64VarP(&f.vus, "vus", "u", 1, "number of virtual users")
	fs.StringVarP(&f.duration, "duration", "d", "", "test duration, e.g. 30s, 1m30s")
	fs.Int64VarP(&f.iterations, "iterations", "i", 0, "number of iterations, shared among the VUs")
	fs.StringArrayVarP(&f.stages, "stage", "s", nil, "add a stage DURATION:TARGET, e.g. 30s:10 (repeatable, or comma-separated)")
	fs.StringArrayVarP(&f.env, "env", "e", nil, "add an environment variable KEY=VALUE for the script's __ENV (repeatable)")
	fs.StringArrayVar(&f.tags, "tag", nil, "add a tag KEY=VALUE to every sample (repeatable)")
	fs.BoolVar(&f.noThresholds, "no-thresholds", false, "do not evaluate thresholds")
	fs.StringArrayVarP(&f.out, "out", "o", nil, "write samples to an output: json=FILE, csv=FILE (repeatable)")
	fs.StringVar(&f.summaryExport, "summary-export", "", "write the end-of-test summary as JSON to FILE")
	fs.StringVar(&f.summaryMode, "summary-mode", "compact", "end-of-test summary: compact, full or disabled")
	fs.BoolVar(&f.noSummary, "no-summary", false, "do not print the end-of-test summary")
	fs.StringVar(&f.trendStats, "summary-trend-stats", "", "trend statistics in the summary, e.g. avg,min,med,max,p(90),p(95)")
	fs.StringVar(&f.timeUnit, "summary-time-unit", "", "time unit of the summary's trend values: s, ms or us")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no banner and no progress")
	fs.BoolVar(&f.noColor, "no-color", false, "no colours in the output")
	fs.StringVar(&f.httpDebug, "http-debug", "", "log HTTP requests and responses; =full adds the bodies")
	fs.Lookup("http-debug").NoOptDefVal = "headers"
	fs.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify TLS certificates")
	fs.BoolVarP(&f.throw, "throw", "w", false, "throw an error on failed HTTP requests")
	fs.BoolVar(&f.includeSystemEnv, "include-system-env-vars", true, "pass the process environment to the script's __ENV")
	fs.StringVar(&f.userAgent, "user-agent", "", "the HTTP User-Agent header")
	fs.StringVar(&f.logOutput, "log-output", "", "where logs go: stderr, stdout, none or file=PATH")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages")
}

// options returns the command line's tier of options: only the flags that were given.
// On an error, the tier returned still holds LogOutput, so that the error can be logged.
func (f *runFlags) options(cmd *cobra.Command) (options, error) {
	var o options
	ch := cmd.Flags().Changed
	if f.logOutput != "" {
		v := f.logOutput
		o.LogOutput = &v
	}
	if ch("vus") {
		if f.vus < 0 {
			return o, fmt.Errorf("invalid --vus %d: must not be negative", f.vus)
		}
		v := f.vus
		o.VUs = &v
	}
	if ch("duration") {
		d, err := executor.ParseDuration(f.duration)
		if err != nil {
			return o, fmt.Errorf("invalid --duration: %w", err)
		}
		x := executor.Duration(d)
		o.Duration = &x
	}
	if ch("iterations") {
		if f.iterations < 0 {
			return o, fmt.Errorf("invalid --iterations %d: must not be negative", f.iterations)
		}
		v := f.iterations
		o.Iterations = &v
	}
	if ch("stage") {
		o.Stages = []executor.Stage{}
		for _, s := range f.stages {
			st, err := executor.ParseStages(s)
			if err != nil {
				return o, fmt.Errorf("invalid --stage: %w", err)
			}
			o.Stages = append(o.Stages, st...)
		}
	}
	if ch("tag") {
		o.Tags = map[string]string{}
		for _, kv := range f.tags {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return o, fmt.Errorf("invalid --tag %q: want KEY=VALUE", kv)
			}
			o.Tags[k] = v
		}
	}
	if ch("no-thresholds") {
		b := f.noThresholds
		o.NoThresholds = &b
	}
	if ch("summary-trend-stats") {
		o.SummaryTrendStats = []string{}
		for _, s := range strings.Split(f.trendStats, ",") {
			if s = strings.TrimSpace(s); s != "" {
				o.SummaryTrendStats = append(o.SummaryTrendStats, s)
			}
		}
	}
	if ch("summary-time-unit") {
		u := f.timeUnit
		o.SummaryTimeUnit = &u
	}
	if ch("http-debug") {
		h := f.httpDebug
		o.HTTPDebug = &h
	}
	if ch("insecure-skip-tls-verify") {
		b := f.insecure
		o.InsecureSkipTLSVerify = &b
	}
	if ch("throw") {
		b := f.throw
		o.Throw = &b
	}
	if ch("user-agent") {
		u := f.userAgent
		o.UserAgent = &u
	}
	if ch("summary-mode") {
		m := f.summaryMode
		o.SummaryMode = &m
	}
	// --no-summary and --no-color only switch on; --summary-export and --out only count
	// when given a value (an empty one leaves the environment's).
	yes := true
	if f.noSummary {
		o.NoSummary = &yes
	}
	if f.noColor {
		o.NoColor = &yes
	}
	if f.summaryExport != "" {
		e := f.summaryExport
		o.SummaryExport = &e
	}
	if len(f.out) > 0 {
		o.Out = f.out
	}
	return o, nil
}
