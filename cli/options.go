package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/js/modules"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
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
	HandleSummaryTimeout  *executor.Duration `json:"handleSummaryTimeout"`
	NoSetup               *bool              `json:"noSetup"`
	Paused                *bool              `json:"paused"` // --paused, K6_PAUSED: wait to be resumed through the REST API
	MinIterationDuration  *executor.Duration `json:"minIterationDuration"`
	NoTeardown            *bool              `json:"noTeardown"`
	HTTPDebug             *string            `json:"httpDebug"`
	InsecureSkipTLSVerify *bool              `json:"insecureSkipTLSVerify"`
	UserAgent             *string            `json:"userAgent"`
	NoCookiesReset        *bool              `json:"noCookiesReset"`
	SystemTags            []string           `json:"systemTags"`
	// The HTTP client's options (k6/http's options.go and dialer.go implement them).
	MaxRedirects          *int64            `json:"maxRedirects"`
	MaxResponseBody       *int64            `json:"-"` // pixelk6's own --max-response-body (no k6 option)
	DiscardResponseBodies *bool             `json:"discardResponseBodies"`
	Throw                 *bool             `json:"throw"`
	NoConnectionReuse     *bool             `json:"noConnectionReuse"`
	NoVUConnectionReuse   *bool             `json:"noVUConnectionReuse"`
	Hosts                 map[string]string `json:"hosts"`
	BlockHostnames        []string          `json:"blockHostnames"`
	BlacklistIPs          []string          `json:"blacklistIPs"`
	Batch                 *int64            `json:"batch"`
	BatchPerHost          *int64            `json:"batchPerHost"`
	RPS                   *int64            `json:"rps"`
	TLSVersion            *tlsVersionRange  `json:"tlsVersion"`
	TLSCipherSuites       []string          `json:"tlsCipherSuites"`
	TLSAuth               []modules.TLSAuth `json:"tlsAuth"`
	DNS                   *dnsOption        `json:"dns"`
	// LocalIPs is --local-ips / K6_LOCAL_IPS (no options key in k6).
	LocalIPs []string `json:"-"`

	// SummaryMode is --summary-mode / K6_SUMMARY_MODE: compact, full or disabled.
	SummaryMode *string `json:"-"`
	// NoSummary (--no-summary, K6_NO_SUMMARY) disables the summary whatever the mode.
	NoSummary *bool `json:"-"`
	// SummaryExport is the --summary-export / K6_SUMMARY_EXPORT file.
	SummaryExport *string `json:"-"`
	// Out are the --out / K6_OUT outputs ("json=FILE", ...).
	Out []string `json:"-"`
	// Linger keeps pixelk6 running after the test until it is interrupted (--linger,
	// K6_LINGER, the config file's linger; not a script option, as in k6).
	Linger *bool `json:"-"`
	// Profiling serves pprof on the REST API (--profiling-enabled, K6_PROFILING_ENABLED).
	Profiling *bool `json:"-"`
	// NoColor is --no-color / K6_NO_COLOR / NO_COLOR.
	NoColor *bool `json:"-"`
	// Address is --address / K6_ADDRESS: where the REST API listens ("" or unset: off,
	// as in k6 v2).
	Address *string `json:"-"`
	// LogOutput is --log-output / K6_LOG_OUTPUT.
	LogOutput *string `json:"-"`
	// LogFormat is --log-format / K6_LOG_FORMAT: text, json or raw.
	LogFormat *string `json:"-"`
	// ConsoleOutput is --console-output / K6_CONSOLE_OUTPUT: the file console.* writes to.
	ConsoleOutput *string `json:"-"`
	// IncludeSystemEnv is --include-system-env-vars / K6_INCLUDE_SYSTEM_ENV_VARS.
	IncludeSystemEnv *bool `json:"-"`
	// CompatibilityMode is --compatibility-mode / K6_COMPATIBILITY_MODE.
	CompatibilityMode *string `json:"-"`
	// Type is --type / K6_TYPE: js or archive.
	Type *string `json:"-"`
	// Other are the keys of the script's or config file's options that have no field
	// here (k6 settings pixelk6 accepts without a use, or refuses), as written; inspect
	// shows them.
	Other map[string]json.RawMessage `json:"-"`

	// ExecutionSegment and ExecutionSegmentSequence are k6's distributed-run options, as
	// written ("1/3:2/3", "0,1/3,2/3,1"); newRunConfig parses them.
	ExecutionSegment         *string `json:"executionSegment"`
	ExecutionSegmentSequence *string `json:"executionSegmentSequence"`
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
	// file is the -c / K6_CONFIG config file's tier.
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
// Keys k6 does not know are ignored (decodeOptions returns them to warn about); k6 options
// pixelk6 does not honour are an error.
func parseScriptOptions(raw json.RawMessage) (options, error) {
	o, _, err := decodeOptions(raw, fromScript)
	return o, err
}

