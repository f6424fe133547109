package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// responseType says what a response body becomes in JavaScript.
type responseType uint8

const (
	respText responseType = iota
	respBinary
	respNone
)

// request is one prepared request: plain Go data, so it can run off the VU goroutine.
type request struct {
	method    string
	url       *url.URL
	rawURL    string
	body      []byte
	header    gohttp.Header
	timeout   time.Duration
	respType  responseType
	redirects int
	nameTag   string   // params.tags.name, "" when not given
	tags      []string // other params.tags as key, value pairs
	expected  *statusSet
	maxBody   int64 // the response body limit in bytes (--max-response-body); ≤ 0: none
	debug     string
	digest    *credentials     // params.auth "digest": answer the server's 401 challenge
	ntlm      *credentials     // params.auth "ntlm": answer the server's 401 challenge
	cookies   []reqCookie      // params.cookies
	jar       gohttp.CookieJar // the jar of this request (params.jar, else the VU's); nil: none
	shownURL  string           // the URL in tags and the response when not url (user info masked)
}

// timings are k6's request phases in ms.
type timings struct {
	blocked, connecting, tlsHandshaking, sending, waiting, receiving, duration float64
}

// result is one completed hop (a request and its response, or its error).
type result struct {
	req       *request
	url       string // the URL requested in this hop
	status    int
	statusTxt string
	proto     string
	header    gohttp.Header
	body      []byte
	tls       string // "tls1.3", "" for plain HTTP
	cipher    string // the TLS cipher suite's name ("TLS_AES_128_GCM_SHA256"), "" for plain HTTP
	remote    string
	timings   timings
	end       time.Time
	errCode   int
	errMsg    string
	goErr     error // the full error of a failed round trip, for the warning log
	reqHeader gohttp.Header
	reqBody   []byte
	method    string
	firstAuth authScheme  // the first hop of digest or NTLM auth (see expectedStatus)
	cookies   []reqCookie // the cookies sent
	unsent    bool        // refused before it went out (an invalid URL): no samples
}

// authScheme marks the first hop of a request with challenge-response auth.
type authScheme uint8

const (
	authNone authScheme = iota
	authDigest
	authNTLM
)

// expectedStatus reports whether the hop's status is expected (k6's response callback). As
// in k6, the first hop of digest auth expects a 401 and only that; the first hop of NTLM
// auth a 401 or what the callback expects.
func (r *result) expectedStatus() bool {
	switch r.firstAuth {
	case authDigest:
		return r.status == gohttp.StatusUnauthorized
	case authNTLM:
		return r.status == gohttp.StatusUnauthorized || r.req.expected.contains(r.status)
	}
	return r.req.expected.contains(r.status)
}

// tracer records the phases of one round trip with monotonic clock readings.
type tracer struct {
	start, getConn, gotConn, dnsStart, connectStart, connectDone, tlsStart, tlsDone time.Time
	wrote, firstByte                                                                time.Time
	reused                                                                          bool
	remote                                                                          string
}

