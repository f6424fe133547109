package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// support is the one table of k6 v2.2's `k6 run` flags, K6_* option variables and options
// keys, with what pixelk6 does with each. The command line registers its refused flags
// from it, the script and config-file decoders and the environment reader check against
// it, and the README's table is generated from it (TestREADMESupportTable), so that no
// k6 setting is ever ignored silently: it is honoured, or the run is refused with exit
// code 104 naming it.
type support struct {
	// Key is the options key (script `options` and the -c config file); "" for none.
	Key string
	// ConfigOnly marks a key that k6 reads from the config file only: in a script's
	// options it is an unknown field (k6 warns and ignores it).
	ConfigOnly bool
	// Flag is the `k6 run` long flag without dashes; Short its one-letter form.
	Flag, Short string
	// Bool marks a flag that takes no value.
	Bool bool
	// Env is the K6_* variable.
	Env string
	// OK is set when pixelk6 honours the setting; otherwise setting it fails the run
	// with exit code 104.
	OK bool
	// Note says how pixelk6 differs from k6, or why it refuses the setting.
	Note string
	// NoEffect marks an accepted setting that changes nothing in pixelk6 (a tuning knob of
	// k6's own internals): setting it logs a warning that says so, never silence.
	NoEffect bool
}

const (
	noteHTTP  = "not implemented yet in pixelk6's HTTP client"
	noteSigV4 = "AWS SigV4 signing of remote writes is not implemented"
)

