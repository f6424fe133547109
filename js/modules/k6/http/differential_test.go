package http_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net"
	gohttp "net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/pixelk6/pixelk6/js/jstest"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// digestRandom matches the parts of a Digest Authorization header that differ in each run.
// (also in the JSON of logged responses, where its quotes are escaped)
var digestRandom = regexp.MustCompile(`(cnonce|response)=\\?"[^"\\]*\\?"`)

// ntlmTestChallenge is an NTLM Challenge message (challenge 0102030405060708, no target
// info), base64.
const ntlmTestChallenge = "TlRMTVNTUAACAAAAAAAAADAAAAAFgomiAQIDBAUGBwgAAAAAAAAAAAAAAAAwAAAA"

// ntlmRandom matches an NTLM Authenticate message (its client challenge and time differ in
// each run).
var ntlmRandom = regexp.MustCompile(`NTLM TlRMTVNTUAADAAAA[A-Za-z0-9+/=]*`)

// multipartBoundary matches a multipart body's random boundary.
var multipartBoundary = regexp.MustCompile(`[0-9a-f]{60}`)

// rawServer is a loopback HTTP/1.1 server written on raw connections, so a test can make it
// misbehave exactly (stall, reset, close an idle connection, send 1xx responses, lie about
// Content-Length). It records what reaches it, one line per request: the connection's
// number, the request on that connection, method, target, Host, every header but
// User-Agent, and the body.
type rawServer struct {
	ln    net.Listener
	other string // the base URL of another server, for cross-host redirects
	done  chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	log   []string
	conns []net.Conn
}

func newRawServer(t *testing.T) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept() // ends when the listener closes
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) close() {
	close(s.done)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rawServer) accept() {
	defer s.wg.Done()
	for n := 1; ; n++ {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() { // one connection: ends when it closes
			defer s.wg.Done()
			defer c.Close()
			s.serve(c.(*net.TCPConn), n)
		}()
	}
}

// stall waits until the server closes (the client gives up first).
func (s *rawServer) stall() { <-s.done }

func (s *rawServer) record(line string) {
	s.mu.Lock()
	s.log = append(s.log, line)
	s.mu.Unlock()
}

func (s *rawServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *rawServer) serve(c *net.TCPConn, conn int) {
	br := bufio.NewReader(c)
	for nth := 1; ; nth++ {
		req, err := gohttp.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		var hs []string
		for k, vs := range req.Header {
			if k == "Authorization" && strings.HasPrefix(vs[0], "Digest ") {
				vs = []string{digestRandom.ReplaceAllString(vs[0], "$1=random")} // cnonce, and so response
			}
			if k != "User-Agent" {
				hs = append(hs, k+"="+strings.Join(vs, ","))
			}
		}
		sort.Strings(hs)
		if req.ContentLength >= 0 {
			hs = append(hs, "(length "+strconv.FormatInt(req.ContentLength, 10)+")")
		}
		if len(req.TransferEncoding) > 0 {
			hs = append(hs, "(te "+strings.Join(req.TransferEncoding, ",")+")")
		}
		line := fmt.Sprintf("conn %d #%d %s %s host=%s %s body=%q", conn, nth, req.Method, req.RequestURI, req.Host, strings.Join(hs, " "), body)
		s.record(ntlmRandom.ReplaceAllString(multipartBoundary.ReplaceAllString(line, "BOUNDARY"), "NTLM AUTHENTICATE"))
		if !s.respond(c, req, nth, body) {
			return
		}
	}
}