func (t *tracer) trace(mu *sync.Mutex) *httptrace.ClientTrace {
	// net/http may call these from a dial goroutine that outlives the request (a connection
	// dialed for it but taken by another request), so they hold mu, and the request reads a
	// copy taken under it (snapshot).
	at := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	return &httptrace.ClientTrace{
		GetConn: func(string) { at(func() { t.getConn = time.Now() }) },
		GotConn: func(i httptrace.GotConnInfo) {
			at(func() {
				t.gotConn = time.Now()
				t.reused = i.Reused
				if i.Conn != nil && i.Conn.RemoteAddr() != nil {
					t.remote = i.Conn.RemoteAddr().String()
				}
			})
		},
		DNSStart: func(httptrace.DNSStartInfo) {
			at(func() {
				if t.dnsStart.IsZero() {
					t.dnsStart = time.Now()
				}
			})
		},
		ConnectStart: func(string, string) {
			at(func() {
				if t.connectStart.IsZero() {
					t.connectStart = time.Now()
				}
			})
		},
		ConnectDone:          func(string, string, error) { at(func() { t.connectDone = time.Now() }) },
		TLSHandshakeStart:    func() { at(func() { t.tlsStart = time.Now() }) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { at(func() { t.tlsDone = time.Now() }) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { at(func() { t.wrote = time.Now() }) },
		GotFirstResponseByte: func() { at(func() { t.firstByte = time.Now() }) },
	}
}

// snapshot copies t under mu (see trace).
func (t *tracer) snapshot(mu *sync.Mutex) *tracer {
	mu.Lock()
	defer mu.Unlock()
	c := *t
	return &c
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond)
}

// phases turns the readings into k6's timings; end is when the body was read.
func (t *tracer) phases(end time.Time) timings {
	var tm timings
	switch {
	case !t.dnsStart.IsZero():
		tm.blocked = ms(t.dnsStart.Sub(t.start))
	case !t.connectStart.IsZero():
		tm.blocked = ms(t.connectStart.Sub(t.start))
	case !t.gotConn.IsZero():
		tm.blocked = ms(t.gotConn.Sub(t.start))
	}
	if !t.connectStart.IsZero() && !t.connectDone.IsZero() {
		tm.connecting = ms(t.connectDone.Sub(t.connectStart))
	}
	if !t.tlsStart.IsZero() && !t.tlsDone.IsZero() {
		tm.tlsHandshaking = ms(t.tlsDone.Sub(t.tlsStart))
	}
	if !t.gotConn.IsZero() && !t.wrote.IsZero() {
		tm.sending = ms(t.wrote.Sub(t.gotConn))
	}
	if !t.wrote.IsZero() && !t.firstByte.IsZero() {
		tm.waiting = ms(t.firstByte.Sub(t.wrote))
	}
	if !t.firstByte.IsZero() {
		tm.receiving = ms(end.Sub(t.firstByte))
	}
	tm.duration = tm.sending + tm.waiting + tm.receiving
	return tm
}

// debugLog receives --http-debug dumps.
type debugLog func(msg string)

// sender is what a request needs to go out: plain Go values, safe to use off the VU
// goroutine.
type sender struct {
	client    *gohttp.Client
	fast      *fastPool // nil: always net/http
	userAgent string
	dbg       debugLog
	limit     *rateLimiter // the rps option's, nil: no limit
}

// newRequest builds the net/http request of one hop.
func newRequest(ctx context.Context, userAgent string, req *request, method, rawURL string, body []byte, cookies []reqCookie) (*gohttp.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := gohttp.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, err
	}
	setHeader(hr, req, userAgent, cookies)
	return hr, nil
}

// setHeader gives hr the script's headers, the VU's User-Agent unless the script set one,
// the script's Host header as the request's host, and the hop's cookies after the script's
// Cookie header. Both clients send what it sets.
func setHeader(hr *gohttp.Request, req *request, userAgent string, cookies []reqCookie) {
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if len(cookies) > 0 {
		line := cookieLine(cookies)
		if own := hr.Header.Get("Cookie"); own != "" {
			line = own + "; " + line
		}
		hr.Header["Cookie"] = []string{line}
	}
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", userAgent)
	}
	if h := hr.Header.Get("Host"); h != "" {
		hr.Host = h
	}
}

// useFast reports whether a hop can take the VU's fast HTTP/1.1 path (see fastPool), whose
// behaviour is that of net/http (differential_test.go holds it to that). The rest goes
// through net/http: https, user info in the URL, a proxy from the environment and
// --http-debug (canFast, sender.fast); a method net/http would refuse or rewrite (not a
// token, or empty: net/http's error or its GET stay the only ones); and an Expect header
// (net/http sends the body only after 100 Continue, or after a second).
func useFast(sd sender, req *request, method string, u *url.URL) bool {
	if sd.fast == nil || sd.dbg != nil || !canFast(u) || method == "" || !httpguts.ValidHeaderFieldName(method) {
		return false
	}
	_, expect := req.header["Expect"]
	return !expect
}