// supportTable lists every k6 v2.2 `k6 run` flag, options key and K6_* option variable.
var supportTable = []support{
	// Execution.
	{Key: "vus", Flag: "vus", Short: "u", Env: "K6_VUS", OK: true},
	{Key: "duration", Flag: "duration", Short: "d", Env: "K6_DURATION", OK: true},
	{Key: "iterations", Flag: "iterations", Short: "i", Env: "K6_ITERATIONS", OK: true},
	{Key: "stages", Flag: "stage", Short: "s", Env: "K6_STAGES", OK: true},
	{Key: "scenarios", OK: true},
	{Key: "paused", Flag: "paused", Short: "p", Bool: true, Env: "K6_PAUSED", OK: true, Note: "the VUs are initialised, then the test waits before setup() until `PATCH /v1/status` resumes it (the k6-operator's start); as in k6 v2, a test cannot be paused after its start"},
	{Key: "executionSegment", Flag: "execution-segment", OK: true, Note: "no `K6_*` variable, as in k6"},
	{Key: "executionSegmentSequence", Flag: "execution-segment-sequence", OK: true, Note: "no `K6_*` variable, as in k6"},
	{Key: "noSetup", Flag: "no-setup", Bool: true, Env: "K6_NO_SETUP", OK: true},
	{Key: "noTeardown", Flag: "no-teardown", Bool: true, Env: "K6_NO_TEARDOWN", OK: true},
	{Key: "setupTimeout", Env: "K6_SETUP_TIMEOUT", OK: true},
	{Key: "teardownTimeout", Env: "K6_TEARDOWN_TIMEOUT", OK: true},
	{Key: "handleSummaryTimeout", Env: "K6_HANDLE_SUMMARY_TIMEOUT", OK: true},
	{Key: "minIterationDuration", Flag: "min-iteration-duration", Env: "K6_MIN_ITERATION_DURATION", OK: true},
	{Key: "thresholds", OK: true},
	{Key: "noThresholds", Flag: "no-thresholds", Bool: true, Env: "K6_NO_THRESHOLDS", OK: true, Note: "pixelk6 also reads it from a script's options"},
	// HTTP and network.
	{Key: "rps", Flag: "rps", Env: "K6_RPS", OK: true, Note: "paces the requests of the whole run (redirects not counted)"},
	{Key: "batch", Flag: "batch", Env: "K6_BATCH", OK: true},
	{Key: "batchPerHost", Flag: "batch-per-host", Env: "K6_BATCH_PER_HOST", OK: true},
	{Key: "maxRedirects", Flag: "max-redirects", Env: "K6_MAX_REDIRECTS", OK: true},
	{Flag: "max-response-body", OK: true, Note: "pixelk6's own flag, not k6's: a response body beyond it (default 512 MiB; -1: none) is truncated with error_code 1000 and an error naming the limit, instead of filling the memory (k6 has no limit)"},
	{Key: "userAgent", Flag: "user-agent", Env: "K6_USER_AGENT", OK: true, Note: "the default is `pixelk6/<version>`, not k6's; an empty one (no header in k6) is refused"},
	{Key: "httpDebug", Flag: "http-debug", Env: "K6_HTTP_DEBUG", OK: true, Note: "the dumps carry no `request_id` log field"},
	{Key: "insecureSkipTLSVerify", Flag: "insecure-skip-tls-verify", Bool: true, Env: "K6_INSECURE_SKIP_TLS_VERIFY", OK: true},
	{Key: "noConnectionReuse", Flag: "no-connection-reuse", Bool: true, Env: "K6_NO_CONNECTION_REUSE", OK: true},
	{Key: "noVUConnectionReuse", Flag: "no-vu-connection-reuse", Bool: true, Env: "K6_NO_VU_CONNECTION_REUSE", OK: true},
	{Key: "noCookiesReset", Env: "K6_NO_COOKIES_RESET", OK: true},
	{Key: "discardResponseBodies", Flag: "discard-response-bodies", Bool: true, Env: "K6_DISCARD_RESPONSE_BODIES", OK: true},
	{Key: "throw", Flag: "throw", Short: "w", Bool: true, Env: "K6_THROW", OK: true, Note: "failed requests (k6/http) and invalid custom-metric values throw; without it they are warnings"},
	{Flag: "local-ips", Env: "K6_LOCAL_IPS", OK: true},
	{Key: "dns", Flag: "dns", Env: "K6_DNS", OK: true, Note: "unset, every new connection asks Go's resolver (k6 caches lookups 5m by default); set, k6's defaults apply to the members not given"},
	{Key: "hosts", Env: "K6_HOSTS", OK: true, Note: "`K6_HOSTS` is a JSON object"},
	{Key: "blockHostnames", Flag: "block-hostnames", Env: "K6_BLOCK_HOSTNAMES", OK: true},
	{Key: "blacklistIPs", Flag: "blacklist-ip", Env: "K6_BLACKLIST_IPS", OK: true},
	{Key: "tlsVersion", OK: true},
	{Key: "tlsCipherSuites", Env: "K6_TLS_CIPHER_SUITES", OK: true},
	{Key: "tlsAuth", Env: "K6_TLSAUTH", OK: true, Note: "a domain also covers its subdomains; `K6_TLSAUTH` is a JSON array"},
	{Key: "tlsAIAFetch", Env: "K6_TLS_AIA_FETCH", Note: noteHTTP},
	// Metrics and summary.
	{Key: "tags", Flag: "tag", Env: "K6_TAGS", OK: true, Note: "`K6_TAGS` is `KEY:VALUE,KEY:VALUE`"},
	{Key: "systemTags", Flag: "system-tags", Env: "K6_SYSTEM_TAGS", OK: true, Note: "every k6 system tag; `ip` is the remote address of an HTTP request's connection, `vu` and `iter` are written as metadata (JSON output), as k6; `ocsp_status` is never set: pixelk6 does not check OCSP"},
	{Key: "summaryTrendStats", Flag: "summary-trend-stats", Env: "K6_SUMMARY_TREND_STATS", OK: true},
	{Key: "summaryTimeUnit", Flag: "summary-time-unit", Env: "K6_SUMMARY_TIME_UNIT", OK: true},
	{Key: "metricSamplesBufferSize", Env: "K6_METRIC_SAMPLES_BUFFER_SIZE", OK: true, NoEffect: true, Note: "accepted with a warning: it has no effect, pixelk6 sizes its sample queues itself"},
	{Flag: "summary-mode", Env: "K6_SUMMARY_MODE", OK: true},
	{Flag: "no-summary", Bool: true, Env: "K6_NO_SUMMARY", OK: true},
	{Flag: "summary-export", Env: "K6_SUMMARY_EXPORT", OK: true},
	{Flag: "new-machine-readable-summary", Bool: true, Env: "K6_NEW_MACHINE_READABLE_SUMMARY", Note: "not implemented yet"},
	{Key: "out", ConfigOnly: true, Flag: "out", Short: "o", Env: "K6_OUT", OK: true, Note: "outputs json, csv, influxdb, experimental-prometheus-rw, opentelemetry (also experimental-opentelemetry) and web-dashboard; a failing server never fails the test: its dropped points are reported at the end"},
	{Flag: "traces-output", Env: "K6_TRACES_OUTPUT", Note: "not implemented yet (\"none\" is accepted)"},
	{Key: "webDashboard", ConfigOnly: true, Env: "K6_WEB_DASHBOARD", OK: true, Note: "same as `--out web-dashboard`: a live page and, with `K6_WEB_DASHBOARD_EXPORT`, an HTML report (see \"Watching a test live\"); pixelk6 does not wait for open browser windows before it exits (use `--linger`)"},
	{Env: "K6_WEB_DASHBOARD_HOST", OK: true, Note: "default `127.0.0.1` (loopback only; `0.0.0.0` serves every interface)"},
	{Env: "K6_WEB_DASHBOARD_PORT", OK: true, Note: "default 5665; -1 serves nothing (export only), 0 any free port"},
	{Env: "K6_WEB_DASHBOARD_PERIOD", OK: true, Note: "default 10s: one point per period"},
	{Env: "K6_WEB_DASHBOARD_OPEN", OK: true, Note: "opens the page with `xdg-open` (`open` on macOS); a warning when there is no browser"},
	{Env: "K6_WEB_DASHBOARD_EXPORT", OK: true, Note: "the self-contained HTML report, written when the test ends"},
	{Key: "collectors", ConfigOnly: true, OK: true, Note: "k6's deprecated settings of outputs pixelk6 does not have; an entry for influxdb, experimental-prometheus-rw or opentelemetry is refused (exit 104): use their K6_* variables"},
	// The InfluxDB output (--out influxdb=URL).
	{Env: "K6_INFLUXDB_ADDR", OK: true, Note: "overridden by the --out URL"},
	{Env: "K6_INFLUXDB_DB", OK: true, Note: "overridden by the --out URL's last path segment"},
	{Env: "K6_INFLUXDB_USERNAME", OK: true},
	{Env: "K6_INFLUXDB_PASSWORD", OK: true},
	{Env: "K6_INFLUXDB_INSECURE", OK: true},
	{Env: "K6_INFLUXDB_PROXY", OK: true},
	{Env: "K6_INFLUXDB_PAYLOAD_SIZE", OK: true},
	{Env: "K6_INFLUXDB_PUSH_INTERVAL", OK: true},
	{Env: "K6_INFLUXDB_CONCURRENT_WRITES", OK: true},
	{Env: "K6_INFLUXDB_PRECISION", OK: true},
	{Env: "K6_INFLUXDB_RETENTION", OK: true},
	{Env: "K6_INFLUXDB_CONSISTENCY", OK: true},
	{Env: "K6_INFLUXDB_TAGS_AS_FIELDS", OK: true, Note: "also applies to the metadata so named (vu, iter); a newline in a tag is written as `\\n` (line protocol has no escape for it)"},
	// The Prometheus remote-write output (--out experimental-prometheus-rw).
	{Env: "K6_PROMETHEUS_RW_SERVER_URL", OK: true, Note: "also taken from `--out experimental-prometheus-rw=URL`"},
	{Env: "K6_PROMETHEUS_RW_HEADERS_<NAME>", OK: true},
	{Env: "K6_PROMETHEUS_RW_HTTP_HEADERS", OK: true},
	{Env: "K6_PROMETHEUS_RW_LABELS", OK: true},
	{Env: "K6_PROMETHEUS_RW_PUSH_INTERVAL", OK: true},
	{Env: "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", OK: true},
	{Env: "K6_PROMETHEUS_RW_TREND_STATS", OK: true, Note: "a `count` stat is a number of values, not converted to seconds (k6 divides it by 1000 for time metrics)"},
	{Env: "K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY", OK: true},
	{Env: "K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION", OK: true},
	{Env: "K6_PROMETHEUS_RW_STALE_MARKERS", OK: true},
	{Env: "K6_PROMETHEUS_RW_USERNAME", OK: true},
	{Env: "K6_PROMETHEUS_RW_PASSWORD", OK: true},
	{Env: "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE", OK: true},
	{Env: "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY", OK: true},
	{Env: "K6_PROMETHEUS_RW_BEARER_TOKEN", OK: true},
	{Env: "K6_PROMETHEUS_RW_SIGV4_REGION", Note: noteSigV4},
	{Env: "K6_PROMETHEUS_RW_SIGV4_ACCESS_KEY", Note: noteSigV4},
	{Env: "K6_PROMETHEUS_RW_SIGV4_SECRET_KEY", Note: noteSigV4},
	// The OpenTelemetry output (--out opentelemetry).
	{Env: "K6_OTEL_SERVICE_NAME", OK: true, Note: "`OTEL_SERVICE_NAME` is read too, as k6 does"},
	{Env: "K6_OTEL_SERVICE_VERSION", OK: true, Note: "the default is pixelk6's version"},
	{Env: "K6_OTEL_METRIC_PREFIX", OK: true},
	{Env: "K6_OTEL_FLUSH_INTERVAL", OK: true},
	{Env: "K6_OTEL_EXPORT_INTERVAL", OK: true},
	{Env: "K6_OTEL_EXPORTER_PROTOCOL", OK: true, Note: "`grpc` or `http/protobuf`"},
	{Env: "K6_OTEL_EXPORTER_TYPE", OK: true, Note: "k6's older spelling: `grpc` or `http`"},
	{Env: "K6_OTEL_HEADERS", OK: true},
	{Env: "K6_OTEL_TLS_INSECURE_SKIP_VERIFY", OK: true},
	{Env: "K6_OTEL_TLS_CERTIFICATE", OK: true},
	{Env: "K6_OTEL_TLS_CLIENT_CERTIFICATE", OK: true},
	{Env: "K6_OTEL_TLS_CLIENT_KEY", OK: true},
	{Env: "K6_OTEL_GRPC_EXPORTER_ENDPOINT", OK: true},
	{Env: "K6_OTEL_GRPC_EXPORTER_INSECURE", OK: true},
	{Env: "K6_OTEL_HTTP_EXPORTER_ENDPOINT", OK: true},
	{Env: "K6_OTEL_HTTP_EXPORTER_INSECURE", OK: true},
	{Env: "K6_OTEL_HTTP_EXPORTER_URL_PATH", OK: true},
	{Env: "K6_OTEL_SINGLE_COUNTER_FOR_RATE", OK: true},
	// Script and environment.
	{Flag: "env", Short: "e", OK: true},
	{Flag: "include-system-env-vars", Bool: true, Env: "K6_INCLUDE_SYSTEM_ENV_VARS", OK: true},
	{Flag: "compatibility-mode", Env: "K6_COMPATIBILITY_MODE", OK: true, Note: "every mode transpiles with esbuild"},
	{Flag: "type", Short: "t", Env: "K6_TYPE", OK: true, Note: "an archive's remote (https) modules are served from the archive"},
	{Key: "features", Flag: "features", Env: "K6_FEATURES", Note: "no feature flag is implemented yet"},
	{Flag: "secret-source", OK: true, Note: "the file, mock and url sources; secret values are redacted from the logs as in k6"},
	{Flag: "console-output", Env: "K6_CONSOLE_OUTPUT", OK: true},
	// Logging and presentation (k6's global flags).
	{Flag: "log-output", Env: "K6_LOG_OUTPUT", OK: true},
	{Flag: "log-format", Env: "K6_LOG_FORMAT", OK: true},
	{Flag: "logformat", OK: true, Note: "k6's deprecated spelling of `--log-format`"},
	{Flag: "no-color", Bool: true, Env: "K6_NO_COLOR", OK: true},
	{Flag: "quiet", Short: "q", Bool: true, OK: true},
	{Flag: "verbose", Short: "v", Bool: true, OK: true},
	{Flag: "config", Short: "c", Env: "K6_CONFIG", OK: true, Note: "only the file given: pixelk6 reads no default config file"},
	{Flag: "address", Short: "a", Env: "K6_ADDRESS", OK: true, Note: "k6's REST API v1 (status, pause/resume/stop, metrics, groups, setup, teardown; see the README); off unless given, as in k6 v2; a busy port exits 106"},
	{Key: "linger", ConfigOnly: true, Flag: "linger", Short: "l", Bool: true, Env: "K6_LINGER", OK: true, Note: "after the summary pixelk6 waits for Ctrl+C (SIGINT/SIGTERM) and keeps the test's exit code; the REST API (--address) stays up meanwhile"},
	{Flag: "exit-on-running", Bool: true, Note: "not implemented yet"},
	{Flag: "profiling-enabled", Bool: true, Env: "K6_PROFILING_ENABLED", OK: true, Note: "Go's pprof profiles on the REST API's /debug/pprof/, as in k6 (needs --address); K6_PROFILING_ENABLED turns it on whatever its value, as in k6"},
	{Key: "noUsageReport", ConfigOnly: true, Flag: "no-usage-report", Bool: true, Env: "K6_NO_USAGE_REPORT", OK: true, Note: "pixelk6 never sends a usage report"},
	{Key: "noArchiveUpload", ConfigOnly: true, Env: "K6_NO_ARCHIVE_UPLOAD", OK: true, Note: "only for k6 cloud run; nothing to do locally"},
	{Key: "cloud", OK: true, Note: "read by k6's cloud output only, as by `k6 run` without it"},
	{Key: "ext", OK: true, Note: "read by k6's cloud output only, as by `k6 run` without it"},
}

