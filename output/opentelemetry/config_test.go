package opentelemetry

import (
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(Config) bool
		err   bool
	}{
		{"defaults", nil, func(c Config) bool {
			return c.ServiceName == "k6" && c.ServiceVersion == "v1" && c.Protocol == "grpc" && c.GRPCEndpoint == "localhost:4317" &&
				c.HTTPEndpoint == "localhost:4318" && c.HTTPURLPath == "/v1/metrics" && c.FlushInterval == time.Second &&
				c.ExportInterval == 10*time.Second && c.SingleCounterForRate
		}, false},
		{"OTEL_SERVICE_NAME, overridden by K6_OTEL_SERVICE_NAME", map[string]string{"OTEL_SERVICE_NAME": "a", "K6_OTEL_SERVICE_NAME": "b"}, func(c Config) bool { return c.ServiceName == "b" }, false},
		{"OTEL_SERVICE_NAME", map[string]string{"OTEL_SERVICE_NAME": "a"}, func(c Config) bool { return c.ServiceName == "a" }, false},
		{"exporter type http", map[string]string{"K6_OTEL_EXPORTER_TYPE": "http"}, func(c Config) bool { return c.Protocol == "http/protobuf" }, false},
		{"everything", map[string]string{"K6_OTEL_EXPORTER_PROTOCOL": "http/protobuf", "K6_OTEL_METRIC_PREFIX": "k6_", "K6_OTEL_FLUSH_INTERVAL": "100ms",
			"K6_OTEL_EXPORT_INTERVAL": "2s", "K6_OTEL_HEADERS": "a=1,b=2", "K6_OTEL_HTTP_EXPORTER_ENDPOINT": "h:1", "K6_OTEL_HTTP_EXPORTER_INSECURE": "true",
			"K6_OTEL_HTTP_EXPORTER_URL_PATH": "/m", "K6_OTEL_SINGLE_COUNTER_FOR_RATE": "false", "K6_OTEL_SERVICE_VERSION": "v9"},
			func(c Config) bool {
				return c.Protocol == "http/protobuf" && c.MetricPrefix == "k6_" && c.FlushInterval == 100*time.Millisecond && c.ExportInterval == 2*time.Second &&
					c.Headers["a"] == "1" && c.Headers["b"] == "2" && c.HTTPEndpoint == "h:1" && c.HTTPInsecure && c.HTTPURLPath == "/m" &&
					!c.SingleCounterForRate && c.ServiceVersion == "v9"
			}, false},
		{"bad protocol", map[string]string{"K6_OTEL_EXPORTER_PROTOCOL": "http/json"}, nil, true},
		{"bad type", map[string]string{"K6_OTEL_EXPORTER_TYPE": "udp"}, nil, true},
		{"scheme in http endpoint", map[string]string{"K6_OTEL_HTTP_EXPORTER_ENDPOINT": "http://h:1"}, nil, true},
		{"bad interval", map[string]string{"K6_OTEL_EXPORT_INTERVAL": "soon"}, nil, true},
		{"bad headers", map[string]string{"K6_OTEL_HEADERS": "novalue"}, nil, true},
		{"key without cert", map[string]string{"K6_OTEL_TLS_CLIENT_KEY": "k.pem"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(tc.env, "v1")
			if tc.err {
				if err == nil {
					t.Fatalf("no error: %+v", c)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("%+v, %v", c, err)
			}
		})
	}
}