// respond answers one request by its path; false closes the connection.
func (s *rawServer) respond(c *net.TCPConn, req *gohttp.Request, nth int, body []byte) bool {
	w := func(msg string) bool { _, err := io.WriteString(c, msg); return err == nil }
	q := req.URL.Query()
	switch p := req.URL.Path; {
	case p == "/ok":
		return w("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
	case p == "/echo":
		return w(fmt.Sprintf("HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	case p == "/head":
		return w("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n") // no body after HEAD
	case p == "/chunked":
		return w("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n")
	case p == "/close-after": // a keep-alive response, then the server drops the idle connection
		w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	case p == "/drop-on-reuse": // the request on a reused connection is read, then dropped unanswered
		if nth > 1 {
			return false
		}
		return w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	case p == "/reset-on-reuse":
		if nth > 1 {
			_ = c.SetLinger(0)
			return false
		}
		return w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	case p == "/partial-on-reuse": // some response bytes, then the connection closes
		if nth > 1 {
			w("HTTP/1.1 200 O")
			return false
		}
		return w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	case p == "/eof": // a fresh connection closed without an answer
		return false
	case p == "/reset":
		_ = c.SetLinger(0)
		return false
	case strings.HasPrefix(p, "/redirect/"):
		loc := q.Get("to")
		if loc == "" {
			loc = "/echo"
		}
		if q.Get("other") != "" {
			loc = s.other + loc
		}
		b := q.Get("body")
		return w(fmt.Sprintf("HTTP/1.1 %s Moved\r\nLocation: %s\r\nContent-Length: %d\r\n\r\n%s", strings.TrimPrefix(p, "/redirect/"), loc, len(b), b))
	case p == "/redirect-cookie":
		return w("HTTP/1.1 302 Found\r\nSet-Cookie: sid=7; Path=/\r\nLocation: /echo-cookie\r\nContent-Length: 0\r\n\r\n")
	case p == "/echo-cookie":
		ck := req.Header.Get("Cookie")
		return w(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(ck), ck))
	case p == "/setcookie":
		return w("HTTP/1.1 200 OK\r\nSet-Cookie: sid=42; Path=/\r\nSet-Cookie: other=x; Path=/nope\r\nContent-Length: 0\r\n\r\n")
	case p == "/stall-headers":
		s.stall()
		return false
	case p == "/stall-body":
		w("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
		s.stall()
		return false
	case p == "/stall-chunked":
		w("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
		s.stall()
		return false
	case p == "/1xx":
		return w("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
	case p == "/too-many-1xx":
		return w(strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	case p == "/short": // Content-Length says more than is sent
		w("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
		return false
	case p == "/long": // more bytes than Content-Length: the rest is not a response
		return w("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
	case p == "/reset-body":
		w("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
		time.Sleep(20 * time.Millisecond) // the headers are read before the reset
		_ = c.SetLinger(0)
		return false
	case p == "/conn-close":
		return w("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye") && false
	case p == "/no-length": // body until the server closes
		w("HTTP/1.1 200 OK\r\n\r\nuntil close")
		return false
	case p == "/http10":
		return w("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") && false
	case p == "/status":
		code := q.Get("code")
		if code == "204" || code == "304" { // no body allowed
			return w("HTTP/1.1 " + code + " Whatever\r\n\r\n")
		}
		return w("HTTP/1.1 " + code + " Whatever\r\nContent-Length: 4\r\n\r\nbody")
	case p == "/encoded": // "hello, encoded" in the codings of ?ce= (applied in order)
		b := encodeForTest([]byte("hello, encoded"), q.Get("ce"))
		return w(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", q.Get("ce"), len(b), b))
	case p == "/bad-gzip":
		return w("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\nnot gzip")
	case p == "/digest": // a Digest challenge until the request answers one
		if strings.HasPrefix(req.Header.Get("Authorization"), "Digest ") {
			return w("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nauthed")
		}
		return w("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"n\", opaque=\"o\"\r\nContent-Length: 4\r\n\r\nnope")
	case p == "/ntlm": // NTLM: a Challenge for a Negotiate, 200 for an Authenticate on the same connection
		switch a := req.Header.Get("Authorization"); {
		case strings.HasPrefix(a, "NTLM TlRMTVNTUAABAAAA"):
			return w("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM " + ntlmTestChallenge + "\r\nContent-Length: 0\r\n\r\n")
		case strings.HasPrefix(a, "NTLM TlRMTVNTUAADAAAA") && nth > 1:
			return w("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nauthed")
		}
		return w("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n")
	case p == "/garbage":
		w("NOT HTTP\r\n\r\n")
		return false
	}
	return w("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
}

// viewJS turns a response into what the differential test compares: everything a script
// can read of it but the timings (and the Date header, which no raw server sends anyway).
const viewJS = `
function view(r) {
  const h = {};
  for (const k of Object.keys(r.headers).sort()) h[k] = r.headers[k];
  const rh = {};
  for (const k of Object.keys(r.request.headers).sort()) rh[k] = r.request.headers[k];
  return JSON.stringify({ status: r.status, status_text: r.status_text, proto: r.proto, url: r.url, headers: h,
    body: r.body, error: r.error, error_code: r.error_code, remote_ip: r.remote_ip, tls_version: r.tls_version,
    cookies: r.cookies, request: { method: r.request.method, url: r.request.url, headers: rh, body: r.request.body } });
}
function show(label, r) { console.log(label + ' ' + view(r)); }
`

// observed is everything one run shows: the responses (through console.log), the log's
// other lines (warnings), the samples and what the servers received.
type observed struct {
	Logs     []string
	Samples  []string
	Requests []string
	Other    []string
}

// runPath runs script once on a fresh VU against fresh servers, through the fast path or
// through net/http only.
func runPath(t *testing.T, script string, netHTTPOnly bool) observed {
	t.Helper()
	main, other := newRawServer(t), newRawServer(t)
	main.other = other.url()
	h := jstest.MustLoad(t, "import http from 'k6/http';\nimport { sleep } from 'k6';\n"+viewJS+
		"export default function () {\n"+script+"\n}\n", map[string]string{"BASE": main.url(), "OTHER": other.url()})
	st := h.State(1)
	if netHTTPOnly {
		httpmod.UseNetHTTPOnly(st)
	}
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatalf("iteration: %v", err)
	}
	var o observed
	for _, l := range h.Logs.Lines {
		l = strings.ReplaceAll(l, main.url(), "BASE")
		l = strings.ReplaceAll(l, other.url(), "OTHER")
		l = multipartBoundary.ReplaceAllString(digestRandom.ReplaceAllString(l, "$1=random"), "BOUNDARY")
		l = ntlmRandom.ReplaceAllString(l, "NTLM AUTHENTICATE")
		o.Logs = append(o.Logs, portless(l))
	}
	for _, s := range h.Samples.Samples() {
		tags := s.Tags.Map()
		var kv []string
		for k, v := range tags {
			kv = append(kv, k+"="+strings.ReplaceAll(strings.ReplaceAll(v, main.url(), "BASE"), other.url(), "OTHER"))
		}
		sort.Strings(kv)
		line := s.Metric.Name + " " + strings.Join(kv, " ")
		if s.Metric.Name == "http_reqs" || s.Metric.Name == "http_req_failed" {
			line += " value=" + strconv.FormatFloat(s.Value, 'g', -1, 64)
		}
		o.Samples = append(o.Samples, portless(line))
	}
	for _, r := range main.requests() {
		o.Requests = append(o.Requests, portless(strings.ReplaceAll(r, other.url(), "OTHER")))
	}
	for _, r := range other.requests() {
		o.Other = append(o.Other, portless(r))
	}
	return o
}

// portless hides loopback ports (ephemeral, different in each run).
func portless(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "127.0.0.1:")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len("127.0.0.1:")])
		s = s[i+len("127.0.0.1:"):]
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		b.WriteString("PORT")
		s = s[j:]
	}
}

// TestFastPathMatchesNetHTTP runs each request through both of a VU's HTTP clients, the
// fast HTTP/1.1 path and net/http, against servers that behave (and misbehave) the same way
// for both: responses, samples, warnings, errors and what the servers receive must be the
// same. The fast path is taken by plain http:// requests (useFast); UseNetHTTPOnly gives the
// other VU a client without it.
//
// Where a script sleeps, it lets net/http's reader goroutine notice what the server did to
// an idle connection (closed it, or sent bytes after a response): net/http drops such a
// connection only once that goroutine has run, the fast path when it next takes the
// connection (TestFastPathDropsChatteringIdleConn, TestIdlePeek).
func TestFastPathMatchesNetHTTP(t *testing.T) {
	tests := []struct {
		name, script string
		want         string // a substring of the fast path's logs, to check the case does what it says
		parallel     bool   // requests run at once (http.batch): compare what the servers saw as sets
	}{
		{"GET", "show('r', http.get(`${__ENV.BASE}/ok`));", `"body":"hello"`, false},
		{"GET with an empty body", "show('r', http.request('GET', `${__ENV.BASE}/echo`, ''));", `"status":201`, false},
		{"GET with a body", "show('r', http.request('GET', `${__ENV.BASE}/echo`, 'abc'));", `"body":"abc"`, false},
		{"POST", "show('r', http.post(`${__ENV.BASE}/echo`, 'data', { headers: { 'Content-Type': 'text/plain' } }));", `"body":"data"`, false},
		{"POST without a body", "show('r', http.post(`${__ENV.BASE}/echo`));", `"status":201`, false},
		{"DELETE and OPTIONS without a body", "show('d', http.del(`${__ENV.BASE}/echo`)); show('o', http.options(`${__ENV.BASE}/echo`));", `"status":201`, false},
		{"form body", "show('r', http.post(`${__ENV.BASE}/echo`, { a: '1', b: 'x y' }));", `a=1`, false},
		{"HEAD", "show('r', http.head(`${__ENV.BASE}/head`)); show('again', http.get(`${__ENV.BASE}/ok`));", `"body":"hello"`, false},
		{"chunked response", "show('r', http.get(`${__ENV.BASE}/chunked`)); show('again', http.get(`${__ENV.BASE}/ok`));", `"body":"abc"`, false},
		{"script's Transfer-Encoding and Content-Length headers", "show('r', http.post(`${__ENV.BASE}/echo`, 'data', { headers: { 'Transfer-Encoding': 'chunked', 'Content-Length': '99', 'Trailer': 'X' } }));", `"body":"data"`, false},
		{"binary and discarded bodies", "show('b', http.get(`${__ENV.BASE}/ok`, { responseType: 'none' })); const r = http.get(`${__ENV.BASE}/ok`, { responseType: 'binary' }); console.log(r.body.byteLength);", "info: 5", false},
		{"GET on a stale keep-alive connection", "show('1', http.get(`${__ENV.BASE}/close-after`)); sleep(0.2); show('2', http.get(`${__ENV.BASE}/ok`));", `"body":"hello"`, false},
		{"POST on a stale keep-alive connection", "show('1', http.get(`${__ENV.BASE}/close-after`)); sleep(0.2); show('2', http.post(`${__ENV.BASE}/echo`, 'data'));", `"body":"data"`, false},
		{"GET dropped unanswered on a reused connection is retried", "show('1', http.get(`${__ENV.BASE}/drop-on-reuse`)); show('2', http.get(`${__ENV.BASE}/drop-on-reuse`));", `2 {"status":200`, false},
		{"POST dropped unanswered on a reused connection is not retried", "show('1', http.get(`${__ENV.BASE}/drop-on-reuse`)); show('2', http.post(`${__ENV.BASE}/drop-on-reuse`, 'once'));", `2 {"status":0`, false},
		{"POST without a body dropped on a reused connection is not retried", "show('1', http.get(`${__ENV.BASE}/drop-on-reuse`)); show('2', http.post(`${__ENV.BASE}/drop-on-reuse`));", `2 {"status":0`, false},
		{"POST with an Idempotency-Key is retried", "show('1', http.get(`${__ENV.BASE}/drop-on-reuse`)); show('2', http.post(`${__ENV.BASE}/drop-on-reuse`, 'twice', { headers: { 'Idempotency-Key': 'k1' } }));", `2 {"status":200`, false},
		{"reset on a reused connection", "show('1', http.get(`${__ENV.BASE}/reset-on-reuse`)); show('get', http.get(`${__ENV.BASE}/reset-on-reuse`)); show('3', http.get(`${__ENV.BASE}/reset-on-reuse`)); show('put', http.put(`${__ENV.BASE}/reset-on-reuse`, 'x'));", `get {"status":200`, false},
		{"response cut on a reused connection", "show('1', http.get(`${__ENV.BASE}/partial-on-reuse`)); show('2', http.get(`${__ENV.BASE}/partial-on-reuse`));", `2 {"status":0`, false},
		{"connection closed without an answer", "show('r', http.get(`${__ENV.BASE}/eof`));", `"error_code":1200`, false},
		{"connection reset without an answer", "show('r', http.get(`${__ENV.BASE}/reset`));", `"error_code":1220`, false},
		{"connection refused", "show('r', http.get('http://127.0.0.1:1/'));", `"error_code":1212`, false},
		{"redirects", `for (const code of [301, 302, 303, 307, 308]) {
  show('post ' + code, http.post(` + "`${__ENV.BASE}/redirect/${code}`" + `, 'payload'));
  show('body ' + code, http.put(` + "`${__ENV.BASE}/redirect/${code}?body=moved`" + `, 'payload'));
  show('other host ' + code, http.get(` + "`${__ENV.BASE}/redirect/${code}?other=1`" + `, { headers: { Authorization: 'secret' } }));
}
show('no follow', http.get(` + "`${__ENV.BASE}/redirect/302`" + `, { redirects: 0 }));`, `"url":"OTHER/echo"`, false},
		{"cookies", "show('set', http.get(`${__ENV.BASE}/setcookie`)); show('back', http.get(`${__ENV.BASE}/ok`, { cookies: { mine: 'v' } })); show('other path', http.post(`${__ENV.BASE}/nope/echo`));", `"Cookie":["mine=v; sid=42"]`, false},
		{"bad header name", "show('r', http.get(`${__ENV.BASE}/ok`, { headers: { 'Bad Name': 'x' } })); show('r', http.get(`${__ENV.BASE}/ok`, { headers: { 'X-A\\r\\nX-Injected': 'x' } }));", `invalid header field name`, false},
		{"header value with CR or LF", "show('cr', http.get(`${__ENV.BASE}/ok`, { headers: { 'X-A': 'a\\r\\nX-Injected: 1' } })); show('lf', http.get(`${__ENV.BASE}/ok`, { headers: { 'X-A': 'a\\nb' } })); show('nul', http.get(`${__ENV.BASE}/ok`, { headers: { 'X-A': 'a\\u0000b' } })); show('tab', http.get(`${__ENV.BASE}/ok`, { headers: { 'X-A': 'a\\tb' } }));", `invalid header field value`, false},
		{"bad Host header", "show('r', http.get(`${__ENV.BASE}/ok`, { headers: { Host: 'a\\r\\nX-Injected: 1' } })); show('ok', http.get(`${__ENV.BASE}/echo`, { headers: { Host: 'example.com' } })); show('space', http.get(`${__ENV.BASE}/echo`, { headers: { Host: 'a b' } }));", `invalid header field value for \"Host\"`, false},
		{"header values with spaces around", "show('r', http.get(`${__ENV.BASE}/ok`, { headers: { 'User-Agent': '  agent  ', 'X-Pad': ' \tpadded\t ', 'X-Empty': '' } }));", `"status":200`, false},
		{"Connection: close from the script", "show('1', http.get(`${__ENV.BASE}/ok`, { headers: { Connection: 'close' } })); show('2', http.get(`${__ENV.BASE}/ok`));", `2 {"status":200`, false},
		{"Expect: 100-continue", "show('r', http.post(`${__ENV.BASE}/echo`, 'data', { headers: { Expect: '100-continue' } }));", `"body":"data"`, false},
		{"methods", "for (const m of ['get', 'TRACE', 'PROPFIND']) show(m, http.request(m, `${__ENV.BASE}/echo`, 'x'));", `PROPFIND {"status":201`, false},
		// These go through net/http on both sides (useFast), on a connection of its own.
		{"empty method", "show('r', http.request('', `${__ENV.BASE}/echo`, 'x'));", `"status":201`, false},
		{"invalid method", "show('r', http.request('BAD METHOD', `${__ENV.BASE}/echo`, 'x'));", `"error_code":1020`, false},
		{"cookie set by a redirect", "show('r', http.get(`${__ENV.BASE}/redirect-cookie`));", `"sid=7"`, false},
		{"timeout while the server stalls the headers", "show('r', http.get(`${__ENV.BASE}/stall-headers`, { timeout: '100ms' }));", `"error_code":1050`, false},
		{"timeout while the server stalls the body", "show('r', http.get(`${__ENV.BASE}/stall-body`, { timeout: '200ms' })); show('chunked', http.get(`${__ENV.BASE}/stall-chunked`, { timeout: '200ms' }));", `"error_code":1050`, false},
		{"1xx informational responses", "show('r', http.get(`${__ENV.BASE}/1xx`)); show('too many', http.get(`${__ENV.BASE}/too-many-1xx`));", `"body":"final"`, false},
		{"Content-Length longer than the body", "show('r', http.get(`${__ENV.BASE}/short`));", `unexpected EOF`, false},
		{"Content-Length shorter than the body", "show('r', http.get(`${__ENV.BASE}/long`)); sleep(0.2); show('next', http.get(`${__ENV.BASE}/ok`));", `"body":"hello"`, false},
		{"connection reset mid-body", "show('r', http.get(`${__ENV.BASE}/reset-body`));", `"error_code":1220`, false},
		{"Connection: close, HTTP/1.0 and a body until close", "for (const p of ['conn-close', 'http10', 'no-length', 'ok']) show(p, http.get(`${__ENV.BASE}/${p}`));", `"body":"until close"`, false},
		{"statuses", "for (const c of [204, 304, 404, 500, 599]) show(String(c), http.get(`${__ENV.BASE}/status?code=${c}`));", `"error_code":1500`, false},
		{"not HTTP", "show('r', http.get(`${__ENV.BASE}/garbage`));", `malformed HTTP`, false},
		{"compressed responses", "for (const ce of ['gzip', 'deflate', 'br', 'zstd', 'gzip, br', 'identity']) show(ce, http.get(`${__ENV.BASE}/encoded?ce=${encodeURIComponent(ce)}`)); show('bad', http.get(`${__ENV.BASE}/bad-gzip`));", `gzip, br {"status":200,"status_text":"200 OK","proto":"HTTP/1.1","url":"BASE/encoded?ce=gzip%2C%20br","headers":{"Content-Encoding":"gzip, br"`, false},
		{"compressed request bodies", "for (const c of ['gzip', 'deflate', 'br', 'zstd', 'gzip, zstd']) show(c, http.post(`${__ENV.BASE}/echo`, 'payload payload payload', { compression: c }));", `"Content-Encoding":["gzip, zstd"]`, false},
		{"basic auth from the URL", "show('r', http.get(__ENV.BASE.replace('http://', 'http://u:p%40ss@') + '/echo')); show('explicit', http.get(__ENV.BASE.replace('http://', 'http://u:p@') + '/echo', { auth: 'basic' }));", `"url":"http://****:****@127.0.0.1:PORT/echo"`, false},
		{"digest auth", "show('r', http.post(__ENV.BASE.replace('http://', 'http://u:p@') + '/digest?x=1', 'data', { auth: 'digest' }));", `"body":"authed"`, false},
		{"cookie jar API, replace and a jar of the script's own", "http.cookieJar().set(__ENV.BASE, 'j', '1'); show('both', http.get(`${__ENV.BASE}/echo-cookie`, { cookies: { j: '2' } })); show('replace', http.get(`${__ENV.BASE}/echo-cookie`, { cookies: { j: { value: '3', replace: true } } })); const own = new http.CookieJar(); show('own', http.get(`${__ENV.BASE}/setcookie`, { jar: own })); show('own back', http.get(`${__ENV.BASE}/echo-cookie`, { jar: own, headers: { Cookie: 'h=1' } }));", `own back {"status":200,"status_text":"200 OK","proto":"HTTP/1.1","url":"BASE/echo-cookie","headers":{"Content-Length":"11"},"body":"h=1; sid=42"`, false},
		{"multipart body", "show('r', http.post(`${__ENV.BASE}/echo`, { f: http.file('data', 'a.txt', 'text/plain'), x: '1' })); show('file body', http.post(`${__ENV.BASE}/echo`, http.file('raw', 'b.bin')));", `name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\ndata\r\n--BOUNDARY--`, false},
		{"compression without a body", "show('r', http.get(`${__ENV.BASE}/echo`, { compression: 'gzip' }));", `"request":{"method":"GET","url":"BASE/echo","headers":{"User-Agent"`, false},
		{"ntlm auth", "show('r', http.post(__ENV.BASE.replace('http://', 'http://D%5Cu:p@') + '/ntlm', 'data', { auth: 'ntlm' })); show('again', http.get(__ENV.BASE.replace('http://', 'http://u:p@') + '/ntlm', { auth: 'ntlm' }));", `again {"status":200`, false},
		{"batch", "const rs = http.batch([['GET', `${__ENV.BASE}/ok`], ['POST', `${__ENV.BASE}/echo`, 'b']]); show('0', rs[0]); show('1', rs[1]);", `"body":"b"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast := runPath(t, tc.script, false)
			slow := runPath(t, tc.script, true)
			if tc.parallel {
				unordered(&fast)
				unordered(&slow)
			}
			if diff := cmp.Diff(slow, fast); diff != "" {
				t.Errorf("fast path (+) differs from net/http (-):\n%s", lineDiff(slow, fast))
			}
			if all := strings.Join(fast.Logs, "\n"); !strings.Contains(all, tc.want) {
				t.Errorf("the logs lack %q:\n%s", tc.want, all)
			}
		})
	}
}

// unordered drops the connection numbers from what the servers saw and sorts it.
func unordered(o *observed) {
	for _, l := range []*[]string{&o.Requests, &o.Other} {
		for i, r := range *l {
			(*l)[i] = r[strings.Index(r, "#")+3:]
		}
		sort.Strings(*l)
	}
}

// lineDiff lists, section by section, the lines of one run missing from the other.
func lineDiff(slow, fast observed) string {
	var b strings.Builder
	section := func(name string, a, c []string) {
		in := func(l []string, x string) bool {
			for _, y := range l {
				if y == x {
					return true
				}
			}
			return false
		}
		for _, x := range a {
			if !in(c, x) {
				fmt.Fprintf(&b, "%s - %s\n", name, x)
			}
		}
		for _, x := range c {
			if !in(a, x) {
				fmt.Fprintf(&b, "%s + %s\n", name, x)
			}
		}
		if len(a) != len(c) {
			fmt.Fprintf(&b, "%s: %d lines, %d lines\n", name, len(a), len(c))
		}
	}
	section("log", slow.Logs, fast.Logs)
	section("sample", slow.Samples, fast.Samples)
	section("request", slow.Requests, fast.Requests)
	section("other host", slow.Other, fast.Other)
	return b.String()
}

// encodeForTest applies comma-separated content codings in order, with the standard
// library's gzip and zlib and the brotli and zstd packages.
func encodeForTest(b []byte, codings string) []byte {
	for _, c := range strings.Split(codings, ",") {
		var buf bytes.Buffer
		var w io.WriteCloser
		switch strings.TrimSpace(c) {
		case "gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		case "br":
			w = brotli.NewWriter(&buf)
		case "zstd":
			w, _ = zstd.NewWriter(&buf)
		default:
			continue
		}
		_, _ = w.Write(b)
		_ = w.Close()
		b = buf.Bytes()
	}
	return b
}
