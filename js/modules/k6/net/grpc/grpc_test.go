package grpc_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	"github.com/pixelk6/pixelk6/cli"
	"github.com/pixelk6/pixelk6/js/modules/modulestest"
	"github.com/pixelk6/pixelk6/simulator"
)

// sample is one Point of a --out json file.
type sample struct {
	Metric string
	Value  float64
	Tags   map[string]string
}

// result is what a run of a script left.
type result struct {
	code    int
	stderr  string
	samples []sample
}

func (r result) of(metric string) []sample {
	var out []sample
	for _, s := range r.samples {
		if s.Metric == metric {
			out = append(out, s)
		}
	}
	return out
}

// failedChecks names the checks that failed.
func (r result) failedChecks() []string {
	var out []string
	for _, s := range r.of("checks") {
		if s.Value != 1 {
			out = append(out, s.Tags["check"])
		}
	}
	return out
}

// run writes script (and pixel.proto, extra.proto beside it) to a temporary directory and
// runs it through pixelk6's command line with the environment variables env.
func run(t *testing.T, script string, env ...string) result {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{"../../../../../simulator/pixelpb/pixel.proto": "pixel.proto", "testdata/extra.proto": "extra.proto"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path, out := filepath.Join(dir, "script.js"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-q", "--no-summary", "--out", "json=" + out}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	var stdout, stderr bytes.Buffer
	r := result{code: cli.Run(context.Background(), append(args, path), &stdout, &stderr)}
	r.stderr = stderr.String()
	f, err := os.Open(out)
	if err != nil {
		return r
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
			Data   struct {
				Value float64           `json:"value"`
				Tags  map[string]string `json:"tags"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type == "Point" {
			r.samples = append(r.samples, sample{p.Metric, p.Data.Value, p.Data.Tags})
		}
	}
	return r
}

// mustPass fails the test unless the run exited 0 with every check passed.
func mustPass(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 || len(r.failedChecks()) > 0 {
		t.Fatalf("exit %d, failed checks %q\n%s", r.code, r.failedChecks(), r.stderr)
	}
}

// pixelsim starts pixelsim's gRPC endpoint on a free loopback port with cfg changed by
// edit and the server options opts; it stops when the test ends.
func pixelsim(t *testing.T, edit func(*simulator.Config), opts ...gogrpc.ServerOption) (string, *simulator.Server) {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.StartGRPC("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return addr, srv
}

const header = `
import grpc from 'k6/net/grpc';
import { check } from 'k6';
export const options = { thresholds: { checks: ['rate==1'] } };
const client = new grpc.Client();
client.load(null, 'pixel.proto');
`

// TestUnaryTagsAndGroundTruth checks grpc_req_duration's tags (k6's: url, service, method,
// name, status, plus the VU's and the call's) and that pixelsim labelled every call.
func TestUnaryTagsAndGroundTruth(t *testing.T) {
	addr, srv := pixelsim(t, nil)
	r := run(t, header+`
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  const prompts = ['I feel anxious', 'I am suicidal', 'ok boomer', 'hello'];
  for (const p of prompts) {
    const res = client.invoke('pixel.v1.Inference/Infer', { prompt: p }, { tags: { kind: 'unary' } });
    check(res, { ok: (x) => x.status === grpc.StatusOK });
  }
  const named = client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }, { tags: { name: 'custom' } });
  check(named, { ok: (x) => x.status === grpc.StatusOK });
  client.close();
};`, "ADDR="+addr)
	mustPass(t, r)
	d := r.of("grpc_req_duration")
	if len(d) != 5 {
		t.Fatalf("%d grpc_req_duration samples, want 5", len(d))
	}
	want := map[string]string{"url": addr + "/pixel.v1.Inference/Infer", "service": "pixel.v1.Inference",
		"method": "Infer", "name": "/pixel.v1.Inference/Infer", "status": "0", "kind": "unary", "scenario": "default", "group": ""}
	for k, v := range want {
		if got, ok := d[0].Tags[k]; !ok || got != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, got, v, d[0].Tags)
		}
	}
	if d[4].Tags["name"] != "custom" {
		t.Errorf("params.tags.name: name tag = %q, want custom", d[4].Tags["name"])
	}
	st := srv.Stats()
	if st.GRPCInferences != 5 || st.Crisis["low"] != 1 || st.Crisis["high"] != 1 || st.Bias["age"] != 1 {
		t.Errorf("pixelsim ground truth: %d inferences, crisis %v, bias %v", st.GRPCInferences, st.Crisis, st.Bias)
	}
	if len(r.of("data_sent")) == 0 || len(r.of("data_received")) == 0 {
		t.Error("no data_sent / data_received samples: gRPC traffic is not counted")
	}

	// options.systemTags selects the system tags, as for HTTP.
	r = run(t, `
import grpc from 'k6/net/grpc';
export const options = { systemTags: ['method', 'status', 'ip'] };
const client = new grpc.Client();
client.load(null, 'pixel.proto');
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }, { tags: { kind: 'unary' } });
  client.close();
};`, "ADDR="+addr)
	if d := r.of("grpc_req_duration"); len(d) != 1 || len(d[0].Tags) != 4 || d[0].Tags["method"] != "Infer" || d[0].Tags["status"] != "0" ||
		d[0].Tags["kind"] != "unary" || d[0].Tags["ip"] != "127.0.0.1" {
		t.Errorf("with systemTags [method, status, ip]: %v", d)
	}
}

// TestStreamMetrics checks grpc_streams, the message counters and the stream's
// grpc_req_duration, and the labels of a streamed session.
func TestStreamMetrics(t *testing.T) {
	addr, srv := pixelsim(t, nil)
	r := run(t, header+`
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  const s = new grpc.Stream(client, 'pixel.v1.Inference/Stream', { tags: { kind: 'stream' } });
  let risk = '';
  s.on('data', (m) => { if (m.type === 'inference') risk = m.inference.crisis.risk_level; });
  s.on('end', () => { check(risk, { imminent: (x) => x === 'imminent' }); client.close(); });
  s.write({ type: 'start', session_id: 'a' });
  s.write({ type: 'chunk', seq: 1, text: 'this is my goodbye' });
  s.write({ type: 'end' });
  s.end();
};`, "ADDR="+addr)
	mustPass(t, r)
	count := func(m string) (n float64) {
		for _, s := range r.of(m) {
			n += s.Value
			if s.Tags["kind"] != "stream" || s.Tags["method"] != "Stream" {
				t.Errorf("%s tags %v", m, s.Tags)
			}
		}
		return n
	}
	if g, s, rc := count("grpc_streams"), count("grpc_streams_msgs_sent"), count("grpc_streams_msgs_received"); g != 1 || s != 3 || rc != 3 {
		t.Errorf("grpc_streams %v, msgs_sent %v, msgs_received %v; want 1, 3, 3", g, s, rc)
	}
	if d := r.of("grpc_req_duration"); len(d) != 1 || d[0].Tags["status"] != "0" {
		t.Errorf("stream grpc_req_duration samples %v, want one with status 0", d)
	}
	if st := srv.Stats(); st.GRPCStreamsTotal != 1 || st.GRPCChunksAcked != 1 || st.GRPCStreamInferences != 1 || st.Crisis["imminent"] != 1 {
		t.Errorf("pixelsim ground truth %+v", st)
	}
}

// TestErrors checks the failures a script meets: an address nobody listens on, a deadline,
// a method not loaded and a method the server does not implement.
func TestErrors(t *testing.T) {
	addr, _ := pixelsim(t, func(c *simulator.Config) { c.Latency = simulator.FixedLatency(500 * time.Millisecond) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	r := run(t, header+`