// doFast runs one hop over the VU's fast HTTP/1.1 pool.
func doFast(ctx context.Context, sd sender, req *request, method string, u *url.URL, body []byte, cookies []reqCookie) result {
	r := result{req: req, url: u.String(), method: method, reqBody: body, cookies: cookies}
	// Built directly (no second URL parse); written by writeRequest, read by ReadResponse.
	hr := &gohttp.Request{Method: method, URL: u, Host: u.Host, Header: make(gohttp.Header, len(req.header)+2),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	setHeader(hr, req, sd.userAgent, cookies)
	r.reqHeader = hr.Header
	var t tracer
	t.start = time.Now()
	if err := validateHeader(hr.Header); err != nil {
		r.complete(&t, nil, nil, urlError(hr, err))
		return r
	}
	resp, data, err := sd.fast.roundTrip(ctx, hr, body, readRule{req.respType, req.maxBody}, t.start.Add(req.timeout), &t)
	r.complete(&t, resp, data, err)
	return r
}

// do runs req and follows redirects itself, returning one result per hop (the last is the
// final response). It touches no JavaScript, so batch can run it on other goroutines.
func do(ctx context.Context, sd sender, req *request) []result {
	method, u, body := req.method, req.url, req.body
	if err := sd.limit.wait(ctx); err != nil {
		return []result{{req: req, url: u.String(), method: method, goErr: err, errCode: codeGeneric, errMsg: err.Error(), end: time.Now()}}
	}
	var out []result
	for hop := 0; ; hop++ {
		var r result
		cookies := hopCookies(req, u)
		if useFast(sd, req, method, u) {
			r = doFast(ctx, sd, req, method, u, body, cookies)
		} else {
			r = doOnce(ctx, sd.client, sd.userAgent, req, method, u, body, cookies, sd.dbg)
		}
		if req.jar != nil {
			if cs := responseCookies(r.header); len(cs) > 0 {
				req.jar.SetCookies(u, cs)
			}
		}
		if hop == 0 && req.shownURL != "" {
			r.url = req.shownURL
		}
		if hop == 0 && len(out) == 0 {
			switch {
			case req.digest != nil:
				r.firstAuth = authDigest
			case req.ntlm != nil:
				r.firstAuth = authNTLM
			}
		}
		if r.firstAuth != authNone && r.status == gohttp.StatusUnauthorized {
			if h := challengeAnswer(req, r.header.Values("WWW-Authenticate"), method, u, body); h != "" {
				out = append(out, r)
				authed := *req
				authed.header = req.header.Clone()
				authed.header.Set("Authorization", h)
				req = &authed
				hop--
				continue
			}
		}
		out = append(out, r)
		if r.errCode != 0 && r.status == 0 {
			return out
		}
		loc := r.header.Get("Location")
		if r.status < 300 || r.status > 399 || loc == "" || hop >= req.redirects {
			return out
		}
		next, err := u.Parse(loc)
		if err != nil {
			return out
		}
		switch r.status {
		case 301, 302, 303:
			if method != gohttp.MethodGet && method != gohttp.MethodHead {
				method, body = gohttp.MethodGet, nil
			}
		}
		u = next
	}
}

// challengeAnswer is the Authorization header answering a 401's challenge with the
// request's digest or NTLM credentials, "" when there is none to answer.
func challengeAnswer(req *request, challenges []string, method string, u *url.URL, body []byte) string {
	switch {
	case req.digest != nil:
		if ch, ok := digestChallenge(challenges); ok {
			if h, err := digestAuthorization(ch, *req.digest, method, u.RequestURI(), body, ""); err == nil {
				return h
			}
		}
	case req.ntlm != nil:
		if ch, err := parseNTLMChallenge(challenges); err == nil {
			return ntlmAuthenticate(*req.ntlm, ch)
		}
	}
	return ""
}

func doOnce(ctx context.Context, client *gohttp.Client, userAgent string, req *request, method string, u *url.URL, body []byte, cookies []reqCookie, dbg debugLog) result {
	r := result{req: req, url: u.String(), method: method, reqBody: body, cookies: cookies}
	ctx, cancel := context.WithTimeout(ctx, req.timeout)
	defer cancel()
	t := &tracer{}
	var mu sync.Mutex
	ctx = httptrace.WithClientTrace(ctx, t.trace(&mu))
	hr, err := newRequest(ctx, userAgent, req, method, r.url, body, cookies)
	if err != nil {
		r.errCode, r.errMsg = codeInvalidURL, "invalid URL"
		r.end = time.Now()
		return r
	}
	r.reqHeader = hr.Header
	if dbg != nil {
		dbg.request(hr, req.debug == "full")
	}
	t.start = time.Now()
	resp, err := noJar(client).Do(hr)
	if err != nil {
		r.complete(t.snapshot(&mu), nil, nil, err)
		return r
	}
	data, err := readBody(resp, method, readRule{req.respType, req.maxBody})
	_ = resp.Body.Close()
	r.complete(t.snapshot(&mu), resp, data, err)
	if dbg != nil {
		dbg.response(resp, data, req.debug == "full")
	}
	return r
}

// readRule is how a response's body is read: as the request's responseType asks, up to
// limit bytes (≤ 0: no limit).
type readRule struct {
	typ   responseType
	limit int64
}

// DefaultMaxResponseBody is the response body limit unless --max-response-body says
// otherwise: a body beyond it (an endless stream, a decompression bomb) is truncated to it
// with an error, instead of growing until the process runs out of memory.
const DefaultMaxResponseBody = 512 << 20

// bodyTooLarge is the error of a body truncated at the limit (error_code 1000, k6's code
// for an error it has no other code for: k6 itself has no such limit).
func bodyTooLarge(limit int64) error {
	return &codedError{code: codeGeneric, msg: fmt.Sprintf("response body larger than the --max-response-body limit of %d bytes: truncated", limit)}
}

// isBodyTooLarge reports whether err is bodyTooLarge's.
func isBodyTooLarge(err error) bool {
	var coded *codedError
	return errors.As(err, &coded)
}

// readBody reads a response's body as the request asked: none after HEAD, discarded for
// responseType none, else whole up to the rule's limit. On error it returns what was read.
func readBody(resp *gohttp.Response, method string, rule readRule) ([]byte, error) {
	switch {
	case method == gohttp.MethodHead:
		return []byte{}, nil
	case rule.typ == respNone:
		_, err := io.Copy(io.Discard, resp.Body)
		return nil, err
	}
	if n := resp.ContentLength; rule.limit <= 0 || (n >= 0 && n <= rule.limit) {
		return readAll(resp.Body, n)
	}
	data, err := readUpTo(resp.Body, rule.limit+1)
	if int64(len(data)) > rule.limit {
		return data[:rule.limit], bodyTooLarge(rule.limit)
	}
	return data, err
}

// readUpTo is io.ReadAll(io.LimitReader(rd, max)) without the LimitedReader's allocation
// (a body of unknown length is read this way on every chunked response).
func readUpTo(rd io.Reader, max int64) ([]byte, error) {
	b := make([]byte, 0, min(512, max))
	for int64(len(b)) < max {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append grow it
		}
		room := b[len(b):min(int64(cap(b)), max)]
		n, err := rd.Read(room)
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// complete fills r in from a hop's outcome, the same way for both clients: resp is nil when
// the round trip failed (err is its error, logged as the request's failure); otherwise err
// is the body's (the response keeps its status, headers and the bytes read). A 4xx or 5xx
// status is an error code too (k6's 1000 + status).
func (r *result) complete(t *tracer, resp *gohttp.Response, body []byte, err error) {
	r.end = time.Now()
	r.timings = t.phases(r.end)
	if resp == nil {
		r.errCode, r.errMsg = classifyError(err)
		r.goErr = err
		return
	}
	r.status = resp.StatusCode
	r.statusTxt = resp.Status
	r.proto = resp.Proto
	r.header = resp.Header
	r.body = body
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && err == nil && len(body) > 0 {
		dec, derr := decodeBody(body, ce, r.req.maxBody)
		var coded *codedError
		switch {
		case derr == nil:
			r.body = dec
		case errors.As(derr, &coded): // decoded past the limit: the decoded part, truncated
			r.body, err = dec, derr
		default:
			err = derr
		}
	}
	r.remote = t.remote
	if resp.TLS != nil {
		r.tls = tlsVersion(resp.TLS.Version)
		r.cipher = tls.CipherSuiteName(resp.TLS.CipherSuite)
	}
	if err != nil {
		r.errCode, r.errMsg = classifyError(err)
		if _, ok := err.(decodeError); ok {
			r.errCode, r.errMsg = codeDecompression, err.Error()
		}
	} else if r.status >= 400 {
		r.errCode = codeHTTPStatusOffset + r.status
	}
}

// readAll reads a body, sized by Content-Length when known.
func readAll(rd io.Reader, n int64) ([]byte, error) {
	if n >= 0 && n < 64<<20 {
		buf := make([]byte, n)
		read, err := io.ReadFull(rd, buf)
		return buf[:read], err
	}
	return io.ReadAll(rd)
}

func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "tls1.0"
	case tls.VersionTLS11:
		return "tls1.1"
	case tls.VersionTLS12:
		return "tls1.2"
	case tls.VersionTLS13:
		return "tls1.3"
	}
	return ""
}

