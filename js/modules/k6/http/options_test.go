package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/js/modules"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// optServer is a loopback server that counts the connections it accepts and the most
// requests it has in flight at once.
type optServer struct {
	srv                 *httptest.Server
	accepted            atomic.Int64
	mu                  sync.Mutex
	inFlight, maxFlight int
}

func newOptServer(t *testing.T) *optServer {
	t.Helper()
	s := &optServer{}
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/ok", func(w gohttp.ResponseWriter, r *gohttp.Request) { _, _ = w.Write([]byte("hello")) })
	mux.HandleFunc("/ip", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		_, _ = w.Write([]byte(host))
	})
	mux.HandleFunc("/redirect", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.Redirect(w, r, "/ok", gohttp.StatusFound)
	})
	mux.HandleFunc("/slow", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		s.mu.Lock()
		s.inFlight++
		s.maxFlight = max(s.maxFlight, s.inFlight)
		s.mu.Unlock()
		time.Sleep(30 * time.Millisecond) // lets the batch's other requests arrive meanwhile
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
		_, _ = w.Write([]byte("slow"))
	})
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ConnState = func(_ net.Conn, st gohttp.ConnState) {
		if st == gohttp.StateNew {
			s.accepted.Add(1)
		}
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *optServer) port() string {
	_, p, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	return p
}

// paths are the two request paths every option must work on.
var paths = []struct {
	name    string
	netHTTP bool
}{{"fast path", false}, {"net/http", true}}

// runWith runs iterations of body on one VU whose options are opts, through the fast path
// or net/http only, and returns the harness and the last iteration's error.
func runWith(t *testing.T, opts modules.Options, netHTTP bool, iterations int, env map[string]string, body string) (*jstest.Harness, error) {
	t.Helper()
	h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () {\n"+body+"\n}\n", env)
	st := h.State(1)
	st.Options = opts
	if netHTTP {
		httpmod.UseNetHTTPOnly(st)
	}
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	for range iterations {
		if err = v.RunIteration(context.Background(), "default", nil); err != nil {
			break
		}
	}
	return h, err
}

