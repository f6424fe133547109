package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TestHTTPOptionTiers checks that every HTTP client option reaches k6/http (modules.Options)
// from each place k6 reads it: flags, K6_* variables, the config file and the script, with
// k6's precedence.
func TestHTTPOptionTiers(t *testing.T) {
	intp := func(n int) *int { return &n }
	tests := []struct {
		name    string
		args    []string
		environ []string
		opts    string
		want    func(m *modules.Options)
	}{
		{name: "flags", args: []string{"--rps", "7", "--batch", "3", "--batch-per-host", "0", "--max-redirects", "0",
			"--no-connection-reuse", "--no-vu-connection-reuse", "--discard-response-bodies", "-w",
			"--block-hostnames", "*.a.test,b.test", "--blacklist-ip", "10.0.0.0/8", "--blacklist-ip", "192.168.0.1"},
			want: func(m *modules.Options) {
				m.RPS, m.Batch, m.BatchPerHost, m.BatchPerHostSet, m.MaxRedirects = 7, 3, 0, true, intp(0)
				m.NoConnectionReuse, m.NoVUConnectionReuse, m.DiscardResponseBodies, m.Throw = true, true, true, true
				m.BlockHostnames, m.BlacklistIPs = []string{"*.a.test", "b.test"}, []string{"10.0.0.0/8", "192.168.0.1"}
			}},
		{name: "environment", environ: []string{"K6_RPS=7", "K6_BATCH=3", "K6_BATCH_PER_HOST=2", "K6_MAX_REDIRECTS=1",
			"K6_NO_CONNECTION_REUSE=true", "K6_NO_VU_CONNECTION_REUSE=1", "K6_DISCARD_RESPONSE_BODIES=true", "K6_THROW=true",
			"K6_BLOCK_HOSTNAMES=*.a.test", "K6_BLACKLIST_IPS=10.0.0.0/8", `K6_HOSTS={"h.test":"127.0.0.1"}`,
			"K6_TLS_CIPHER_SUITES=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			want: func(m *modules.Options) {
				m.RPS, m.Batch, m.BatchPerHost, m.BatchPerHostSet, m.MaxRedirects = 7, 3, 2, true, intp(1)
				m.NoConnectionReuse, m.NoVUConnectionReuse, m.DiscardResponseBodies, m.Throw = true, true, true, true
				m.BlockHostnames, m.BlacklistIPs = []string{"*.a.test"}, []string{"10.0.0.0/8"}
				m.Hosts = map[string]string{"h.test": "127.0.0.1"}
				m.TLSCipherSuites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}
			}},
		{name: "script", opts: `{"rps":7,"batch":3,"batchPerHost":2,"maxRedirects":1,"noConnectionReuse":true,"noVUConnectionReuse":true,` +
			`"discardResponseBodies":true,"throw":true,"hosts":{"h.test":"127.0.0.1:8080"},"blockHostnames":["*.a.test"],"blacklistIPs":["10.0.0.0/8"],` +
			`"tlsVersion":{"min":"tls1.2","max":"tls1.3"},"tlsCipherSuites":["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}`,
			want: func(m *modules.Options) {
				m.RPS, m.Batch, m.BatchPerHost, m.BatchPerHostSet, m.MaxRedirects = 7, 3, 2, true, intp(1)
				m.NoConnectionReuse, m.NoVUConnectionReuse, m.DiscardResponseBodies, m.Throw = true, true, true, true
				m.BlockHostnames, m.BlacklistIPs = []string{"*.a.test"}, []string{"10.0.0.0/8"}
				m.Hosts = map[string]string{"h.test": "127.0.0.1:8080"}
				m.TLSVersionMin, m.TLSVersionMax = "tls1.2", "tls1.3"
				m.TLSCipherSuites = []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}
			}},
		{name: "dns and local-ips flags", args: []string{"--local-ips", "127.0.0.2-127.0.0.3,10.0.0.0/30", "--dns", "ttl=1m,select=first"},
			want: func(m *modules.Options) {
				m.LocalIPs, m.DNS = []string{"127.0.0.2-127.0.0.3", "10.0.0.0/30"}, modules.DNS{TTL: "1m", Select: "first"}
			}},
		{name: "dns and local-ips variables", environ: []string{"K6_LOCAL_IPS=127.0.0.2", "K6_DNS=policy=onlyIPv4"},
			want: func(m *modules.Options) { m.LocalIPs, m.DNS = []string{"127.0.0.2"}, modules.DNS{Policy: "onlyIPv4"} }},
		{name: "dns in the script, ttl in ms", opts: `{"dns":{"ttl":60000,"select":"roundRobin","policy":null}}`,
			want: func(m *modules.Options) { m.DNS = modules.DNS{TTL: "60000", Select: "roundRobin"} }},
		{name: "one tlsVersion is min and max", opts: `{"tlsVersion":"tls1.2"}`,
			want: func(m *modules.Options) { m.TLSVersionMin, m.TLSVersionMax = "tls1.2", "tls1.2" }},
		{name: "flag over environment over script", args: []string{"--rps", "3"}, environ: []string{"K6_RPS=2", "K6_THROW=false"},
			opts: `{"rps":1,"throw":true,"maxRedirects":4}`,
			want: func(m *modules.Options) { m.RPS, m.MaxRedirects = 3, intp(4) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == "" {
				opts = `{}`
			}
			args := append(append([]string{"run", "-q", "--no-summary", "-i", "1"}, tc.args...), "x.js")
			r := runCLI(t, args, opts, tc.environ, nil)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			var want modules.Options
			tc.want(&want)
			got := r.fr.modOpts
			got.SystemTags, got.UserAgent = nil, ""
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("modules.Options (-want +got):\n%s", d)
			}
		})
	}
}

