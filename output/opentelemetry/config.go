package opentelemetry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the output's configuration: k6's defaults, then K6_OTEL_* (and
// OTEL_SERVICE_NAME, as k6 reads it).
type Config struct {
	ServiceName, ServiceVersion string
	// MetricPrefix is put before every metric name ("").
	MetricPrefix string
	// FlushInterval is how often buffered samples are recorded (1 s); ExportInterval how
	// often the SDK exports (10 s).
	FlushInterval, ExportInterval time.Duration
	// Protocol is "grpc" (default) or "http/protobuf".
	Protocol string
	// Headers are sent with every export ("k1=v1,k2=v2").
	Headers map[string]string
	// TLS: skip verification, root CA file, client certificate and key files.
	TLSInsecureSkipVerify                       bool
	TLSCertificate, TLSClientCert, TLSClientKey string
	// GRPCEndpoint (localhost:4317) and HTTPEndpoint (localhost:4318) are host:port;
	// HTTPURLPath is /v1/metrics. The Insecure flags use plain text instead of TLS.
	GRPCEndpoint, HTTPEndpoint, HTTPURLPath string
	GRPCInsecure, HTTPInsecure              bool
	// SingleCounterForRate exports a rate as one counter NAME.total with a condition
	// attribute (zero, nonzero); false: k6's older pair NAME.occurred and NAME.total.
	SingleCounterForRate bool
}

// Env lists the K6_OTEL_* variables the output reads.
var Env = []string{
	"K6_OTEL_SERVICE_NAME", "K6_OTEL_SERVICE_VERSION", "K6_OTEL_METRIC_PREFIX", "K6_OTEL_FLUSH_INTERVAL", "K6_OTEL_EXPORT_INTERVAL",
	"K6_OTEL_EXPORTER_PROTOCOL", "K6_OTEL_EXPORTER_TYPE", "K6_OTEL_HEADERS", "K6_OTEL_TLS_INSECURE_SKIP_VERIFY", "K6_OTEL_TLS_CERTIFICATE",
	"K6_OTEL_TLS_CLIENT_CERTIFICATE", "K6_OTEL_TLS_CLIENT_KEY", "K6_OTEL_GRPC_EXPORTER_ENDPOINT", "K6_OTEL_GRPC_EXPORTER_INSECURE",
	"K6_OTEL_HTTP_EXPORTER_ENDPOINT", "K6_OTEL_HTTP_EXPORTER_INSECURE", "K6_OTEL_HTTP_EXPORTER_URL_PATH", "K6_OTEL_SINGLE_COUNTER_FOR_RATE",
}

// ParseConfig reads the configuration from env; version is the default service version.
func ParseConfig(env map[string]string, version string) (Config, error) {
	c := Config{ServiceName: "k6", ServiceVersion: version, FlushInterval: time.Second, ExportInterval: 10 * time.Second,
		Protocol: "grpc", GRPCEndpoint: "localhost:4317", HTTPEndpoint: "localhost:4318", HTTPURLPath: "/v1/metrics",
		SingleCounterForRate: true, Headers: map[string]string{}}
	if v := env["OTEL_SERVICE_NAME"]; v != "" {
		c.ServiceName = v
	}
	get := func(k string) string { return env["K6_OTEL_"+k] }
	var err error
	str := func(k string, dst *string) {
		if v := get(k); v != "" {
			*dst = v
		}
	}
	boolean := func(k string, dst *bool) {
		if v := get(k); v != "" && err == nil {
			if *dst, err = strconv.ParseBool(v); err != nil {
				err = fmt.Errorf("K6_OTEL_%s=%q: %w", k, v, err)
			}
		}
	}
	dur := func(k string, dst *time.Duration) {
		if v := get(k); v != "" && err == nil {
			d, perr := time.ParseDuration(v)
			if perr != nil || d <= 0 {
				err = fmt.Errorf("K6_OTEL_%s=%q: want a positive duration such as 1s", k, v)
				return
			}
			*dst = d
		}
	}
	str("SERVICE_NAME", &c.ServiceName)
	str("SERVICE_VERSION", &c.ServiceVersion)
	str("METRIC_PREFIX", &c.MetricPrefix)
	dur("FLUSH_INTERVAL", &c.FlushInterval)
	dur("EXPORT_INTERVAL", &c.ExportInterval)
	boolean("TLS_INSECURE_SKIP_VERIFY", &c.TLSInsecureSkipVerify)
	str("TLS_CERTIFICATE", &c.TLSCertificate)
	str("TLS_CLIENT_CERTIFICATE", &c.TLSClientCert)
	str("TLS_CLIENT_KEY", &c.TLSClientKey)
	str("GRPC_EXPORTER_ENDPOINT", &c.GRPCEndpoint)
	boolean("GRPC_EXPORTER_INSECURE", &c.GRPCInsecure)
	str("HTTP_EXPORTER_ENDPOINT", &c.HTTPEndpoint)
	boolean("HTTP_EXPORTER_INSECURE", &c.HTTPInsecure)
	str("HTTP_EXPORTER_URL_PATH", &c.HTTPURLPath)
	boolean("SINGLE_COUNTER_FOR_RATE", &c.SingleCounterForRate)
	if err != nil {
		return c, err
	}
	// K6_OTEL_EXPORTER_TYPE (grpc, http) is k6's older spelling of K6_OTEL_EXPORTER_PROTOCOL.
	if v := get("EXPORTER_TYPE"); v != "" {
		switch v {
		case "grpc":
			c.Protocol = "grpc"
		case "http":
			c.Protocol = "http/protobuf"
		default:
			return c, fmt.Errorf("K6_OTEL_EXPORTER_TYPE=%q: want grpc or http", v)
		}
	}
	if v := get("EXPORTER_PROTOCOL"); v != "" {
		if v != "grpc" && v != "http/protobuf" {
			return c, fmt.Errorf("K6_OTEL_EXPORTER_PROTOCOL=%q: want grpc or http/protobuf", v)
		}
		c.Protocol = v
	}
	if c.ServiceName == "" {
		return c, fmt.Errorf("K6_OTEL_SERVICE_NAME: the service name must not be empty")
	}
	if strings.Contains(c.HTTPEndpoint, "://") {
		return c, fmt.Errorf("K6_OTEL_HTTP_EXPORTER_ENDPOINT=%q: want host:port only, no scheme", c.HTTPEndpoint)
	}
	if (c.TLSClientCert == "") != (c.TLSClientKey == "") {
		return c, fmt.Errorf("K6_OTEL_TLS_CLIENT_CERTIFICATE and K6_OTEL_TLS_CLIENT_KEY go together")
	}
	if v := get("HEADERS"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return c, fmt.Errorf("K6_OTEL_HEADERS: %q is not KEY=VALUE", kv)
			}
			c.Headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return c, nil
}