// TestHTTPOptions checks the observable effect of each of the HTTP client's options against
// a loopback server, on both request paths.
func TestHTTPOptions(t *testing.T) {
	zero := 0
	closed := closedPort(t)
	tests := []struct {
		name       string
		opts       modules.Options
		iterations int
		script     string
		wantErr    string // a substring of the iteration's error; "" for none
		check      func(t *testing.T, s *optServer, h *jstest.Harness)
	}{
		{name: "maxRedirects 0 stops at the 302", opts: modules.Options{MaxRedirects: &zero},
			script: "const r = http.get(`${__ENV.BASE}/redirect`);\nif (r.status !== 302) throw new Error('status ' + r.status);\n" +
				"const f = http.get(`${__ENV.BASE}/redirect`, { redirects: 1 });\nif (f.status !== 200) throw new Error('params.redirects: status ' + f.status);"},
		{name: "default follows redirects",
			script: "const r = http.get(`${__ENV.BASE}/redirect`);\nif (r.status !== 200) throw new Error('status ' + r.status);"},
		{name: "discardResponseBodies gives a null body", opts: modules.Options{DiscardResponseBodies: true},
			script: "const r = http.get(`${__ENV.BASE}/ok`);\nif (r.body !== null) throw new Error('body ' + r.body);\n" +
				"const t = http.get(`${__ENV.BASE}/ok`, { responseType: 'text' });\nif (t.body !== 'hello') throw new Error('responseType text: ' + t.body);"},
		{name: "throw makes a network error throw", opts: modules.Options{Throw: true},
			script: "http.get(`" + closed + "/ok`);", wantErr: "connection refused"},
		{name: "without throw a network error does not throw",
			script: "const r = http.get(`" + closed + "/ok`);\nif (r.error_code !== 1212) throw new Error('error_code ' + r.error_code);"},
		{name: "throw does not throw on an HTTP error status", opts: modules.Options{Throw: true},
			script: "const r = http.get(`${__ENV.BASE}/nope`);\nif (r.status !== 404) throw new Error('status ' + r.status);"},
		{name: "connections are reused by default",
			script: "for (let i = 0; i < 3; i++) http.get(`${__ENV.BASE}/ok`);", iterations: 2,
			check: func(t *testing.T, s *optServer, _ *jstest.Harness) { wantAccepted(t, s, 1) }},
		{name: "noConnectionReuse opens a connection per request", opts: modules.Options{NoConnectionReuse: true},
			script: "for (let i = 0; i < 3; i++) { const r = http.get(`${__ENV.BASE}/ok`); if (r.body !== 'hello') throw new Error(r.body); }",
			check:  func(t *testing.T, s *optServer, _ *jstest.Harness) { wantAccepted(t, s, 3) }},
		{name: "noVUConnectionReuse opens a connection per iteration", opts: modules.Options{NoVUConnectionReuse: true},
			script: "for (let i = 0; i < 3; i++) http.get(`${__ENV.BASE}/ok`);", iterations: 2,
			check: func(t *testing.T, s *optServer, _ *jstest.Harness) { wantAccepted(t, s, 2) }},
		{name: "hosts sends a name to the loopback server without DNS",
			opts: modules.Options{Hosts: map[string]string{"myhost.test": "127.0.0.1", "*.wild.test": "127.0.0.1", "mapped.test:80": "127.0.0.1:PORT", "alias.test": "localhost"}},
			script: "for (const u of [`http://myhost.test:${__ENV.PORT}/ok`, `http://a.b.wild.test:${__ENV.PORT}/ok`, 'http://mapped.test/ok', `http://MyHost.test:${__ENV.PORT}/ok`, `http://alias.test:${__ENV.PORT}/ok`]) {\n" +
				"  const r = http.get(u);\n  if (r.status !== 200 || r.body !== 'hello') throw new Error(u + ': ' + r.status + ' ' + r.error);\n}"},
		{name: "blockHostnames yields error code 1111", opts: modules.Options{BlockHostnames: []string{"*.blocked.test", "exact.test"}, Hosts: map[string]string{"ok.test": "127.0.0.1"}},
			script: "for (const u of [`http://x.blocked.test:${__ENV.PORT}/ok`, `http://exact.test:${__ENV.PORT}/ok`]) {\n" +
				"  const r = http.get(u);\n  if (r.error_code !== 1111 || !r.error.includes('blocked')) throw new Error(u + ': ' + r.error_code + ' ' + r.error);\n}\n" +
				"if (http.get(`http://ok.test:${__ENV.PORT}/ok`).status !== 200) throw new Error('ok.test blocked');",
			check: func(t *testing.T, s *optServer, h *jstest.Harness) {
				wantAccepted(t, s, 1)
				if c, _ := h.Samples.Metric("http_reqs")[0].Tags.Get("error_code"); c != "1111" {
					t.Errorf("error_code tag %q", c)
				}
			}},
		{name: "blacklistIPs yields error code 1110", opts: modules.Options{BlacklistIPs: []string{"127.0.0.0/8"}, Hosts: map[string]string{"named.test": "127.0.0.1"}},
			script: "for (const u of [`${__ENV.BASE}/ok`, `http://named.test:${__ENV.PORT}/ok`]) {\n" +
				"  const r = http.get(u);\n  if (r.error_code !== 1110 || !r.error.includes('127.0.0.0/8')) throw new Error(u + ': ' + r.error_code + ' ' + r.error);\n}",
			check: func(t *testing.T, s *optServer, _ *jstest.Harness) { wantAccepted(t, s, 0) }},
		{name: "local-ips sends from the VU's address", opts: modules.Options{LocalIPs: []string{"127.0.0.2-127.0.0.3"}},
			script: "const r = http.get(`${__ENV.BASE}/ip`);\nif (r.body !== '127.0.0.2') throw new Error('from ' + r.body + ' ' + r.error);"},
		{name: "dns onlyIPv4 reaches the IPv4 server", opts: modules.Options{DNS: modules.DNS{TTL: "1m", Select: "first", Policy: "onlyIPv4"}},
			script: "for (let i = 0; i < 2; i++) { const r = http.get(`http://localhost:${__ENV.PORT}/ip`); if (r.body !== '127.0.0.1') throw new Error(r.status + ' ' + r.error); }"},
		{name: "dns onlyIPv6 does not reach the IPv4 server", opts: modules.Options{DNS: modules.DNS{Policy: "onlyIPv6"}},
			script: "const r = http.get(`http://localhost:${__ENV.PORT}/ip`);\nif (r.status !== 0 || r.error_code === 0) throw new Error(r.status + ' ' + r.body);",
			check:  func(t *testing.T, s *optServer, _ *jstest.Harness) { wantAccepted(t, s, 0) }},
		{name: "batch bounds http.batch's parallelism", opts: modules.Options{Batch: 2},
			script: "const rs = http.batch(Array(6).fill(`${__ENV.BASE}/slow`));\nif (rs.some((r) => r.body !== 'slow')) throw new Error('body');",
			check:  func(t *testing.T, s *optServer, _ *jstest.Harness) { wantMaxFlight(t, s, 2) }},
		{name: "batchPerHost bounds it per host", opts: modules.Options{Batch: 20, BatchPerHost: 3, BatchPerHostSet: true},
			script: "const rs = http.batch(Array(9).fill(`${__ENV.BASE}/slow`));\nif (rs.some((r) => r.body !== 'slow')) throw new Error('body');",
			check:  func(t *testing.T, s *optServer, _ *jstest.Harness) { wantMaxFlight(t, s, 3) }},
	}
	for _, p := range paths {
		for _, tc := range tests {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				s := newOptServer(t)
				opts := tc.opts
				if opts.Hosts != nil {
					hosts := map[string]string{}
					for k, v := range opts.Hosts {
						hosts[k] = strings.ReplaceAll(v, "PORT", s.port())
					}
					opts.Hosts = hosts
				}
				n := max(tc.iterations, 1)
				h, err := runWith(t, opts, p.netHTTP, n, map[string]string{"BASE": s.srv.URL, "PORT": s.port()}, tc.script)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("iteration: %v\n%s", err, h.Logs)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("iteration error %v, want one containing %q", err, tc.wantErr)
				}
				if tc.check != nil {
					tc.check(t, s, h)
				}
			})
		}
	}
}