// Where a setting comes from, for refusal messages.
const (
	fromScript  = "script options"
	fromConfig  = "config file"
	fromArchive = "archive's options"
)

// supportByKey indexes supportTable by options key.
func supportByKey() map[string]support {
	m := make(map[string]support, len(supportTable))
	for _, s := range supportTable {
		if s.Key != "" {
			m[s.Key] = s
		}
	}
	return m
}

// checkKeys sorts the keys of a script's or a config file's options into those pixelk6
// refuses (an error naming each, exit code 104) and those k6 does not know (a warning
// each, as k6 prints it; the run continues). Keys whose value is null count as unset.
func checkKeys(keys []string, isNull func(string) bool, from string) (warnings []string, err error) {
	byKey := supportByKey()
	var refused []string
	for _, k := range keys {
		s, known := byKey[k]
		if !known || (s.ConfigOnly && from == fromScript) {
			warnings = append(warnings, k)
			continue
		}
		if !s.OK && !isNull(k) {
			refused = append(refused, k)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		return warnings, refusal(from, refused)
	}
	return warnings, nil
}

// refusedError names the k6 settings pixelk6 does not honour yet, by where they were set
// (exit code 104).
type refusedError struct{ parts []refusedPart }

type refusedPart struct {
	from  string
	names []string
}

// refusal is the error of settings pixelk6 does not honour yet.
func refusal(from string, names []string) error {
	return &refusedError{parts: []refusedPart{{from, names}}}
}

func (e *refusedError) Error() string {
	byName := map[string]string{}
	for _, s := range supportTable {
		for _, n := range []string{s.Key, "--" + s.Flag, s.Env} {
			if n != "" && n != "--" {
				byName[n] = s.Note
			}
		}
	}
	list := func(p refusedPart) string {
		why := make([]string, len(p.names))
		for i, n := range p.names {
			why[i] = fmt.Sprintf("%s (%s)", n, byName[n])
		}
		return strings.Join(why, "; ")
	}
	const head = "pixelk6 does not support these k6 settings"
	const tail = "yet, and will not run a test it would run differently: "
	if len(e.parts) == 1 {
		return head + " of the " + e.parts[0].from + " " + tail + list(e.parts[0])
	}
	parts := make([]string, len(e.parts))
	for i, p := range e.parts {
		parts[i] = p.from + ": " + list(p)
	}
	return head + " " + tail + strings.Join(parts, " | ")
}

// refusals gathers the refusals of several sources (flags, environment, config file,
// script) so that one message names them all.
type refusals struct{ err refusedError }

// add keeps err when it is a refusal and reports whether it was; any other error is the
// caller's.
func (r *refusals) add(err error) bool {
	var re *refusedError
	if !errors.As(err, &re) {
		return false
	}
	r.err.parts = append(r.err.parts, re.parts...)
	return true
}

// Err is the gathered refusal, nil when there is none.
func (r *refusals) Err() error {
	if len(r.err.parts) == 0 {
		return nil
	}
	return &r.err
}

// refusedEnv returns the K6_* variables of env that pixelk6 refuses: set, not empty and
// not their "off" value (offValue), sorted.
func refusedEnv(env map[string]string) []string {
	var out []string
	for _, s := range supportTable {
		if s.OK || s.Env == "" {
			continue
		}
		if v, ok := env[s.Env]; ok && v != "" && !offValue(s, v) {
			out = append(out, s.Env)
		}
	}
	sort.Strings(out)
	return out
}

// offValue reports whether v asks for a refused setting's "off" state, which pixelk6
// honours by doing nothing: false for a switch, "none" for the traces output.
func offValue(s support, v string) bool {
	switch {
	case s.Bool || s.Key == "webDashboard":
		return strings.EqualFold(v, "false") || v == "0"
	case s.Flag == "traces-output":
		return v == "none"
	}
	return false
}

// supportMarkdown renders supportTable as the README's table.
func supportMarkdown() string {
	var b strings.Builder
	b.WriteString("| flag | K6_* variable | options key | pixelk6 | difference or reason |\n|---|---|---|---|---|\n")
	code := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	for _, s := range supportTable {
		flag := ""
		if s.Flag != "" {
			flag = "--" + s.Flag
			if s.Short != "" {
				flag = "-" + s.Short + ", " + flag
			}
		}
		key := code(s.Key)
		if s.ConfigOnly {
			key += " (config file)"
		}
		status := "supported"
		if !s.OK {
			status = "refused (exit 104)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(flag), code(s.Env), key, status, s.Note)
	}
	return b.String()
}

// collectorsOutputs are the outputs whose k6 config-file settings (collectors.NAME)
// pixelk6 does not read: it takes their settings from K6_* variables and the --out argument.
var collectorsOutputs = []string{"influxdb", "experimental-prometheus-rw", "opentelemetry", "experimental-opentelemetry"}

// refusedCollectors returns the collectors.NAME entries of o that pixelk6 would ignore
// (exit 104 names them).
func refusedCollectors(o options) []string {
	raw, ok := o.Other["collectors"]
	if !ok {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for _, name := range collectorsOutputs {
		if v, ok := m[name]; ok && string(v) != "null" {
			out = append(out, "collectors."+name)
		}
	}
	return out
}

// noEffectWarnings are the warnings for the settings of o (script or config file) and env
// that pixelk6 accepts but that change nothing in it (support.NoEffect).
func noEffectWarnings(o options, env map[string]string) []string {
	var out []string
	for _, s := range supportTable {
		if !s.NoEffect {
			continue
		}
		_, inOptions := o.Other[s.Key]
		if inOptions || (s.Env != "" && env[s.Env] != "") {
			out = append(out, fmt.Sprintf("%s is accepted but has no effect in pixelk6", s.Key))
		}
	}
	return out
}