// unknownFieldsWarning is k6's warning about a script's options key it does not know.
const unknownFieldsWarning = "There were unknown fields in the options exported in the script"

// decodeOptions decodes a script's exported options or a config file (from says which):
// it returns the options, the keys k6 does not know (to be warned about, as k6 does), and
// an error naming every k6 setting that pixelk6 refuses (exit code 104).
func decodeOptions(raw json.RawMessage, from string) (options, []string, error) {
	var o options
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return o, nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return o, nil, fmt.Errorf("invalid %s: %w", from, err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	isNull := func(k string) bool { return unset(fields[k]) }
	unknown, err := checkKeys(keys, isNull, from)
	if err != nil {
		return o, unknown, err
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, unknown, fmt.Errorf("invalid %s: %w", from, err)
	}
	if from == fromConfig {
		if v, ok := fields["out"]; ok && !isNull("out") {
			if err := json.Unmarshal(v, &o.Out); err != nil {
				return o, unknown, fmt.Errorf("invalid %s: out: %w", from, err)
			}
		}
		if v, ok := fields["linger"]; ok && !isNull("linger") {
			if err := json.Unmarshal(v, &o.Linger); err != nil {
				return o, unknown, fmt.Errorf("invalid %s: linger: %w", from, err)
			}
		}
	}
	for _, k := range keys {
		if !optionFields[k] && !isNull(k) && !slices.Contains(unknown, k) && k != "out" && k != "linger" {
			if o.Other == nil {
				o.Other = map[string]json.RawMessage{}
			}
			o.Other[k] = fields[k]
		}
	}
	o.clearNulls()
	return o, unknown, nil
}

// clearNulls unsets the raw fields that decoded a JSON null.
func (o *options) clearNulls() {
	if bytes.Equal(bytes.TrimSpace(o.Scenarios), []byte("null")) {
		o.Scenarios = nil
	}
	if bytes.Equal(bytes.TrimSpace(o.Thresholds), []byte("null")) {
		o.Thresholds = nil
	}
}

// unset reports whether an options value sets nothing: null, or an object whose values
// all set nothing (k6 writes an unset dns as {"ttl":null,"select":null,"policy":null}).
func unset(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if bytes.Equal(v, []byte("null")) {
		return true
	}
	var obj map[string]json.RawMessage
	if len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &obj) != nil {
		return false
	}
	for _, x := range obj {
		if !unset(x) {
			return false
		}
	}
	return true
}

// optionFields are the options keys that have a field in options.
var optionFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(options{})
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}()

// readConfigFile reads k6's JSON config file (-c / K6_CONFIG): the config-file tier and
// the keys k6 does not know.
func readConfigFile(path string) (options, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return options{}, nil, fmt.Errorf("reading the config file: %w", err)
	}
	o, unknown, err := decodeOptions(b, fromConfig)
	if err != nil {
		return o, unknown, fmt.Errorf("config file %s: %w", path, err)
	}
	return o, unknown, nil
}