func wantAccepted(t *testing.T, s *optServer, n int64) {
	t.Helper()
	if got := s.accepted.Load(); got != n {
		t.Errorf("the server accepted %d connections, want %d", got, n)
	}
}

func wantMaxFlight(t *testing.T, s *optServer, limit int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxFlight > limit || s.maxFlight == 0 {
		t.Errorf("at most %d requests in flight, want 1..%d", s.maxFlight, limit)
	}
}

// closedPort returns the base URL of a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestRPSPacesRequests: with rps 2, five requests of one VU span at least 2 s, read from the
// samples' own timestamps (each request may start 500 ms after the previous one; a sample's
// time is its request's end, so the first request's own duration is added back).
func TestRPSPacesRequests(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			s := newOptServer(t)
			h, err := runWith(t, modules.Options{RPS: 2}, p.netHTTP, 1, map[string]string{"BASE": s.srv.URL},
				"for (let i = 0; i < 5; i++) http.get(`${__ENV.BASE}/ok`);")
			if err != nil {
				t.Fatal(err)
			}
			reqs := h.Samples.Metric("http_reqs")
			if len(reqs) != 5 {
				t.Fatalf("%d requests", len(reqs))
			}
			var first time.Duration // the first request's phases, from its samples
			for _, m := range []string{"http_req_blocked", "http_req_connecting", "http_req_duration"} {
				first += time.Duration(h.Samples.Metric(m)[0].Value * float64(time.Millisecond))
			}
			span := reqs[4].Time.Sub(reqs[0].Time) + first
			// The first request's start is rebuilt from its samples, which miss the few µs to
			// ms between its slot and its first timed phase on a busy machine; unpaced, five
			// loopback requests take milliseconds, so 1.9 s is only reached by pacing. The
			// slots' exact arithmetic is TestRateLimiterReserve's.
			if span < 1900*time.Millisecond {
				t.Errorf("5 requests at rps 2 spanned %s, want ≥ 2s", span)
			}
		})
	}
}