client.load(null, 'extra.proto');
export default () => {
  let msg = '';
  try { client.connect(__ENV.CLOSED, { plaintext: true, timeout: '5s' }); } catch (e) { msg = String(e); }
  check(msg, { 'connect to a closed port throws': (m) => m.includes('connection refused') });

  client.connect(__ENV.ADDR, { plaintext: true });
  const late = client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }, { timeout: '50ms' });
  check(late, {
    'deadline exceeded': (r) => r.status === grpc.StatusDeadlineExceeded,
    'error object': (r) => r.error.code === grpc.StatusDeadlineExceeded && r.message === null,
  });
  const missing = client.invoke('pixel.v1.Inference/Forget', { prompt: 'hi' });
  check(missing, { unimplemented: (r) => r.status === grpc.StatusUnimplemented });
  msg = '';
  try { client.invoke('pixel.v1.Inference/Nothing', {}); } catch (e) { msg = String(e); }
  check(msg, { 'a method not loaded throws': (m) => m.includes('not found in file descriptors') });
  msg = '';
  try { client.connect(__ENV.ADDR, { plaintxt: true }); } catch (e) { msg = String(e); }
  check(msg, { 'an unknown connect option throws naming it': (m) => m.includes('plaintxt') });
  msg = '';
  try { client.connect(__ENV.ADDR, { plaintext: true, maxReceiveSize: -1 }); } catch (e) { msg = String(e); }
  check(msg, { 'a negative size throws': (m) => m.includes('maxReceiveSize') });
  client.close();
};`, "ADDR="+addr, "CLOSED="+closed)
	mustPass(t, r)
	statuses := map[string]int{}
	for _, s := range r.of("grpc_req_duration") {
		statuses[s.Tags["status"]]++
	}
	if statuses["4"] != 1 || statuses["12"] != 1 {
		t.Errorf("statuses of grpc_req_duration %v, want one 4 and one 12", statuses)
	}

	// Uncaught, a failed connect fails the iteration with an error naming the address.
	r = run(t, header+`