// optionsFromEnv reads k6's K6_* option variables from env: K6_VUS, K6_DURATION,
// K6_ITERATIONS, K6_STAGES, K6_NO_THRESHOLDS, K6_SUMMARY_TREND_STATS, K6_SUMMARY_TIME_UNIT,
// K6_SETUP_TIMEOUT, K6_TEARDOWN_TIMEOUT, K6_HANDLE_SUMMARY_TIMEOUT, K6_NO_SETUP,
// K6_NO_TEARDOWN, K6_MIN_ITERATION_DURATION, K6_HTTP_DEBUG, K6_INSECURE_SKIP_TLS_VERIFY,
// K6_USER_AGENT, K6_NO_COOKIES_RESET, K6_SYSTEM_TAGS, K6_TAGS (KEY:VALUE,...),
// K6_SUMMARY_MODE, K6_NO_SUMMARY, K6_SUMMARY_EXPORT, K6_OUT, K6_NO_COLOR (and NO_COLOR),
// K6_LOG_OUTPUT, K6_LOG_FORMAT, K6_CONSOLE_OUTPUT, K6_INCLUDE_SYSTEM_ENV_VARS,
// K6_COMPATIBILITY_MODE, K6_TYPE and the HTTP client's: K6_MAX_REDIRECTS, K6_BATCH,
// K6_BATCH_PER_HOST, K6_RPS, K6_DISCARD_RESPONSE_BODIES, K6_THROW, K6_NO_CONNECTION_REUSE,
// K6_NO_VU_CONNECTION_REUSE, K6_BLOCK_HOSTNAMES, K6_BLACKLIST_IPS, K6_TLS_CIPHER_SUITES
// (comma-separated), K6_HOSTS and K6_TLSAUTH (JSON), K6_LOCAL_IPS and K6_DNS
// (ttl=..,select=..,policy=..). A K6_* option variable pixelk6 does not honour
// (supportTable) is an error naming it. Errors name the variable and value.
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
	if v, ok := get("K6_LOG_FORMAT"); ok {
		o.LogFormat = &v
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
	for _, n := range []struct {
		key string
		dst **int64
	}{{"K6_MAX_REDIRECTS", &o.MaxRedirects}, {"K6_BATCH", &o.Batch}, {"K6_BATCH_PER_HOST", &o.BatchPerHost}, {"K6_RPS", &o.RPS}} {
		if v, ok := get(n.key); ok {
			x, e := strconv.ParseInt(v, 10, 64)
			if e != nil {
				return o, bad(n.key, v, e)
			}
			*n.dst = &x
		}
	}
	for _, d := range []struct {
		key string
		dst **executor.Duration
	}{{"K6_DURATION", &o.Duration}, {"K6_SETUP_TIMEOUT", &o.SetupTimeout}, {"K6_TEARDOWN_TIMEOUT", &o.TeardownTimeout}, {"K6_HANDLE_SUMMARY_TIMEOUT", &o.HandleSummaryTimeout}, {"K6_MIN_ITERATION_DURATION", &o.MinIterationDuration}} {
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
	}{
		{"K6_NO_THRESHOLDS", &o.NoThresholds}, {"K6_INSECURE_SKIP_TLS_VERIFY", &o.InsecureSkipTLSVerify}, {"K6_NO_COOKIES_RESET", &o.NoCookiesReset},
		{"K6_LINGER", &o.Linger}, {"K6_PAUSED", &o.Paused}, {"K6_NO_SETUP", &o.NoSetup}, {"K6_NO_TEARDOWN", &o.NoTeardown}, {"K6_INCLUDE_SYSTEM_ENV_VARS", &o.IncludeSystemEnv},
		{"K6_DISCARD_RESPONSE_BODIES", &o.DiscardResponseBodies}, {"K6_THROW", &o.Throw},
		{"K6_NO_CONNECTION_REUSE", &o.NoConnectionReuse}, {"K6_NO_VU_CONNECTION_REUSE", &o.NoVUConnectionReuse},
	} {
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
	if _, ok := env["K6_PROFILING_ENABLED"]; ok { // as in k6, set at all is on, whatever its value
		on := true
		o.Profiling = &on
	}
	if v, ok := env["K6_ADDRESS"]; ok { // empty is k6's way to turn the API off
		o.Address = &v
	}
	if v, ok := get("K6_SUMMARY_TREND_STATS"); ok {
		o.SummaryTrendStats = splitList(v)
	}
	if v, ok := get("K6_SYSTEM_TAGS"); ok {
		o.SystemTags = splitList(v)
	}
	if v, ok := get("K6_BLOCK_HOSTNAMES"); ok {
		o.BlockHostnames = splitList(v)
	}
	if v, ok := get("K6_BLACKLIST_IPS"); ok {
		o.BlacklistIPs = splitList(v)
	}
	if v, ok := get("K6_TLS_CIPHER_SUITES"); ok {
		o.TLSCipherSuites = splitList(v)
	}
	if v, ok := get("K6_LOCAL_IPS"); ok {
		o.LocalIPs = splitList(v)
	}
	if v, ok := get("K6_DNS"); ok {
		d, e := httpmod.ParseDNS(v)
		if e != nil {
			return o, bad("K6_DNS", v, e)
		}
		o.DNS = dnsFromModule(d)
	}
	for _, j := range []struct {
		key string
		dst any
	}{{"K6_HOSTS", &o.Hosts}, {"K6_TLSAUTH", &o.TLSAuth}} {
		if v, ok := get(j.key); ok {
			if e := json.Unmarshal([]byte(v), j.dst); e != nil {
				return o, bad(j.key, v, fmt.Errorf("want JSON: %w", e))
			}
		}
	}
	for _, s := range []struct {
		key string
		dst **string
	}{
		{"K6_SUMMARY_MODE", &o.SummaryMode}, {"K6_SUMMARY_EXPORT", &o.SummaryExport}, {"K6_CONSOLE_OUTPUT", &o.ConsoleOutput},
		{"K6_COMPATIBILITY_MODE", &o.CompatibilityMode}, {"K6_TYPE", &o.Type},
	} {
		if v, ok := get(s.key); ok {
			x := v
			*s.dst = &x
		}
	}
	if v, ok := get("K6_OUT"); ok {
		o.Out = splitList(v)
	}
	if v, ok := get("K6_TAGS"); ok {
		o.Tags = map[string]string{}
		for _, kv := range splitList(v) {
			k, val, ok := strings.Cut(kv, ":")
			if !ok || k == "" {
				return o, bad("K6_TAGS", v, fmt.Errorf("%q is not KEY:VALUE", kv))
			}
			o.Tags[k] = val
		}
	}
	// These two only switch on (1, true or yes): any other value leaves them unset.
	yes := true
	if envBool(env, "K6_NO_SUMMARY") {
		o.NoSummary = &yes
	}
	if envBool(env, "K6_NO_COLOR") || env["NO_COLOR"] != "" {
		o.NoColor = &yes
	}
	// Last, so that the tier is complete when the caller gathers refusals.
	if refused := refusedEnv(env); len(refused) > 0 {
		return o, refusal("environment", refused)
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
	if hi.ExecutionSegment != nil {
		o.ExecutionSegment = hi.ExecutionSegment
	}
	if hi.ExecutionSegmentSequence != nil {
		o.ExecutionSegmentSequence = hi.ExecutionSegmentSequence
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
	if hi.Hosts != nil {
		o.Hosts = hi.Hosts
	}
	if hi.BlockHostnames != nil {
		o.BlockHostnames = hi.BlockHostnames
	}
	if hi.BlacklistIPs != nil {
		o.BlacklistIPs = hi.BlacklistIPs
	}
	if hi.TLSVersion != nil {
		o.TLSVersion = hi.TLSVersion
	}
	if hi.TLSCipherSuites != nil {
		o.TLSCipherSuites = hi.TLSCipherSuites
	}
	if hi.TLSAuth != nil {
		o.TLSAuth = hi.TLSAuth
	}
	if hi.DNS != nil {
		o.DNS = hi.DNS
	}
	if hi.LocalIPs != nil {
		o.LocalIPs = hi.LocalIPs
	}
	for _, n := range []struct{ dst, src **int64 }{{&o.MaxRedirects, &hi.MaxRedirects}, {&o.MaxResponseBody, &hi.MaxResponseBody}, {&o.Batch, &hi.Batch}, {&o.BatchPerHost, &hi.BatchPerHost}, {&o.RPS, &hi.RPS}} {
		if *n.src != nil {
			*n.dst = *n.src
		}
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
	pick(&o.LogFormat, hi.LogFormat)
	pick(&o.ConsoleOutput, hi.ConsoleOutput)
	pick(&o.CompatibilityMode, hi.CompatibilityMode)
	pick(&o.Type, hi.Type)
	pick(&o.Address, hi.Address)
	if hi.Other != nil {
		m := make(map[string]json.RawMessage, len(o.Other)+len(hi.Other))
		for k, v := range o.Other {
			m[k] = v
		}
		for k, v := range hi.Other {
			m[k] = v
		}
		o.Other = m
	}
	if hi.Out != nil {
		o.Out = hi.Out
	}
	if hi.Linger != nil {
		o.Linger = hi.Linger
	}
	pickB := func(dst **bool, src *bool) {
		if src != nil {
			*dst = src
		}
	}
	pickB(&o.NoThresholds, hi.NoThresholds)
	pickB(&o.InsecureSkipTLSVerify, hi.InsecureSkipTLSVerify)
	pickB(&o.NoCookiesReset, hi.NoCookiesReset)
	pickB(&o.NoSummary, hi.NoSummary)
	pickB(&o.NoColor, hi.NoColor)
	pickB(&o.NoSetup, hi.NoSetup)
	pickB(&o.Paused, hi.Paused)
	pickB(&o.Profiling, hi.Profiling)
	pickB(&o.NoTeardown, hi.NoTeardown)
	pickB(&o.IncludeSystemEnv, hi.IncludeSystemEnv)
	pickB(&o.DiscardResponseBodies, hi.DiscardResponseBodies)
	pickB(&o.Throw, hi.Throw)
	pickB(&o.NoConnectionReuse, hi.NoConnectionReuse)
	pickB(&o.NoVUConnectionReuse, hi.NoVUConnectionReuse)
	if hi.SetupTimeout != nil {
		o.SetupTimeout = hi.SetupTimeout
	}
	if hi.TeardownTimeout != nil {
		o.TeardownTimeout = hi.TeardownTimeout
	}
	if hi.HandleSummaryTimeout != nil {
		o.HandleSummaryTimeout = hi.HandleSummaryTimeout
	}
	if hi.MinIterationDuration != nil {
		o.MinIterationDuration = hi.MinIterationDuration
	}
	return o
}

// runConfig is the consolidated, validated configuration of `pixelk6 run`: the engine's
// Test and what the command line presents with.
type runConfig struct {
	Options options
	Test    *engine.Test
	// Segment is the execution segment this instance runs (nil: the whole test); the
	// scenarios are already scaled to it.
	Segment *executor.Tuple
	// TrendStats are the summary's trend stats (metrics.DefaultTrendStats when unset).
	TrendStats []string
	// SummaryMode is the text summary's mode; Summary is false when it is disabled.
	SummaryMode summary.Mode
	Summary     bool
	// SummaryExport is the --summary-export file ("" for none).
	SummaryExport string
	// Out are the --out specs.
	Out []string
	// Linger keeps the process up after the test until it is interrupted.
	Linger  bool
	NoColor bool
	// Paused starts the test paused (resumed through the REST API).
	Paused bool
	// Address is where the REST API listens ("": no API).
	Address string
	// Profiling serves pprof's endpoints on the REST API.
	Profiling bool
	// Module are the options that modules read (k6/http's user agent, ...).
	Module modules.Options
	// HandleSummaryTimeout bounds handleSummary() (k6's 2 minutes by default).
	HandleSummaryTimeout time.Duration
}

// newRunConfig validates consolidated options: it builds the scenarios (from
// options.scenarios, or from the shortcuts as a "default" scenario), parses the
// thresholds, the summary's trend stats and mode. Every error names the bad value; the
// command exits 104 on them.
func newRunConfig(o options) (*runConfig, error) {
	t := &engine.Test{Tags: o.Tags}
	rc := &runConfig{Options: o, Test: t, Out: o.Out, Linger: o.Linger != nil && *o.Linger,
		Paused: o.Paused != nil && *o.Paused, Address: deref(o.Address),
		Profiling: o.Profiling != nil && *o.Profiling}
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
	if rc.Segment, err = segmentTuple(o); err != nil {
		return nil, err
	}
	executor.SetSegment(t.Scenarios, rc.Segment)
	t.Segment = rc.Segment
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
	t.NoSetup = o.NoSetup != nil && *o.NoSetup
	if o.MinIterationDuration != nil {
		t.MinIterationDuration = o.MinIterationDuration.D()
	}
	t.NoTeardown = o.NoTeardown != nil && *o.NoTeardown
	rc.HandleSummaryTimeout = 2 * time.Minute
	if o.HandleSummaryTimeout != nil {
		if o.HandleSummaryTimeout.D() <= 0 {
			return nil, fmt.Errorf("invalid handleSummaryTimeout %s: must be positive", o.HandleSummaryTimeout.D())
		}
		rc.HandleSummaryTimeout = o.HandleSummaryTimeout.D()
	}
	if o.LogFormat != nil {
		switch *o.LogFormat {
		case "", "text", "json", "raw":
		default:
			return nil, fmt.Errorf("invalid log format %q (want text, json or raw)", *o.LogFormat)
		}
	}
	if o.CompatibilityMode != nil {
		switch *o.CompatibilityMode {
		case "", "extended", "base", "experimental_enhanced":
		default:
			return nil, fmt.Errorf("invalid compatibility mode %q (want extended, base or experimental_enhanced)", *o.CompatibilityMode)
		}
	}
	if o.Type != nil {
		switch *o.Type {
		case "", "js":
		case "archive":
			return nil, fmt.Errorf("test type %q: pixelk6 does not run k6 archives yet", *o.Type)
		default:
			return nil, fmt.Errorf("invalid test type %q (want js or archive)", *o.Type)
		}
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
		// k6 sends no User-Agent for an empty one; pixelk6's HTTP client would send its
		// default instead, so it refuses rather than measure another request.
		if *o.UserAgent == "" {
			return nil, fmt.Errorf("an empty userAgent (k6: no User-Agent header) is not supported by pixelk6 yet")
		}
		rc.Module.UserAgent = *o.UserAgent
	}
	if o.NoCookiesReset != nil {
		rc.Module.NoCookiesReset = *o.NoCookiesReset
	}
	for _, tag := range o.SystemTags {
		if !modules.IsSystemTag(tag) {
			return nil, fmt.Errorf("invalid systemTags: %q is not a k6 system tag", tag)
		}
	}
	rc.Module.SystemTags = o.SystemTags
	if err := httpModuleOptions(o, &rc.Module); err != nil {
		return nil, err
	}
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
	// k6's shape (see k6/execution's test.options): its defaults for systemTags and
	// summaryTrendStats, dns with its lower-case keys, consoleOutput and localIPs (flags
	// only), and k6 options pixelk6 keeps aside as written (ext, cloud, ...).
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	set := func(k string, v any) {
		if raw, err := json.Marshal(v); err == nil {
			m[k] = raw
		}
	}
	if o.SystemTags == nil {
		set("systemTags", modules.DefaultSystemTags())
	}
	if o.SummaryTrendStats == nil {
		set("summaryTrendStats", []string{"avg", "min", "med", "max", "p(90)", "p(95)"})
	}
	dns := map[string]*string{"ttl": nil, "select": nil, "policy": nil}
	if o.DNS != nil {
		for k, v := range map[string]string{"ttl": o.DNS.TTL, "select": o.DNS.Select, "policy": o.DNS.Policy} {
			if v != "" {
				dns[k] = &v
			}
		}
	}
	set("dns", dns)
	set("consoleOutput", o.ConsoleOutput)
	if len(o.LocalIPs) > 0 {
		set("localIPs", strings.Join(o.LocalIPs, ","))
	}
	for _, k := range []string{"ext", "cloud", "metricSamplesBufferSize", "features"} {
		if v, ok := o.Other[k]; ok {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return out
}

// segmentTuple is the execution segment of the consolidated options within their
// sequence (nil: the whole test). Errors quote the option.
func segmentTuple(o options) (*executor.Tuple, error) {
	if o.ExecutionSegment == nil && o.ExecutionSegmentSequence == nil {
		return nil, nil
	}
	var seg executor.Segment
	var seq executor.Sequence
	var err error
	if o.ExecutionSegment != nil {
		if seg, err = executor.ParseSegment(*o.ExecutionSegment); err != nil {
			return nil, fmt.Errorf("invalid executionSegment %q: %w", *o.ExecutionSegment, err)
		}
	}
	if o.ExecutionSegmentSequence != nil {
		if seq, err = executor.ParseSequence(*o.ExecutionSegmentSequence); err != nil {
			return nil, fmt.Errorf("invalid executionSegmentSequence %q: %w", *o.ExecutionSegmentSequence, err)
		}
	}
	t, err := executor.NewTuple(seg, seq)
	if err != nil {
		return nil, fmt.Errorf("invalid execution segment: %w", err)
	}
	if t.Whole() {
		return nil, nil
	}
	return t, nil
}
