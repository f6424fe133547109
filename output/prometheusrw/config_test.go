package prometheusrw

import (
	"slices"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		arg   string
		env   map[string]string
		check func(Config) bool
		err   bool
	}{
		{"defaults", "", nil, func(c Config) bool {
			return c.ServerURL == "http://localhost:9090/api/v1/write" && c.PushInterval == 5*time.Second &&
				slices.Equal(c.TrendStats, []string{"p(99)"}) && !c.TrendAsNativeHistogram && !c.StaleMarkers
		}, false},
		{"argument is the URL", "http://h:1/w", map[string]string{"K6_PROMETHEUS_RW_SERVER_URL": "http://x:2/w"}, func(c Config) bool { return c.ServerURL == "http://h:1/w" }, false},
		{"everything", "", map[string]string{
			"K6_PROMETHEUS_RW_SERVER_URL": "https://h:1/w", "K6_PROMETHEUS_RW_PUSH_INTERVAL": "250ms",
			"K6_PROMETHEUS_RW_TREND_STATS": "p(95), p(99.9),avg,count,sum", "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM": "true",
			"K6_PROMETHEUS_RW_STALE_MARKERS": "true", "K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY": "true", "K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION": "1.2",
			"K6_PROMETHEUS_RW_USERNAME": "u", "K6_PROMETHEUS_RW_PASSWORD": "p", "K6_PROMETHEUS_RW_BEARER_TOKEN": "tok",
			"K6_PROMETHEUS_RW_HTTP_HEADERS": "A:1, B : 2", "K6_PROMETHEUS_RW_HEADERS_X-Custom": "c", "K6_PROMETHEUS_RW_LABELS": "env=prod,__name__=x,empty=",
		}, func(c Config) bool {
			return c.ServerURL == "https://h:1/w" && c.PushInterval == 250*time.Millisecond &&
				slices.Equal(c.TrendStats, []string{"p(95)", "p(99.9)", "avg", "count", "sum"}) && c.TrendAsNativeHistogram && c.StaleMarkers &&
				c.InsecureSkipTLSVerify && c.TLSMinVersion == "1.2" && c.Username == "u" && c.Password == "p" && c.BearerToken == "tok" &&
				c.Headers["A"] == "1" && c.Headers["B"] == "2" && c.Headers["X-Custom"] == "c" && len(c.Labels) == 1 && c.Labels["env"] == "prod"
		}, false},
		{"bad stat", "", map[string]string{"K6_PROMETHEUS_RW_TREND_STATS": "p99"}, nil, true},
		{"bad bool", "", map[string]string{"K6_PROMETHEUS_RW_STALE_MARKERS": "yes please"}, nil, true},
		{"bad interval", "", map[string]string{"K6_PROMETHEUS_RW_PUSH_INTERVAL": "0s"}, nil, true},
		{"bad url", "localhost:9090", nil, nil, true},
		{"bad tls version", "", map[string]string{"K6_PROMETHEUS_RW_TLS_MINIMUM_VERSION": "1.1"}, nil, true},
		{"cert without key", "", map[string]string{"K6_PROMETHEUS_RW_CLIENT_CERTIFICATE": "c.pem"}, nil, true},
		{"sigv4 refused", "", map[string]string{"K6_PROMETHEUS_RW_SIGV4_REGION": "eu-west-1"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(tc.arg, tc.env)
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

func TestTrendStatNames(t *testing.T) {
	for st, want := range map[string]string{"p(99)": "p99", "p(99.9)": "p999", "p(0.5)": "p05", "avg": "avg", "med": "med", "max": "max", "count": "count", "sum": "sum"} {
		if got := newTrendStat(st).suffix; got != want {
			t.Errorf("%s: suffix %q, want %q", st, got, want)
		}
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{"status": "status", "tag key": "tag_key", "9lives": "_lives", "a9": "a9", "é": "__", "": "_"} {
		if got := labelName(in); got != want {
			t.Errorf("labelName(%q) = %q, want %q", in, got, want)
		}
	}
}