export default () => { client.connect(__ENV.CLOSED, { plaintext: true, timeout: '2s' }); };`, "CLOSED="+closed)
	if !strings.Contains(r.stderr, "grpc.connect "+closed) {
		t.Errorf("an uncaught connect failure: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestUnavailable checks that a call on a connection whose server has stopped returns
// StatusUnavailable (not an exception), as k6's does. The script stops the server itself,
// through an HTTP endpoint of the test's, between two calls.
func TestUnavailable(t *testing.T) {
	addr, srv := pixelsim(t, nil)
	stop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = srv.Close() }))
	defer stop.Close()
	r := run(t, header+`
import http from 'k6/http';
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  check(client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }), { 'first OK': (r) => r.status === grpc.StatusOK });
  http.get(__ENV.STOP);
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' });
  check(res, {
    unavailable: (r) => r.status === grpc.StatusUnavailable,
    'error code': (r) => r.error.code === grpc.StatusUnavailable,
  });
};`, "ADDR="+addr, "STOP="+stop.URL)
	mustPass(t, r)
}

// TestMetadataAndReflection checks that params.metadata (a -bin value as bytes) and
// connect's reflectMetadata reach the server, and that reflection alone is enough to call.
func TestMetadataAndReflection(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(ctx context.Context) {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		defer mu.Unlock()
		for k, v := range md {
			seen[k] = append(seen[k], v...)
		}
	}
	addr, _ := pixelsim(t, nil,
		gogrpc.UnaryInterceptor(func(ctx context.Context, req any, _ *gogrpc.UnaryServerInfo, h gogrpc.UnaryHandler) (any, error) {
			record(ctx)
			return h(ctx, req)
		}),
		gogrpc.StreamInterceptor(func(srv any, ss gogrpc.ServerStream, _ *gogrpc.StreamServerInfo, h gogrpc.StreamHandler) error {
			record(ss.Context())
			return h(srv, ss)
		}))
	r := run(t, `
import grpc from 'k6/net/grpc';
import { check } from 'k6';
export const options = { thresholds: { checks: ['rate==1'] } };
const client = new grpc.Client();
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true, reflect: true, reflectMetadata: { 'x-reflect': 'yes' } });
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' },
    { metadata: { 'X-Team': 'perf', 'x-raw-bin': new Uint8Array([0, 255, 7]) } });
  check(res, { ok: (r) => r.status === grpc.StatusOK });
  client.close();
};`, "ADDR="+addr)
	mustPass(t, r)
	mu.Lock()
	defer mu.Unlock()
	if got := seen["x-team"]; len(got) != 1 || got[0] != "perf" {
		t.Errorf("x-team = %q", got)
	}
	if got := seen["x-raw-bin"]; len(got) != 1 || got[0] != "\x00\xff\x07" {
		t.Errorf("x-raw-bin = %q", got)
	}
	if got := seen["x-reflect"]; len(got) != 1 || got[0] != "yes" {
		t.Errorf("reflection metadata x-reflect = %q", got)
	}
}

// TestInitContext checks that connect is refused in the init context and load outside it.
func TestInitContext(t *testing.T) {
	addr, _ := pixelsim(t, nil)
	r := run(t, header+`
