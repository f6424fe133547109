package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/summary"
)

// options is one tier of k6 options (defaults, config file, script, environment or
// command line), or their consolidation. A nil field is unset in that tier. The fields
// tagged json:"-" are not script options: the environment and the command line set them.
type options struct {
	VUs        *int64             `json:"vus"`
	Duration   *executor.Duration `json:"duration"`
	Iterations *int64             `json:"iterations"`
	Stages     []executor.Stage   `json:"stages"`
	Scenarios  json.RawMessage    `json:"scenarios"`
	Thresholds json.RawMessage    `json:"thresholds"`
	// Tags are added to every sample of the run (k6's options.tags; --tag adds to them).
	Tags                  map[string]string  `json:"tags"`
	SummaryTrendStats     []string           `json:"summaryTrendStats"`
	SummaryTimeUnit       *string            `json:"summaryTimeUnit"`
	NoThresholds          *bool              `json:"noThresholds"`
	SetupTimeout          *executor.Duration `json:"setupTimeout"`
	TeardownTimeout       *executor.Duration `json:"teardownTimeout"`
	HTTPDebug             *string            `json:"httpDebug"`
	InsecureSkipTLSVerify *bool              `json:"insecureSkipTLSVerify"`
	UserAgent             *string            `json:"userAgent"`
	NoCookiesReset        *bool              `json:"noCookiesReset"`
	Throw                 *bool              `json:"throw"`
	SystemTags            []string           `json:"systemTags"`

	// SummaryMode is --summary-mode / K6_SUMMARY_MODE: compact, full or disabled.
	SummaryMode *string `json:"-"`
	// NoSummary (--no-summary, K6_NO_SUMMARY) disables the summary whatever the mode.
	NoSummary *bool `json:"-"`
	// SummaryExport is the --summary-export / K6_SUMMARY_EXPORT file.
	SummaryExport *string `json:"-"`
	// Out are the --out / K6_OUT outputs ("json=FILE", ...).
	Out []string `json:"-"`
	// NoColor is --no-color / K6_NO_COLOR / NO_COLOR.
	NoColor *bool `json:"-"`
	// LogOutput is --log-output / K6_LOG_OUTPUT.
	LogOutput *string `json:"-"`
}

// defaultOptions is the lowest tier: what k6 uses when nothing is set. (The executors'
// defaults live in package executor.)
func defaultOptions() options {
	compact := "compact"
	return options{SummaryMode: &compact}
}

// tiers are k6's option tiers, lowest first.
type tiers struct {
	defaults options
	// file is the config file's tier (pixelk6 reads no config file yet: always empty).
	file   options
	script options
	env    options
	flags  options
}

// consolidate is the one place that owns k6's precedence: defaults < config file <
// script options < environment (K6_*) < command-line flags. A tier that sets duration,
// iterations, stages or scenarios replaces all four of the tiers below it, as in k6.
func consolidate(t tiers) options {
	return t.defaults.apply(t.file).apply(t.script).apply(t.env).apply(t.flags)
}

// parseScriptOptions decodes the script's exported options (nil or "null" is no options).
// Fields pixelk6 does not know are ignored, as k6 ignores options of other tools.
func parseScriptOptions(raw json.RawMessage) (options, error) {
	var o options
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return o, nil
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, fmt.Errorf("invalid script options: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(o.Scenarios), []byte("null")) {
		o.Scenarios = nil
	}
	if bytes.Equal(bytes.TrimSpace(o.Thresholds), []byte("null")) {
		o.Thresholds = nil
	}
	return o, nil
}

