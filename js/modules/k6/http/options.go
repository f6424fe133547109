package http

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	gohttp "net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// clientConfig is what k6's HTTP options make of a VU's clients: the dialer both clients
// dial with (hosts, blockHostnames, blacklistIPs), the TLS configuration (tlsVersion,
// tlsCipherSuites, insecureSkipTLSVerify), the client certificates by domain (tlsAuth) and
// whether connections are reused (noConnectionReuse).
type clientConfig struct {
	dialer  *netDialer
	tls     *tls.Config
	certs   []clientCert
	noReuse bool
}

// clientCert is one tlsAuth entry, parsed.
type clientCert struct {
	domains []string
	cert    tls.Certificate
}

// newClientConfig builds a VU's client configuration from the options. The command line
// validated them (ValidateTLS); what still does not parse is left out.
func newClientConfig(o modules.Options, vuID uint64) clientConfig {
	cfg := clientConfig{
		dialer:  newNetDialer(o, vuID),
		tls:     &tls.Config{InsecureSkipVerify: o.InsecureSkipTLSVerify}, //nolint:gosec // user option
		noReuse: o.NoConnectionReuse,
	}
	cfg.tls.MinVersion, _ = parseTLSVersion(o.TLSVersionMin)
	cfg.tls.MaxVersion, _ = parseTLSVersion(o.TLSVersionMax)
	cfg.tls.CipherSuites, _ = parseCipherSuites(o.TLSCipherSuites)
	for _, a := range o.TLSAuth {
		if c, err := parseTLSAuth(a); err == nil {
			cfg.certs = append(cfg.certs, c)
		}
	}
	return cfg
}

// addClientCerts makes tr present the tlsAuth certificate of the host it connects to: its
// TLS connections are then made by tlsDial, which picks the certificate by the host name
// (net/http's own TLS dialing has no hook that knows the host). Without tlsAuth, tr is
// left as it is.
func (cfg clientConfig) addClientCerts(tr *gohttp.Transport) {
	if len(cfg.certs) == 0 {
		return
	}
	dial := tr.DialContext
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return cfg.tlsDial(ctx, dial, network, addr)
	}
}

// tlsDial dials addr and makes the TLS handshake with the certificate of addr's host,
// reporting the handshake to the request's trace as net/http would.
func (cfg clientConfig) tlsDial(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := cfg.tls.Clone()
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	tc.NextProtos = []string{"h2", "http/1.1"}
	if c := cfg.certFor(host); c != nil {
		tc.Certificates = []tls.Certificate{*c}
	}
	conn := tls.Client(raw, tc)
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = conn.HandshakeContext(hctx)
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(conn.ConnectionState(), err)
	}
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	return conn, nil
}

// certFor returns the tlsAuth certificate for host: the first entry that lists host or a
// parent domain of it.
func (cfg clientConfig) certFor(host string) *tls.Certificate {
	host = strings.ToLower(host)
	for i := range cfg.certs {
		for _, d := range cfg.certs[i].domains {
			d = strings.ToLower(d)
			if host == d || strings.HasSuffix(host, "."+d) {
				return &cfg.certs[i].cert
			}
		}
	}
	return nil
}

// tlsVersions are k6's names of the TLS versions (http.TLS_1_2 is "tls1.2").
var tlsVersions = map[string]uint16{
	//lint:ignore SA1019 k6 accepts the name; Go refuses the handshake
	"ssl3.0": tls.VersionSSL30,
	"tls1.0": tls.VersionTLS10,
	"tls1.1": tls.VersionTLS11,
	"tls1.2": tls.VersionTLS12,
	"tls1.3": tls.VersionTLS13,
}

// parseTLSVersion reads a tlsVersion name; "" is Go's default (0).
func parseTLSVersion(s string) (uint16, error) {
	if s == "" {
		return 0, nil
	}
	v, ok := tlsVersions[s]
	if !ok {
		return 0, fmt.Errorf("invalid tlsVersion %q: want ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3", s)
	}
	return v, nil
}

// parseCipherSuites reads tlsCipherSuites (Go's and k6's names, e.g.
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); nil for none.
func parseCipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	byName := map[string]uint16{}
	for _, c := range tls.CipherSuites() {
		byName[c.Name] = c.ID
	}
	for _, c := range tls.InsecureCipherSuites() {
		byName[c.Name] = c.ID
	}
	out := make([]uint16, 0, len(names))
	for _, n := range names {
		id, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("invalid tlsCipherSuites: unknown cipher suite %q", n)
		}
		out = append(out, id)
	}
	return out, nil
}