client.connect(__ENV.ADDR, { plaintext: true });
export default () => {};`, "ADDR="+addr)
	if r.code == 0 || !strings.Contains(r.stderr, "connecting to a gRPC server in the init context is not supported") {
		t.Errorf("connect in init: exit %d, stderr %s", r.code, r.stderr)
	}
	r = run(t, header+`
export default () => {
  let msg = '';
  try { client.load(null, 'pixel.proto'); } catch (e) { msg = String(e); }
  check(msg, { 'load outside init throws': (m) => m.includes('init context') });
};`, "ADDR="+addr)
	mustPass(t, r)
}

// pki is a CA made for one test, with a server certificate for 127.0.0.1 and a client
// certificate, all PEM.
type pki struct {
	caPEM, serverCert, serverKey, clientCert, clientKey string
	pool                                                *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	encode := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	keyPEM := func(k *ecdsa.PrivateKey) string {
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return encode("EC PRIVATE KEY", b)
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pixelk6 test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(serial int64, usage x509.ExtKeyUsage) (string, string) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return encode("CERTIFICATE", der), keyPEM(k)
	}
	p := pki{caPEM: encode("CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCert, p.serverKey = leaf(2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf(3, x509.ExtKeyUsageClientAuth)
	return p
}

// TestTLS runs pixelsim's gRPC endpoint with a certificate of a CA made by the test, which
// also requires a client certificate: connect's tls.cacerts, tls.cert and tls.key get in;
// without the CA the handshake fails; tls.password is refused by name.
func TestTLS(t *testing.T) {
	p := newPKI(t)
	cert, err := tls.X509KeyPair([]byte(p.serverCert), []byte(p.serverKey))
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	addr, srv := pixelsim(t, nil, gogrpc.Creds(creds))
	dir := t.TempDir()
	for name, body := range map[string]string{"ca.pem": p.caPEM, "client.pem": p.clientCert, "client-key.pem": p.clientKey} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, header+`
const ca = open(__ENV.DIR + '/ca.pem');
const cert = open(__ENV.DIR + '/client.pem');
const key = open(__ENV.DIR + '/client-key.pem');
export default () => {
  client.connect(__ENV.ADDR, { tls: { cacerts: [ca], cert, key } });
  check(client.invoke('pixel.v1.Inference/Infer', { prompt: 'I feel anxious' }), { 'OK over TLS': (r) => r.status === grpc.StatusOK });
  client.close();
  client.connect(__ENV.ADDR, { tls: { cacerts: ca, cert, key } });
  check(client.healthCheck(), { 'a single CA string works too': (r) => r.message.status === grpc.HealthCheckServing });
  client.close();

  let msg = '';
  try { client.connect(__ENV.ADDR, { timeout: '1s', tls: { cert, key } }); } catch (e) { msg = String(e); }
  check(msg, { 'an unknown CA fails the handshake': (m) => m.includes('certificate') });
  msg = '';
  try { client.connect(__ENV.ADDR, { plaintext: true, timeout: '500ms' }); client.invoke('pixel.v1.Inference/Infer', { prompt: 'x' }); } catch (e) { msg = String(e); }
  check(msg, { 'plaintext to a TLS server fails': (m) => m !== '' });
  msg = '';
  try { client.connect(__ENV.ADDR, { tls: { cacerts: ca, cert, key, password: 'secret' } }); } catch (e) { msg = String(e); }
  check(msg, { 'tls.password is refused by name': (m) => m.includes('tls.password') });
};`, "ADDR="+addr, "DIR="+dir)
	mustPass(t, r)
	if st := srv.Stats(); st.GRPCInferences != 1 {
		t.Errorf("pixelsim saw %d gRPC inferences over TLS, want 1", st.GRPCInferences)
	}

	// The k6 option insecureSkipTLSVerify applies to gRPC as to HTTP; tlsAuth gives the
	// client certificate.
	r = run(t, `