// TestRateLimiterReserve: the pacing arithmetic, without a clock.
func TestRateLimiterReserve(t *testing.T) {
	l := httpmod.NewRateLimiter(4) // 250 ms apart
	t0 := time.Unix(1000, 0)
	for i, tc := range []struct {
		at   time.Duration // when reserve is called, after t0
		wait time.Duration
	}{{0, 0}, {0, 250 * time.Millisecond}, {0, 500 * time.Millisecond}, {100 * time.Millisecond, 650 * time.Millisecond},
		{5 * time.Second, 0}, {5 * time.Second, 250 * time.Millisecond}} {
		if got := l.Reserve(t0.Add(tc.at)); got != tc.wait {
			t.Errorf("reserve %d at +%s: wait %s, want %s", i, tc.at, got, tc.wait)
		}
	}
}

// TestHTTPDebug: --http-debug logs each request and response as k6 does (no panic: it
// used to dereference the dump's fake connection), and =full adds the bodies.
func TestHTTPDebug(t *testing.T) {
	for _, mode := range []string{"headers", "full"} {
		t.Run(mode, func(t *testing.T) {
			s := newOptServer(t)
			h, err := runWith(t, modules.Options{HTTPDebug: mode}, false, 1, map[string]string{"BASE": s.srv.URL},
				"const r = http.post(`${__ENV.BASE}/ok`, 'reqbody');\nif (r.body !== 'hello') throw new Error(r.body);")
			if err != nil {
				t.Fatal(err)
			}
			logs := h.Logs.String()
			for _, want := range []string{"Request:\nPOST /ok HTTP/1.1\nHost: 127.0.0.1:", "Response:\nHTTP/1.1 200 OK\n", "Content-Length: 5"} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q:\n%s", want, logs)
				}
			}
			if strings.Contains(logs, "\r") {
				t.Errorf("logs keep CR line ends:\n%q", logs)
			}
			if full := strings.Contains(logs, "reqbody") && strings.Contains(logs, "hello"); full != (mode == "full") {
				t.Errorf("bodies logged: %v, want %v:\n%s", full, mode == "full", logs)
			}
		})
	}
}

