package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/metrics"
)

// Options is one tier of k6 options (script, environment or command line), or their
// consolidation. A nil field is unset in that tier.
type Options struct {
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
	SystemTags            []string           `json:"systemTags"`
}

// ParseScriptOptions decodes the script's exported options (nil or "null" is no options).
// Fields pixelk6 does not know are ignored, as k6 ignores options of other tools.
func ParseScriptOptions(raw json.RawMessage) (Options, error) {
	var o Options
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

// OptionsFromEnv reads k6's K6_* option variables from env: K6_VUS, K6_DURATION,
// K6_ITERATIONS, K6_STAGES, K6_NO_THRESHOLDS, K6_SUMMARY_TREND_STATS, K6_SUMMARY_TIME_UNIT,
// K6_SETUP_TIMEOUT, K6_TEARDOWN_TIMEOUT, K6_HTTP_DEBUG, K6_INSECURE_SKIP_TLS_VERIFY,
// K6_USER_AGENT, K6_NO_COOKIES_RESET, K6_SYSTEM_TAGS. Errors name the variable and value.
func OptionsFromEnv(env map[string]string) (Options, error) {
	var o Options
	var err error
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }
	bad := func(k, v string, e error) error {
		return fmt.Errorf("invalid environment variable %s=%q: %w", k, v, e)
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
	}{{"K6_NO_THRESHOLDS", &o.NoThresholds}, {"K6_INSECURE_SKIP_TLS_VERIFY", &o.InsecureSkipTLSVerify}, {"K6_NO_COOKIES_RESET", &o.NoCookiesReset}} {
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
	return o, nil
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
func (o Options) setsExecution() bool {
	return o.Duration != nil || o.Iterations != nil || o.Stages != nil || o.Scenarios != nil
}

// Apply returns o overridden by the fields that hi sets, with k6's rule for execution:
// a tier that sets duration, iterations, stages or scenarios replaces all four of the
// lower tiers (vus alone does not). Tags are merged, hi's values winning.
func (o Options) Apply(hi Options) Options {
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
	pickB := func(dst **bool, src *bool) {
		if src != nil {
			*dst = src
		}
	}
	pickB(&o.NoThresholds, hi.NoThresholds)
	pickB(&o.InsecureSkipTLSVerify, hi.InsecureSkipTLSVerify)
	pickB(&o.NoCookiesReset, hi.NoCookiesReset)
	if hi.SetupTimeout != nil {
		o.SetupTimeout = hi.SetupTimeout
	}
	if hi.TeardownTimeout != nil {
		o.TeardownTimeout = hi.TeardownTimeout
	}
	return o
}

// Consolidate applies the tiers in k6's order of precedence: script < env < CLI.
func Consolidate(script, env, cli Options) Options { return script.Apply(env).Apply(cli) }

// Test is a consolidated, validated test configuration: what Run executes.
type Test struct {
	Options   Options
	Scenarios []executor.Config
	// Thresholds are the parsed thresholds (nil with noThresholds).
	Thresholds []metrics.MetricThresholds
	// TrendStats are the summary's trend stats (metrics.DefaultTrendStats when unset).
	TrendStats []string
}

// NewTest validates consolidated options: it builds the scenarios (from options.scenarios,
// or from the shortcuts as a "default" scenario), parses the thresholds and the summary's
// trend stats. Every error names the bad value; the CLI exits 104 on them.
func NewTest(o Options) (*Test, error) {
	t := &Test{Options: o}
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
	t.TrendStats = metrics.DefaultTrendStats
	if o.SummaryTrendStats != nil {
		for _, s := range o.SummaryTrendStats {
			if _, err := metrics.ParseAggregation(s); err != nil {
				return nil, fmt.Errorf("invalid summaryTrendStats %q: %w", s, err)
			}
		}
		t.TrendStats = o.SummaryTrendStats
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
	return t, nil
}