// parseTLSAuth reads a tlsAuth entry: PEM certificate and key, the key possibly encrypted
// with password (legacy PEM encryption, as k6 accepts).
func parseTLSAuth(a modules.TLSAuth) (clientCert, error) {
	keyPEM := []byte(a.Key)
	if a.Password != "" {
		block, _ := pem.Decode(keyPEM)
		if block == nil {
			return clientCert{}, fmt.Errorf("tlsAuth for %v: the key is not PEM", a.Domains)
		}
		//lint:ignore SA1019 legacy PEM encryption is what k6's tlsAuth password decrypts
		der, err := x509.DecryptPEMBlock(block, []byte(a.Password))
		if err != nil {
			return clientCert{}, fmt.Errorf("tlsAuth for %v: decrypting the key: %w", a.Domains, err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
	}
	c, err := tls.X509KeyPair([]byte(a.Cert), keyPEM)
	if err != nil {
		return clientCert{}, fmt.Errorf("tlsAuth for %v: %w", a.Domains, err)
	}
	if len(a.Domains) == 0 {
		return clientCert{}, fmt.Errorf("tlsAuth: an entry without domains")
	}
	return clientCert{domains: a.Domains, cert: c}, nil
}

// ValidateTLS checks the TLS options as the command line reads them (exit code 104 on an
// error): version names, cipher suite names and every tlsAuth entry.
func ValidateTLS(o modules.Options) error {
	minV, err := parseTLSVersion(o.TLSVersionMin)
	if err != nil {
		return err
	}
	maxV, err := parseTLSVersion(o.TLSVersionMax)
	if err != nil {
		return err
	}
	if minV != 0 && maxV != 0 && minV > maxV {
		return fmt.Errorf("invalid tlsVersion: min %s is above max %s", o.TLSVersionMin, o.TLSVersionMax)
	}
	if _, err := parseCipherSuites(o.TLSCipherSuites); err != nil {
		return err
	}
	for _, a := range o.TLSAuth {
		if _, err := parseTLSAuth(a); err != nil {
			return err
		}
	}
	return nil
}

// rateLimiter paces requests to a rate (the rps option) across all VUs of a run: request n
// may start at first + n·interval (k6's limiter with a burst of one). Safe for concurrent use.
type rateLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time // when the next request may start; zero before the first
}

func newRateLimiter(rps int) *rateLimiter {
	return &rateLimiter{interval: time.Second / time.Duration(rps)}
}

// reserve books the next slot at or after now and returns how long to wait for it. Pure
// arithmetic on now: tested without a clock.
func (l *rateLimiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	return slot.Sub(now)
}

// wait blocks until the caller's slot, or until ctx ends (its error). A nil limiter never
// waits.
func (l *rateLimiter) wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	d := l.reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rpsKey is the run value of the run's rate limiter.
type rpsKey struct{}

// limiter returns the run's rate limiter (shared by its VUs), nil without the rps option.
// A State without a Run (built by hand) gets a limiter of its own.
func limiter(st *modules.State) *rateLimiter {
	if st.Options.RPS <= 0 {
		return nil
	}
	if st.Run == nil {
		return newRateLimiter(st.Options.RPS)
	}
	l, err := modules.RunValue(st.Run, rpsKey{}, func() (*rateLimiter, error) { return newRateLimiter(st.Options.RPS), nil })
	if err != nil {
		return newRateLimiter(st.Options.RPS)
	}
	return l
}

// k6's defaults of the batch options.
const (
	defaultBatch        = 20
	defaultBatchPerHost = 6
)

// batchLimits is http.batch's parallelism: at most `batch` requests at once, and at most
// `batchPerHost` to one host (0: no per-host limit).
type batchLimits struct {
	all     chan struct{}
	perHost int
	mu      sync.Mutex
	hosts   map[string]chan struct{}
}

func newBatchLimits(o modules.Options) *batchLimits {
	n := o.Batch
	if n <= 0 {
		n = defaultBatch
	}
	per := o.BatchPerHost
	if !o.BatchPerHostSet {
		per = defaultBatchPerHost
	}
	return &batchLimits{all: make(chan struct{}, n), perHost: per, hosts: map[string]chan struct{}{}}
}

// host returns host's semaphore, nil when there is no per-host limit.
func (b *batchLimits) host(h string) chan struct{} {
	if b.perHost <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.hosts[h]
	if !ok {
		s = make(chan struct{}, b.perHost)
		b.hosts[h] = s
	}
	return s
}

// maxRedirects is how many redirects a request follows by default (the maxRedirects
// option; k6's 10 when unset).
func maxRedirects(o modules.Options) int {
	if o.MaxRedirects == nil {
		return 10
	}
	return *o.MaxRedirects
}

// maxBody is the response body limit: --max-response-body, DefaultMaxResponseBody when
// unset, none when negative.
func maxBody(o modules.Options) int64 {
	if o.MaxResponseBody == 0 {
		return DefaultMaxResponseBody
	}
	return o.MaxResponseBody
}

// NetConfig is what a VU's other network clients (k6/ws) connect with, so that the options
// apply to them as to HTTP: Dial applies hosts, blockHostnames, blacklistIPs, dns and
// --local-ips; TLS applies insecureSkipTLSVerify, tlsVersion and tlsCipherSuites, and holds
// host's tlsAuth certificate. Both are made anew on each call (a WebSocket connects once per
// session).
func NetConfig(st *modules.State, host string) (dial func(ctx context.Context, network, addr string) (net.Conn, error), tlsConf *tls.Config) {
	cfg := newClientConfig(st.Options, st.VUID)
	tc := cfg.tls.Clone()
	if c := cfg.certFor(host); c != nil {
		tc.Certificates = []tls.Certificate{*c}
	}
	return cfg.dialer.DialContext, tc
}