// TestInvalidHTTPOptions: a bad value of an HTTP option fails the run (exit 104) naming it.
func TestInvalidHTTPOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		opts    string
		want    string
	}{
		{name: "negative rps", opts: `{"rps":-1}`, want: "rps -1"},
		{name: "negative maxRedirects", args: []string{"--max-redirects", "-2"}, want: "maxRedirects -2"},
		{name: "bad blacklist range", args: []string{"--blacklist-ip", "10.0.0/8"}, want: `10.0.0/8`},
		{name: "bad block pattern", opts: `{"blockHostnames":["a.*.test"]}`, want: `pattern \"a.*.test`},
		{name: "hosts to a bad name", opts: `{"hosts":{"a.test":"b test"}}`, want: `b test\" is not an IP`},
		{name: "hosts to a bad port", opts: `{"hosts":{"a.test":"127.0.0.1:http"}}`, want: `bad port`},
		{name: "bad tlsVersion", opts: `{"tlsVersion":"tls2"}`, want: `tlsVersion \"tls2`},
		{name: "bad cipher suite", opts: `{"tlsCipherSuites":["TLS_X"]}`, want: `TLS_X`},
		{name: "bad tlsAuth", opts: `{"tlsAuth":[{"domains":["a.test"],"cert":"x","key":"y"}]}`, want: "tlsAuth"},
		{name: "K6_HOSTS not JSON", environ: []string{"K6_HOSTS=a.test=127.0.0.1"}, want: "K6_HOSTS"},
		{name: "bad --dns", args: []string{"--dns", "select=last"}, want: "select"},
		{name: "bad dns policy", opts: `{"dns":{"policy":"v4"}}`, want: "policy"},
		{name: "bad --local-ips", args: []string{"--local-ips", "127.0.0.9-127.0.0.1"}, want: "127.0.0.9-127.0.0.1"},
		{name: "K6_RPS not a number", environ: []string{"K6_RPS=fast"}, want: `K6_RPS=\"fast`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == "" {
				opts = `{}`
			}
			r := runCLI(t, append(append([]string{"run", "-q", "-i", "1"}, tc.args...), "x.js"), opts, tc.environ, nil)
			if r.code != 104 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want 104 with %q:\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
}
