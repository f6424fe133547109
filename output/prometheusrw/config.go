package prometheusrw

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Config is the output's configuration: k6's defaults, then K6_PROMETHEUS_RW_*.
type Config struct {
	// ServerURL is the remote-write endpoint (http://localhost:9090/api/v1/write).
	ServerURL string
	// Headers are added to every request (K6_PROMETHEUS_RW_HEADERS_<NAME> and
	// K6_PROMETHEUS_RW_HTTP_HEADERS).
	Headers map[string]string
	// Labels are static labels added to every series (a series' own label wins).
	Labels map[string]string
	// PushInterval is how often series are sent (5 s).
	PushInterval time.Duration
	// TrendAsNativeHistogram sends trends as native histograms instead of TrendStats.
	TrendAsNativeHistogram bool
	// TrendStats are the trend stats sent as gauges (p(99)).
	TrendStats []string
	// InsecureSkipTLSVerify, TLSMinVersion ("1.2" or "1.3"), ClientCert and ClientKey
	// (PEM files) configure TLS.
	InsecureSkipTLSVerify bool
	TLSMinVersion         string
	ClientCert, ClientKey string
	// StaleMarkers marks every series stale at the end of the test.
	StaleMarkers bool
	// Username and Password are for HTTP Basic authentication, BearerToken for a bearer
	// Authorization header.
	Username, Password, BearerToken string
}

// Env lists the K6_PROMETHEUS_RW_* variables the output reads (plus the
// K6_PROMETHEUS_RW_HEADERS_<NAME> family).
var Env = []string{
	"K6_PROMETHEUS_RW_SERVER_URL", "K6_PROMETHEUS_RW_HTTP_HEADERS", "K6_PROMETHEUS_RW_LABELS", "K6_PROMETHEUS_RW_PUSH_INTERVAL",
	"K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "K6_PROMETHEUS_RW_TREND_STATS", "K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY",
	"K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION", "K6_PROMETHEUS_RW_STALE_MARKERS", "K6_PROMETHEUS_RW_USERNAME", "K6_PROMETHEUS_RW_PASSWORD",
	"K6_PROMETHEUS_RW_CLIENT_CERTIFICATE", "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY", "K6_PROMETHEUS_RW_BEARER_TOKEN",
}

// Refused lists the K6_PROMETHEUS_RW_* variables pixelk6 does not honour (AWS SigV4
// signing); setting one fails the run.
var Refused = []string{"K6_PROMETHEUS_RW_SIGV4_REGION", "K6_PROMETHEUS_RW_SIGV4_ACCESS_KEY", "K6_PROMETHEUS_RW_SIGV4_SECRET_KEY"}

const headersPrefix = "K6_PROMETHEUS_RW_HEADERS_"

// ParseConfig reads the configuration from env; arg, the --out argument, is the server
// URL when given.
func ParseConfig(arg string, env map[string]string) (Config, error) {
	c := Config{ServerURL: "http://localhost:9090/api/v1/write", PushInterval: 5 * time.Second, TrendStats: []string{"p(99)"},
		Headers: map[string]string{}, Labels: map[string]string{}, TLSMinVersion: "1.3"}
	for _, k := range Refused {
		if env[k] != "" {
			return c, fmt.Errorf("%s: AWS SigV4 signing is not supported by pixelk6's experimental-prometheus-rw output", k)
		}
	}
	var err error
	get := func(k string) string { return env["K6_PROMETHEUS_RW_"+k] }
	boolean := func(k string, dst *bool) {
		if v := get(k); v != "" && err == nil {
			if *dst, err = strconv.ParseBool(v); err != nil {
				err = fmt.Errorf("K6_PROMETHEUS_RW_%s=%q: %w", k, v, err)
			}
		}
	}
	if v := get("SERVER_URL"); v != "" {
		c.ServerURL = v
	}
	if arg != "" {
		c.ServerURL = arg
	}
	if u, perr := url.Parse(c.ServerURL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("invalid Prometheus remote-write URL %q: want http(s)://HOST:PORT/PATH", c.ServerURL)
	}
	if v := get("PUSH_INTERVAL"); v != "" {
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 {
			return c, fmt.Errorf("K6_PROMETHEUS_RW_PUSH_INTERVAL=%q: want a positive duration such as 5s", v)
		}
		c.PushInterval = d
	}
	boolean("TREND_AS_NATIVE_HISTOGRAM", &c.TrendAsNativeHistogram)
	boolean("INSECURE_SKIP_TLS_VERIFY", &c.InsecureSkipTLSVerify)
	boolean("STALE_MARKERS", &c.StaleMarkers)
	if err != nil {
		return c, err
	}
	if v := get("TREND_STATS"); v != "" {
		c.TrendStats = nil
		for _, st := range strings.Split(v, ",") {
			st = strings.TrimSpace(st)
			if st == "sum" || st == "count" {
				c.TrendStats = append(c.TrendStats, st)
				continue
			}
			if _, perr := metrics.ParseAggregation(st); perr != nil {
				return c, fmt.Errorf("K6_PROMETHEUS_RW_TREND_STATS: %q: %w", st, perr)
			}
			c.TrendStats = append(c.TrendStats, st)
		}
	}
	if v := get("TLS_MINIMUM_VERSION"); v != "" {
		if v != "1.2" && v != "1.3" {
			return c, fmt.Errorf("K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION=%q: want 1.2 or 1.3", v)
		}
		c.TLSMinVersion = v
	}
	c.Username, c.Password, c.BearerToken = get("USERNAME"), get("PASSWORD"), get("BEARER_TOKEN")
	c.ClientCert, c.ClientKey = get("CLIENT_CERTIFICATE"), get("CLIENT_CERTIFICATE_KEY")
	if (c.ClientCert == "") != (c.ClientKey == "") {
		return c, fmt.Errorf("K6_PROMETHEUS_RW_CLIENT_CERTIFICATE and K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY go together")
	}
	if v := get("HTTP_HEADERS"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return c, fmt.Errorf("K6_PROMETHEUS_RW_HTTP_HEADERS: %q is not KEY:VALUE", kv)
			}
			c.Headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, headersPrefix); ok && name != "" {
			c.Headers[name] = env[k]
		}
	}
	if v := get("LABELS"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				return c, fmt.Errorf("K6_PROMETHEUS_RW_LABELS: %q is not KEY=VALUE", kv)
			}
			k, val = strings.TrimSpace(k), strings.TrimSpace(val)
			if k != "" && val != "" && k != "__name__" {
				c.Labels[k] = val
			}
		}
	}
	return c, nil
}