import grpc from 'k6/net/grpc';
import { check } from 'k6';
export const options = {
  insecureSkipTLSVerify: true,
  tlsAuth: [{ domains: ['127.0.0.1'], cert: open(__ENV.DIR + '/client.pem'), key: open(__ENV.DIR + '/client-key.pem') }],
  thresholds: { checks: ['rate==1'] },
};
const client = new grpc.Client();
client.load(null, 'pixel.proto');
export default () => {
  client.connect(__ENV.ADDR);
  check(client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }), { 'OK with the options': (r) => r.status === grpc.StatusOK });
  client.close();
};`, "ADDR="+addr, "DIR="+dir)
	mustPass(t, r)
}

// TestStreamWarningsAndThrowingHandler checks what k6 forgives with a warning (a write
// after end, an unknown event) and that a handler that throws fails its iteration without
// leaving the stream behind: the run goes on to its end.
func TestStreamWarningsAndThrowingHandler(t *testing.T) {
	addr, _ := pixelsim(t, nil)
	r := run(t, header+`
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  const s = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  s.on('nonsense', () => {});
  s.write({ type: 'start' });
  s.end();
  s.write({ type: 'end' });
  const lean = new grpc.Stream(client, 'pixel.v1.Inference/Stream', { discardResponseMessage: true });
  lean.on('data', (m) => check(m, { 'a discarded message is an empty object': (x) => Object.keys(x).length === 0 }));
  lean.write({ type: 'start' });
  lean.end();
};`, "ADDR="+addr)
	mustPass(t, r)
	for _, want := range []string{"can't register nonsense event handler", "stream.write after the stream's sending side was closed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := len(r.of("grpc_streams_msgs_sent")); n != 2 {
		t.Errorf("%d messages sent, want 2", n)
	}
	if n := len(r.of("checks")); n != 1 {
		t.Errorf("%d checks, want 1", n)
	}

	r = run(t, header+`
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  const s = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  s.on('data', () => { throw new Error('handler failed on purpose'); });
  s.write({ type: 'start' });
};`, "ADDR="+addr)
	if !strings.Contains(r.stderr, "handler failed on purpose") {
		t.Errorf("the handler's exception is not reported:\n%s", r.stderr)
	}
	if n := len(r.of("iterations")); n != 1 {
		t.Errorf("%d iterations recorded, want 1 (the run must go on after the exception)", n)
	}
}

// TestManyVUs runs VUs that share the run's compiled descriptors, each with its own
// connection, unary and streaming at once (run it with -race).
func TestManyVUs(t *testing.T) {
	addr, srv := pixelsim(t, nil)
	r := run(t, `
import grpc from 'k6/net/grpc';
import { check } from 'k6';
export const options = { vus: 4, iterations: 20, thresholds: { checks: ['rate==1'] } };
const client = new grpc.Client();
client.load(null, 'pixel.proto');
export default async () => {
  if (__ITER === 0) client.connect(__ENV.ADDR, { plaintext: true });
  const [a, b] = await Promise.all([
    client.asyncInvoke('pixel.v1.Inference/Infer', { prompt: 'I feel anxious' }),
    client.asyncInvoke('pixel.v1.Inference/Infer', { prompt: 'welfare queen' }),
  ]);
  check([a, b], { both: (x) => x[0].message.crisis.risk_level === 'low' && x[1].message.bias.categories[0] === 'socioeconomic' });
  const s = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  s.on('data', (m) => { if (m.type === 'inference') check(m, { streamed: (x) => x.inference.crisis.risk_level === 'high' }); });
  s.write({ type: 'chunk', text: 'I want to die' });
  s.write({ type: 'end' });
  s.end();
};`, "ADDR="+addr)
	mustPass(t, r)
	if n := len(r.of("checks")); n != 40 {
		t.Errorf("%d checks, want 40", n)
	}
	if st := srv.Stats(); st.GRPCInferences != 40 || st.GRPCStreamInferences != 20 {
		t.Errorf("pixelsim: %d unary and %d streamed inferences, want 40 and 20", st.GRPCInferences, st.GRPCStreamInferences)
	}
}

// TestAbandonedStreams checks that streams left open by iterations that threw (the event
// loop drops their slots) do not outlive them: the next iteration's calls abandon them, the
// run's end abandons the last, and no reader goroutine is left.
func TestAbandonedStreams(t *testing.T) {
	addr, _ := pixelsim(t, nil)
	r := run(t, `