// optionsFromEnv reads k6's K6_* option variables from env: K6_VUS, K6_DURATION,
// K6_ITERATIONS, K6_STAGES, K6_NO_THRESHOLDS, K6_SUMMARY_TREND_STATS, K6_SUMMARY_TIME_UNIT,
// K6_SETUP_TIMEOUT, K6_TEARDOWN_TIMEOUT, K6_HTTP_DEBUG, K6_INSECURE_SKIP_TLS_VERIFY,
// K6_USER_AGENT, K6_NO_COOKIES_RESET, K6_SYSTEM_TAGS, K6_SUMMARY_MODE, K6_NO_SUMMARY,
// K6_SUMMARY_EXPORT, K6_OUT, K6_NO_COLOR (and NO_COLOR), K6_LOG_OUTPUT. Errors name the
// variable and value.
func optionsFromEnv(env map[string]string) (options, error) {
	var o options
	var err error
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }
	bad := func(k, v string, e error) error {
		return fmt.Errorf("invalid environment variable %s=%q: %w", k, v, e)
	}
	// First, so that the logger can be built even when another variable is invalid.
	if v, ok := get("K6_LOG_OUTPUT"); ok {
		o.LogOutput = &v
	}
	if v, ok := get("K6_VUS"); ok {
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil {
			return o, bad("K6_VUS", v, e)
		}
		o.VUs = &n
	}
	if v, ok := get("K6_ITERATIONS"); ok {
		n, e := strconv.ParseInt(v, 10, 64)
		if e != nil {
			return o, bad("K6_ITERATIONS", v, e)
		}
		o.Iterations = &n
	}
	for _, d := range []struct {
		key string
		dst **executor.Duration
	}{{"K6_DURATION", &o.Duration}, {"K6_SETUP_TIMEOUT", &o.SetupTimeout}, {"K6_TEARDOWN_TIMEOUT", &o.TeardownTimeout}} {
		if v, ok := get(d.key); ok {
			x, e := executor.ParseDuration(v)
			if e != nil {
				return o, bad(d.key, v, e)
			}
			xd := executor.Duration(x)
			*d.dst = &xd
		}
	}
	if v, ok := get("K6_STAGES"); ok {
		if o.Stages, err = executor.ParseStages(v); err != nil {
			return o, bad("K6_STAGES", v, err)
		}
	}
	for _, b := range []struct {
		key string
		dst **bool
	}{{"K6_NO_THRESHOLDS", &o.NoThresholds}, {"K6_INSECURE_SKIP_TLS_VERIFY", &o.InsecureSkipTLSVerify}, {"K6_NO_COOKIES_RESET", &o.NoCookiesReset}, {"K6_THROW", &o.Throw}} {
		if v, ok := get(b.key); ok {
			x, e := strconv.ParseBool(v)
			if e != nil {
				return o, bad(b.key, v, e)
			}
			*b.dst = &x
		}
	}
	for _, s := range []struct {
		key string
		dst **string
	}{{"K6_SUMMARY_TIME_UNIT", &o.SummaryTimeUnit}, {"K6_HTTP_DEBUG", &o.HTTPDebug}, {"K6_USER_AGENT", &o.UserAgent}} {
		if v, ok := env[s.key]; ok {
			x := v
			*s.dst = &x
		}
	}
	if v, ok := get("K6_SUMMARY_TREND_STATS"); ok {
		o.SummaryTrendStats = splitList(v)
	}
	if v, ok := get("K6_SYSTEM_TAGS"); ok {
		o.SystemTags = splitList(v)
	}
	for _, s := range []struct {
		key string
		dst **string
	}{{"K6_SUMMARY_MODE", &o.SummaryMode}, {"K6_SUMMARY_EXPORT", &o.SummaryExport}} {
		if v, ok := get(s.key); ok {
			x := v
			*s.dst = &x
		}
	}
	if v, ok := get("K6_OUT"); ok {
		o.Out = splitList(v)
	}
	// These two only switch on (1, true or yes): any other value leaves them unset.
	yes := true
	if envBool(env, "K6_NO_SUMMARY") {
		o.NoSummary = &yes
	}
	if envBool(env, "K6_NO_COLOR") || env["NO_COLOR"] != "" {
		o.NoColor = &yes
	}
	return o, nil
}

