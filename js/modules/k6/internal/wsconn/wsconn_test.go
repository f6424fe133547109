package wsconn

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/metrics"
)

// ca is a certificate authority made for one test.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pixelk6 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{cert: cert, key: key, pool: pool}
}

// issue returns a certificate signed by the CA and its key, both PEM.
func (c *ca) issue(t *testing.T, cn string, usage x509.ExtKeyUsage, ips ...net.IP) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// echo upgrades (offering permessage-deflate), records the upgrade request, and echoes
// messages until the client closes.
type echo struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.reqs = append(e.reqs, r)
	e.mu.Unlock()
	up := websocket.Upgrader{EnableCompression: true}
	hdr := http.Header{}
	hdr.Add("Set-Cookie", "session=from-server; Path=/")
	c, err := up.Upgrade(w, r, hdr)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, data); err != nil {
			return
		}
	}
}

func (e *echo) last() *http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.reqs) == 0 {
		return nil
	}
	return e.reqs[len(e.reqs)-1]
}

func state(o modules.Options) *modules.State {
	return &modules.State{VUID: 1, Tags: modules.NewTagMap(nil), Options: o, Bytes: &modules.ByteCounter{}}
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/" }

// roundTrip sends msg and reads the echo.
func roundTrip(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadMessage()
	if err != nil || string(got) != msg {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// TestTLSWithASelfMadeCA: wss:// to a server whose certificate a test CA signed fails
// verification, connects with insecureSkipTLSVerify, and reaches a server that requires a
// client certificate only with a tlsAuth entry for its host.
func TestTLSWithASelfMadeCA(t *testing.T) {
	authority := newCA(t)
	srvCert, srvKey := authority.issue(t, "server", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	cliCert, cliKey := authority.issue(t, "client", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair([]byte(srvCert), []byte(srvKey))
	if err != nil {
		t.Fatal(err)
	}
	start := func(auth tls.ClientAuthType) string {
		s := httptest.NewUnstartedServer(&echo{})
		s.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: auth, ClientCAs: authority.pool}
		s.StartTLS()
		t.Cleanup(s.Close)
		return "wss" + strings.TrimPrefix(s.URL, "https") + "/"
	}
	plain, mutual := start(tls.NoClientCert), start(tls.RequireAndVerifyClientCert)
	auth := []modules.TLSAuth{{Domains: []string{"127.0.0.1"}, Cert: cliCert, Key: cliKey}}
	other := []modules.TLSAuth{{Domains: []string{"example.com"}, Cert: cliCert, Key: cliKey}}
	for _, tc := range []struct {
		name string
		url  string
		opts modules.Options
		ok   bool
	}{
		{"unknown authority fails", plain, modules.Options{}, false},
		{"insecureSkipTLSVerify connects", plain, modules.Options{InsecureSkipTLSVerify: true}, true},
		{"client certificate required, none sent", mutual, modules.Options{InsecureSkipTLSVerify: true}, false},
		{"tlsAuth for another domain is not sent", mutual, modules.Options{InsecureSkipTLSVerify: true, TLSAuth: other}, false},
		{"tlsAuth for the host connects", mutual, modules.Options{InsecureSkipTLSVerify: true, TLSAuth: auth}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Dial(context.Background(), state(tc.opts), tc.url, Params{Header: http.Header{}}, metrics.NewTagSet(nil))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want success %v", err, tc.ok)
			}
			if err != nil {
				if st, _ := c.Tags.Get("status"); st != "0" {
					t.Fatalf("status tag %q for a failed TLS handshake, want 0", st)
				}
				return
			}
			defer c.Close()
			defer c.Release()
			if p := c.NetConn().(*tls.Conn).ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
				t.Fatalf("ALPN %q: the upgrade must not offer h2", p)
			}
			roundTrip(t, c.Conn, "over tls")
		})
	}
}

// TestCookies: the jar's cookies for the URL go with the upgrade request, and the upgrade
// response's Set-Cookie lands in the jar.
func TestCookies(t *testing.T) {
	e := &echo{}
	s := httptest.NewServer(e)
	defer s.Close()
	jar := httpmod.NewJar()
	u, _ := url.Parse(s.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "vu", Value: "seven", Path: "/"}})
	c, err := Dial(context.Background(), state(modules.Options{}), wsURL(s), Params{Header: http.Header{}, Jar: jar}, metrics.NewTagSet(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Release()
	if got := e.last().Header.Get("Cookie"); got != "vu=seven" {
		t.Fatalf("Cookie header %q, want vu=seven", got)
	}
	var names []string
	for _, ck := range jar.Cookies(u) {
		names = append(names, ck.Name+"="+ck.Value)
	}
	if got := strings.Join(names, ";"); !strings.Contains(got, "session=from-server") {
		t.Fatalf("jar after the upgrade: %q, want the server's session cookie", got)
	}
}

// TestCompression: with Compression the server agrees to permessage-deflate and a
// repetitive 64 KiB message crosses the wire in far fewer bytes; without it, it does not.
func TestCompression(t *testing.T) {
	s := httptest.NewServer(&echo{})
	defer s.Close()
	msg := strings.Repeat("pixel ", 64<<10/6)
	for _, compress := range []bool{false, true} {
		st := state(modules.Options{})
		c, err := Dial(context.Background(), st, wsURL(s), Params{Header: http.Header{}, Compression: compress}, metrics.NewTagSet(nil))
		if err != nil {
			t.Fatal(err)
		}
		ext := c.Resp.Header.Get("Sec-WebSocket-Extensions")
		if got := strings.Contains(ext, "permessage-deflate"); got != compress {
			t.Fatalf("compression %v: the server's extensions %q", compress, ext)
		}
		before := st.Bytes.Sent.Load()
		roundTrip(t, c.Conn, msg)
		sent := st.Bytes.Sent.Load() - before
		c.Close()
		c.Release()
		if compress && sent > int64(len(msg))/10 {
			t.Fatalf("compressed: %d bytes sent for a %d-byte repetitive message", sent, len(msg))
		}
		if !compress && sent < int64(len(msg)) {
			t.Fatalf("uncompressed: %d bytes sent for a %d-byte message", sent, len(msg))
		}
	}
}

// TestHeadersAndUserAgent: params.headers and the userAgent option reach the server.
func TestHeadersAndUserAgent(t *testing.T) {
	e := &echo{}
	s := httptest.NewServer(e)
	defer s.Close()
	h := http.Header{}
	h.Set("X-Pixel", "yes")
	h.Set("User-Agent", "pixel-test/1")
	c, err := Dial(context.Background(), state(modules.Options{}), wsURL(s), Params{Header: h}, metrics.NewTagSet(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Release()
	if r := e.last(); r.Header.Get("X-Pixel") != "yes" || r.Header.Get("User-Agent") != "pixel-test/1" {
		t.Fatalf("headers %v", r.Header)
	}
}

// connectProxy is an HTTP CONNECT proxy that sends every tunnel to the loopback address
// `to`, whatever host was asked for, and records the hosts asked for.
type connectProxy struct {
	to    string
	mu    sync.Mutex
	hosts []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.mu.Unlock()
	_, port, _ := net.SplitHostPort(r.Host)
	up, err := net.Dial("tcp", net.JoinHostPort(p.to, port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, _ := w.(http.Hijacker)
	conn, buf, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(up, bufio.NewReader(io.MultiReader(buf.Reader, conn)))
		up.Close()
	}()
	go func() { defer wg.Done(); _, _ = io.Copy(conn, up); conn.Close() }()
	wg.Wait()
}

// TestProxyFromEnvironment: ws:// and wss:// go through HTTP_PROXY / HTTPS_PROXY as k6's do.
// Go reads the proxy variables once per process and never proxies loopback hosts, so the
// dial runs in a child process of this test binary with the variables set, to a host name
// (proxy.pixelk6.test) only the proxy knows to be the loopback server.
func TestProxyFromEnvironment(t *testing.T) {
	if targets := os.Getenv("WSCONN_PROXY_TARGETS"); targets != "" {
		for _, u := range strings.Split(targets, " ") {
			c, err := Dial(context.Background(), state(modules.Options{InsecureSkipTLSVerify: true}), u, Params{Header: http.Header{}}, metrics.NewTagSet(nil))
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			roundTrip(t, c.Conn, "via the proxy")
			c.Close()
			c.Release()
		}
		return
	}
	plain := httptest.NewServer(&echo{})
	defer plain.Close()
	secure := httptest.NewTLSServer(&echo{})
	defer secure.Close()
	proxy := &connectProxy{to: "127.0.0.1"}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	port := func(s *httptest.Server) string { _, p, _ := net.SplitHostPort(s.Listener.Addr().String()); return p }
	wsTarget := "ws://proxy.pixelk6.test:" + port(plain) + "/"
	wssTarget := "wss://proxy.pixelk6.test:" + port(secure) + "/"
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "HTTP_PROXY="+ps.URL, "HTTPS_PROXY="+ps.URL, "NO_PROXY=", "no_proxy=",
		"WSCONN_PROXY_TARGETS="+wsTarget+" "+wssTarget)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child's dials through the proxy failed: %v\n%s", err, out)
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	want := "proxy.pixelk6.test:" + port(plain) + " proxy.pixelk6.test:" + port(secure)
	if got := strings.Join(proxy.hosts, " "); got != want {
		t.Fatalf("the proxy tunnelled %q, want %q", got, want)
	}
}

// TestDialEndsWithTheContext: a server that never answers the upgrade is left when the
// context ends; the attempt reports the context's end.
func TestDialEndsWithTheContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { c := <-accepted; defer c.Close(); cancel() }()
	_, err = Dial(ctx, state(modules.Options{}), "ws://"+l.Addr().String()+"/", Params{Header: http.Header{}}, metrics.NewTagSet(nil))
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err = %v, ctx %v", err, ctx.Err())
	}
}