import grpc from 'k6/net/grpc';
export const options = { iterations: 4 };
const client = new grpc.Client();
client.load(null, 'pixel.proto');
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true });
  const s = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
  s.on('data', () => {});
  s.write({ type: 'start' });
  if (__ITER < 3) throw new Error('iteration gives up with its stream open');
  s.end();
};`, "ADDR="+addr)
	if !strings.Contains(r.stderr, "iteration gives up") {
		t.Fatalf("the exception is not reported:\n%s", r.stderr)
	}
	if n := modulestest.WaitGoroutines("grpc.(*stream).read", 0); n != 0 {
		t.Errorf("%d stream readers left after the run", n)
	}
}

// TestAbandonedStreamReaped checks, on one VU, that the reader of a stream whose iteration
// threw is gone once the VU's next iteration calls the module, without waiting for the run
// to end.
func TestAbandonedStreamReaped(t *testing.T) {
	addr, _ := pixelsim(t, nil)
	rt := modulestest.New(t)
	rt.Import("k6/net/grpc", "grpc")
	rt.MoveToVUContext()
	before := modulestest.WaitGoroutines("grpc.(*stream).read", 0) // other tests' readers wind down
	_, err := rt.RunString(`
var client = new grpc.Client();
client.connect('` + addr + `', { plaintext: true, reflect: true });
var s = new grpc.Stream(client, 'pixel.v1.Inference/Stream');
s.on('data', function () {});
s.write({ type: 'start' });
throw new Error('gives up');`)
	if err == nil || !strings.Contains(err.Error(), "gives up") {
		t.Fatalf("the iteration should have thrown: %v", err)
	}
	n := modulestest.CountGoroutines("grpc.(*stream).read")
	for i := 0; i < 2000 && n < before+1; i++ { // the reader may not have been scheduled yet
		time.Sleep(5 * time.Millisecond)
		n = modulestest.CountGoroutines("grpc.(*stream).read")
	}
	if n != before+1 {
		t.Fatalf("%d stream readers after the failed iteration, want %d", n, before+1)
	}
	rt.State.Iteration++
	rt.MustRunString(`if (client.invoke('pixel.v1.Inference/Infer', { prompt: 'hi' }).status !== grpc.StatusOK) throw new Error('invoke failed');`)
	if n := modulestest.WaitGoroutines("grpc.(*stream).read", before); n != before {
		t.Errorf("%d stream readers after the next iteration's call, want %d: the abandoned stream was not reaped", n, before)
	}
}

// TestReflectionUnavailable checks that connect with reflect: true throws when the server
// has no reflection service, and that the connection is usable without it.
func TestReflectionUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := gogrpc.NewServer()
	healthpb.RegisterHealthServer(gs, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(ln) }()
	defer func() { gs.Stop(); <-done }()
	r := run(t, header+`
export default () => {
  let msg = '';
  try { client.connect(__ENV.ADDR, { plaintext: true, reflect: true }); } catch (e) { msg = String(e); }
  check(msg, { 'reflection refused': (m) => m.includes('reflection') && m.includes('Unimplemented') });
  client.connect(__ENV.ADDR, { plaintext: true });
  check(client.healthCheck(), { 'health without reflection': (r) => r.message.status === grpc.HealthCheckServing });
  client.close();
};`, "ADDR="+ln.Addr().String())
	mustPass(t, r)
}

// TestReflectionV1Alpha checks reflection against a server that serves only the older
// grpc.reflection.v1alpha: the health service it reflects is callable by invoke.
func TestReflectionV1Alpha(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := gogrpc.NewServer()
	healthpb.RegisterHealthServer(gs, health.NewServer())
	rpbalpha.RegisterServerReflectionServer(gs, reflection.NewServer(reflection.ServerOptions{Services: gs}))
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(ln) }()
	defer func() { gs.Stop(); <-done }()
	r := run(t, `
import grpc from 'k6/net/grpc';
import { check } from 'k6';
export const options = { thresholds: { checks: ['rate==1'] } };
const client = new grpc.Client();
export default () => {
  client.connect(__ENV.ADDR, { plaintext: true, reflect: true });
  const res = client.invoke('grpc.health.v1.Health/Check', { service: '' });
  check(res, { 'reflected by v1alpha': (r) => r.status === grpc.StatusOK && r.message.status === 'SERVING' });
  client.close();
};`, "ADDR="+ln.Addr().String())
	mustPass(t, r)
}