func envBool(env map[string]string, k string) bool {
	switch strings.ToLower(env[k]) {
	case "1", "true", "yes":
		return true
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setsExecution reports whether the tier sets any execution option.
func (o options) setsExecution() bool {
	return o.Duration != nil || o.Iterations != nil || o.Stages != nil || o.Scenarios != nil
}

// apply returns o overridden by the fields that hi sets, with k6's rule for execution:
// a tier that sets duration, iterations, stages or scenarios replaces all four of the
// lower tiers (vus alone does not). Tags are merged, hi's values winning.
func (o options) apply(hi options) options {
	if hi.setsExecution() {
		o.Duration, o.Iterations, o.Stages, o.Scenarios = nil, nil, nil, nil
	}
	if hi.VUs != nil {
		o.VUs = hi.VUs
	}
	if hi.Duration != nil {
		o.Duration = hi.Duration
	}
	if hi.Iterations != nil {
		o.Iterations = hi.Iterations
	}
	if hi.Stages != nil {
		o.Stages = hi.Stages
	}
	if hi.Scenarios != nil {
		o.Scenarios = hi.Scenarios
	}
	if hi.Thresholds != nil {
		o.Thresholds = hi.Thresholds
	}
	if hi.Tags != nil {
		m := make(map[string]string, len(o.Tags)+len(hi.Tags))
		for k, v := range o.Tags {
			m[k] = v
		}
		for k, v := range hi.Tags {
			m[k] = v
		}
		o.Tags = m
	}
	if hi.SummaryTrendStats != nil {
		o.SummaryTrendStats = hi.SummaryTrendStats
	}
	if hi.SystemTags != nil {
		o.SystemTags = hi.SystemTags
	}
	pick := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	pick(&o.SummaryTimeUnit, hi.SummaryTimeUnit)
	pick(&o.HTTPDebug, hi.HTTPDebug)
	pick(&o.UserAgent, hi.UserAgent)
	pick(&o.SummaryMode, hi.SummaryMode)
	pick(&o.SummaryExport, hi.SummaryExport)
	pick(&o.LogOutput, hi.LogOutput)
	if hi.Out != nil {
		o.Out = hi.Out
	}
	pickB := func(dst **bool, src *bool) {
		if src != nil {
			*dst = src
		}
	}
	pickB(&o.NoThresholds, hi.NoThresholds)
	pickB(&o.InsecureSkipTLSVerify, hi.InsecureSkipTLSVerify)
	pickB(&o.NoCookiesReset, hi.NoCookiesReset)
	pickB(&o.Throw, hi.Throw)
	pickB(&o.NoSummary, hi.NoSummary)
	pickB(&o.NoColor, hi.NoColor)
	if hi.SetupTimeout != nil {
		o.SetupTimeout = hi.SetupTimeout
	}
	if hi.TeardownTimeout != nil {
		o.TeardownTimeout = hi.TeardownTimeout
	}
	return o
}

// runConfig is the consolidated, validated configuration of `pixelk6 run`: the engine's
// Test and what the command line presents with.
type runConfig struct {
	Options options
	Test    *engine.Test
	// TrendStats are the summary's trend stats (metrics.DefaultTrendStats when unset).
	TrendStats []string
	// SummaryMode is the text summary's mode; Summary is false when it is disabled.
	SummaryMode summary.Mode
	Summary     bool
	// SummaryExport is the --summary-export file ("" for none).
	SummaryExport string
	// Out are the --out specs.
	Out     []string
	NoColor bool
	// Module are the options that modules read (k6/http's user agent, ...).
	Module modules.Options
}

// newRunConfig validates consolidated options: it builds the scenarios (from
// options.scenarios, or from the shortcuts as a "default" scenario), parses the
// thresholds, the summary's trend stats and mode. Every error names the bad value; the
// command exits 104 on them.
func newRunConfig(o options) (*runConfig, error) {
	t := &engine.Test{Tags: o.Tags}
	rc := &runConfig{Options: o, Test: t, Out: o.Out}
	var err error
	if o.Scenarios != nil {
		if o.Duration != nil || o.Iterations != nil || o.Stages != nil {
			return nil, fmt.Errorf("using scenarios together with the duration, iterations or stages shortcuts in the same place is not allowed")
		}
		if t.Scenarios, err = executor.ParseScenarios(o.Scenarios); err != nil {
			return nil, err
		}
		if len(t.Scenarios) == 0 {
			return nil, fmt.Errorf("options.scenarios is empty: define at least one scenario")
		}
	} else {
		c, err := executor.FromShortcuts(executor.Shortcuts{VUs: o.VUs, Duration: o.Duration, Iterations: o.Iterations, Stages: o.Stages})
		if err != nil {
			return nil, err
		}
		t.Scenarios = []executor.Config{c}
	}
	if o.NoThresholds == nil || !*o.NoThresholds {
		if t.Thresholds, err = metrics.ParseThresholdsJSON(o.Thresholds); err != nil {
			return nil, err
		}
	}
	rc.TrendStats = metrics.DefaultTrendStats
	if o.SummaryTrendStats != nil {
		for _, s := range o.SummaryTrendStats {
			if _, err := metrics.ParseAggregation(s); err != nil {
				return nil, fmt.Errorf("invalid summaryTrendStats %q: %w", s, err)
			}
		}
		rc.TrendStats = o.SummaryTrendStats
	}
	if o.SummaryTimeUnit != nil {
		switch *o.SummaryTimeUnit {
		case "", "s", "ms", "us":
		default:
			return nil, fmt.Errorf("invalid summaryTimeUnit %q (want s, ms or us)", *o.SummaryTimeUnit)
		}
	}
	if o.HTTPDebug != nil {
		switch *o.HTTPDebug {
		case "", "headers", "full":
		default:
			return nil, fmt.Errorf("invalid httpDebug %q (want headers or full)", *o.HTTPDebug)
		}
	}
	if o.SetupTimeout != nil {
		t.SetupTimeout = o.SetupTimeout.D()
	}
	if o.TeardownTimeout != nil {
		t.TeardownTimeout = o.TeardownTimeout.D()
	}
	// --no-summary wins over any mode, even one that does not parse.
	rc.SummaryMode = summary.Disabled
	if o.NoSummary == nil || !*o.NoSummary {
		mode := ""
		if o.SummaryMode != nil {
			mode = *o.SummaryMode
		}
		if rc.SummaryMode, err = summary.ParseMode(mode); err != nil {
			return nil, err
		}
	}
	rc.Summary = rc.SummaryMode != summary.Disabled
	if o.SummaryExport != nil {
		rc.SummaryExport = *o.SummaryExport
	}
	rc.NoColor = o.NoColor != nil && *o.NoColor
	if o.HTTPDebug != nil {
		rc.Module.HTTPDebug = *o.HTTPDebug
	}
	if o.InsecureSkipTLSVerify != nil {
		rc.Module.InsecureSkipTLSVerify = *o.InsecureSkipTLSVerify
	}
	if o.UserAgent != nil {
		rc.Module.UserAgent = *o.UserAgent
	}
	if o.NoCookiesReset != nil {
		rc.Module.NoCookiesReset = *o.NoCookiesReset
	}
	if o.Throw != nil {
		rc.Module.Throw = *o.Throw
	}
	rc.Module.SystemTags = o.SystemTags
	t.OptionsJSON = testOptionsJSON(o, t.Scenarios)
	return rc, nil
}

// testOptionsJSON is the consolidated options as JSON, with the scenarios as run
// (k6/execution's test.options).
func testOptionsJSON(o options, scenarios []executor.Config) []byte {
	scen := map[string]executor.Config{}
	for _, c := range scenarios {
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