// statusSet is the set of expected statuses (http.expectedStatuses).
type statusSet struct {
	single []int
	ranges [][2]int
}

func (s *statusSet) contains(code int) bool {
	for _, c := range s.single {
		if c == code {
			return true
		}
	}
	for _, r := range s.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// defaultExpected is k6's default response callback: 200–399.
var defaultExpected = &statusSet{ranges: [][2]int{{200, 399}}}

// parseTimeout reads params.timeout: a duration string ("10s", "500ms") or milliseconds.
func parseTimeout(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		if d, err := time.ParseDuration(x); err == nil {
			return d, nil
		}
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return time.Duration(f * float64(time.Millisecond)), nil
		}
		return 0, fmt.Errorf("invalid timeout %q: want a duration like \"10s\" or milliseconds", x)
	}
	return 0, fmt.Errorf("invalid timeout %v: want a duration like \"10s\" or milliseconds", v)
}

// formEncode encodes a plain object body as application/x-www-form-urlencoded, keys sorted.
func formEncode(m map[string]any) []byte {
	vals := url.Values{}
	for k, v := range m {
		vals.Set(k, fmt.Sprint(v))
	}
	return []byte(vals.Encode())
}

// canonicalHeaders flattens headers to canonical keys with values joined by ", ".
func flatHeader(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

// noJar returns the client without its jar: the module sends and stores cookies itself, the
// same way for both clients (hopCookies, and the jar of the request).
func noJar(c *gohttp.Client) *gohttp.Client {
	if c.Jar == nil {
		return c
	}
	cp := *c
	cp.Jar = nil
	return &cp
}