// TestTLSOptions: tlsAuth presents the client certificate of the domain to a loopback TLS
// server that requires one; tlsVersion and tlsCipherSuites bound what is negotiated.
func TestTLSOptions(t *testing.T) {
	ca, caKey := newCA(t)
	certPEM, keyPEM := newLeaf(t, ca, caKey, "k6-client")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := httptest.NewUnstartedServer(gohttp.HandlerFunc(func(w gohttp.ResponseWriter, r *gohttp.Request) {
		cn := ""
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "%s %s", cn, tls.CipherSuiteName(r.TLS.CipherSuite))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	auth := []modules.TLSAuth{{Domains: []string{"127.0.0.1"}, Cert: certPEM, Key: keyPEM}}
	tests := []struct {
		name   string
		opts   modules.Options
		script string
	}{
		{"tlsAuth presents the certificate", modules.Options{TLSAuth: auth},
			"const r = http.get(__ENV.BASE);\nif (r.status !== 200 || !r.body.startsWith('k6-client ')) throw new Error(r.status + ' ' + r.body + ' ' + r.error);\n" +
				"if (r.timings.tls_handshaking <= 0) throw new Error('tls_handshaking ' + r.timings.tls_handshaking);\n" +
				"if (r.proto !== 'HTTP/2.0') throw new Error('proto ' + r.proto);"},
		{"without tlsAuth the handshake fails", modules.Options{},
			"const r = http.get(__ENV.BASE);\nif (r.status !== 0 || r.error_code === 0) throw new Error(r.status + ' ' + r.error_code);"},
		{"a certificate for another domain is not sent", modules.Options{TLSAuth: []modules.TLSAuth{{Domains: []string{"example.com"}, Cert: certPEM, Key: keyPEM}}},
			"const r = http.get(__ENV.BASE);\nif (r.status !== 0) throw new Error('status ' + r.status);"},
		{"tlsVersion 1.2 and a cipher suite", modules.Options{TLSAuth: auth, TLSVersionMin: "tls1.2", TLSVersionMax: "tls1.2",
			TLSCipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}},
			"const r = http.get(__ENV.BASE);\nif (r.tls_version !== http.TLS_1_2) throw new Error('tls_version ' + r.tls_version + ' ' + r.error);\n" +
				"if (!r.body.endsWith('_AES_256_GCM_SHA384')) throw new Error('cipher ' + r.body);"},
		{"tlsVersion 1.3 by default", modules.Options{TLSAuth: auth},
			"const r = http.get(__ENV.BASE);\nif (r.tls_version !== http.TLS_1_3) throw new Error('tls_version ' + r.tls_version);"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.InsecureSkipTLSVerify = true // the server's certificate is httptest's
			if err := httpmod.ValidateTLS(opts); err != nil {
				t.Fatal(err)
			}
			h, err := runWith(t, opts, false, 1, map[string]string{"BASE": srv.URL}, tc.script)
			if err != nil {
				t.Fatalf("%v\n%s", err, h.Logs)
			}
		})
	}
}

func TestValidateTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts modules.Options
		want string
	}{
		{"bad version", modules.Options{TLSVersionMin: "tls9"}, `"tls9"`},
		{"min above max", modules.Options{TLSVersionMin: "tls1.3", TLSVersionMax: "tls1.2"}, "above"},
		{"bad cipher", modules.Options{TLSCipherSuites: []string{"TLS_NOPE"}}, `"TLS_NOPE"`},
		{"bad cert", modules.Options{TLSAuth: []modules.TLSAuth{{Domains: []string{"a"}, Cert: "x", Key: "y"}}}, "tlsAuth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := httpmod.ValidateTLS(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

func newLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

// TestRPSSharedByVUs: the rps limit is the run's, not each VU's: two VUs of one run sending
// three requests each at rps 10 take at least 500 ms between the first request's start and
// the last one's (six slots 100 ms apart), from the samples' timestamps.
func TestRPSSharedByVUs(t *testing.T) {
	s := newOptServer(t)
	h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () {\nfor (let i = 0; i < 3; i++) http.get(`${__ENV.BASE}/ok`);\n}\n",
		map[string]string{"BASE": s.srv.URL})
	run := modules.NewRun()
	t.Cleanup(func() { _ = run.Close() })
	start := time.Now()
	var st0 *modules.State
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		st := h.State(uint64(i + 1))
		st.Options = modules.Options{RPS: 10}
		st.Run = run
		if i == 0 {
			st0 = st
		}
		v, err := h.Bundle.NewVU(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(v.Close)
		wg.Add(1)
		go func() { // one VU's iteration; ends with it
			defer wg.Done()
			errs[i] = v.RunIteration(context.Background(), "default", nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	reqs := h.Samples.Metric("http_reqs")
	if len(reqs) != 6 {
		t.Fatalf("%d requests", len(reqs))
	}
	// Every slot is booked at or after start, one interval (100 ms at rps 10) apart: if the
	// six requests went through the run's one limiter, its next free slot is at least six
	// intervals after start. Limiters of each VU's own would leave the run's untouched.
	// Arithmetic on the booked slots, not a measured duration.
	if wait := httpmod.Limiter(st0).Reserve(start); wait < 6*100*time.Millisecond {
		t.Errorf("the run's limiter's next slot is %s after the test's start, want ≥ 600ms (six requests booked on it)", wait)
	}
}
