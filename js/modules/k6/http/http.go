// Package http is the k6/http module: get, post, put, patch, del, head, options, request,
// asyncRequest and batch, response objects with timings, and k6's per-request metrics
// (http_reqs, http_req_*) with k6's tags and error codes; with k6's request features:
// multipart bodies and http.file (multipart.go), basic, digest and NTLM auth (auth.go,
// ntlm.go), content codings both ways (compression.go), cookie jars (cookies.go), http.url
// tagged templates and GJSON selectors in res.json.
//
// A request goes out through one of a VU's two clients: a fast HTTP/1.1 path for plain
// http:// (fastPool, chosen by useFast) or net/http for the rest. The fast path behaves as
// net/http does, which differential_test.go checks case by case, and both hand their outcome
// to the same code (result.complete, then the response object and the samples).
package http

import (
	"context"
	"errors"
	"fmt"
	gohttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6"
	"github.com/pixelk6/pixelk6/metrics"
)

func init() { modules.Register("k6/http", Root{}) }

// Root is the k6/http module.
type Root struct{}

var _ modules.Module = Root{}

// maxTagCache bounds the per-VU cache of request tag sets.
const maxTagCache = 512

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance {
	return &instance{vu: vu, expected: defaultExpected, tagCache: map[tagKey]metrics.TagSet{}}
}

type instance struct {
	vu       modules.VU
	expected *statusSet // nil: no response callback (no expected_response / http_req_failed)
	tagCache map[tagKey]metrics.TagSet
	base     k6.TagCache
}

// tagKey identifies a request's tag set for the cache.
type tagKey struct {
	base                  metrics.TagSet
	method, url, name     string
	proto, tls, errMsg    string
	status, errCode       int
	expected, hasExpected bool
	extra                 string
	ip                    string // the remote IP, only when the ip system tag is enabled
}

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	verb := func(method string, hasBody bool) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			if hasBody {
				return m.request(method, call.Argument(0), call.Argument(1), call.Argument(2))
			}
			return m.request(method, call.Argument(0), goja.Undefined(), call.Argument(1))
		}
	}
	named := map[string]any{
		"get":     verb("GET", false),
		"head":    verb("HEAD", false),
		"post":    verb("POST", true),
		"put":     verb("PUT", true),
		"patch":   verb("PATCH", true),
		"del":     verb("DELETE", true),
		"options": verb("OPTIONS", true),
		"request": func(call goja.FunctionCall) goja.Value {
			return m.request(strings.ToUpper(call.Argument(0).String()), call.Argument(1), call.Argument(2), call.Argument(3))
		},
		"asyncRequest": m.asyncRequest,
		"batch":        m.batch,
		"expectedStatuses": func(call goja.FunctionCall) goja.Value {
			return rt.ToValue(m.expectedStatuses(call))
		},
		"setResponseCallback": func(call goja.FunctionCall) goja.Value {
			m.expected = m.statusSetArg(call.Argument(0))
			return goja.Undefined()
		},
		"cookieJar": m.cookieJar,
		"CookieJar": m.newCookieJar,
		"file":      m.file,
		"url":       m.taggedURL,
		"TLS_1_0":   "tls1.0", "TLS_1_1": "tls1.1", "TLS_1_2": "tls1.2", "TLS_1_3": "tls1.3",
		"OCSP_STATUS_GOOD": "good", "OCSP_STATUS_REVOKED": "revoked", "OCSP_STATUS_UNKNOWN": "unknown",
		"OCSP_STATUS_SERVER_FAILED": "server_failed",
		"OCSP_REASON_UNSPECIFIED":   "unspecified", "OCSP_REASON_KEY_COMPROMISE": "key_compromise",
		"OCSP_REASON_CA_COMPROMISE": "ca_compromise", "OCSP_REASON_AFFILIATION_CHANGED": "affiliation_changed",
		"OCSP_REASON_SUPERSEDED": "superseded", "OCSP_REASON_CESSATION_OF_OPERATION": "cessation_of_operation",
		"OCSP_REASON_CERTIFICATE_HOLD": "certificate_hold", "OCSP_REASON_REMOVE_FROM_CRL": "remove_from_crl",
		"OCSP_REASON_PRIVILEGE_WITHDRAWN": "privilege_withdrawn", "OCSP_REASON_AA_COMPROMISE": "aa_compromise",
	}
	return modules.Exports{Default: named, Named: named}
}

func (m *instance) state() *modules.State {
	st := m.vu.State()
	if st == nil {
		panic(m.vu.Runtime().NewGoError(fmt.Errorf("making HTTP requests in the init context is not supported")))
	}
	return st
}

func (m *instance) throw(err error) { panic(m.vu.Runtime().NewGoError(err)) }

// expectedStatuses(200, {min: 200, max: 299}, ...) returns a status set.
func (m *instance) expectedStatuses(call goja.FunctionCall) *statusSet {
	rt := m.vu.Runtime()
	s := &statusSet{}
	for i, a := range call.Arguments {
		switch x := a.Export().(type) {
		case int64:
			s.single = append(s.single, int(x))
		case float64:
			s.single = append(s.single, int(x))
		default:
			o, ok := a.(*goja.Object)
			if !ok || isNullish(o.Get("min")) || isNullish(o.Get("max")) {
				panic(rt.NewTypeError("expectedStatuses: argument %d (%s) must be a status number or {min, max}", i+1, a.String()))
			}
			s.ranges = append(s.ranges, [2]int{int(o.Get("min").ToInteger()), int(o.Get("max").ToInteger())})
		}
	}
	return s
}

func (m *instance) statusSetArg(v goja.Value) *statusSet {
	if isNullish(v) {
		return nil
	}
	if s, ok := v.Export().(*statusSet); ok {
		return s
	}
	m.throw(fmt.Errorf("setResponseCallback: the argument must come from http.expectedStatuses() or be null"))
	return nil
}

func isNullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

// prepare turns the JavaScript arguments into a request.
func (m *instance) prepare(st *modules.State, method string, urlV, bodyV, paramsV goja.Value) (*request, error) {
	rt := m.vu.Runtime()
	raw, name := urlV.String(), ""
	if o, ok := urlV.(*goja.Object); ok { // (a string URL is not exported: no allocation)
		if t, ok := o.Export().(*TaggedURL); ok {
			raw, name = t.URL, t.Name
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, &invalidURLError{raw}
	}
	req := &request{method: method, url: u, rawURL: raw, timeout: DefaultTimeout, redirects: maxRedirects(st.Options), maxBody: maxBody(st.Options),
		expected: m.expected, debug: st.Options.HTTPDebug, header: gohttp.Header{}, jar: st.HTTPClient.Jar, nameTag: name}
	if st.Options.DiscardResponseBodies {
		req.respType = respNone // params.responseType overrides it
	}
	if !isNullish(bodyV) {
		switch x := bodyV.Export().(type) {
		case string:
			req.body = []byte(x)
		case goja.ArrayBuffer:
			req.body = x.Bytes()
		case []byte:
			req.body = x
		case *FileData:
			req.body = x.bytes
			req.header.Set("Content-Type", x.ContentType)
		case map[string]any:
			if hasFile(x) {
				b, ct, err := multipartBody(x)
				if err != nil {
					return nil, fmt.Errorf("multipart body: %w", err)
				}
				req.body = b
				req.header.Set("Content-Type", ct)
				break
			}
			req.body = formEncode(x)
			req.header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			req.body = []byte(bodyV.String())
		}
	}
	if isNullish(paramsV) {
		return req, applyAuth(req, "")
	}
	p := paramsV.ToObject(rt)
	if h := p.Get("headers"); !isNullish(h) {
		ho := h.ToObject(rt)
		for _, k := range ho.Keys() {
			req.header.Set(k, ho.Get(k).String())
		}
	}
	if t := p.Get("tags"); !isNullish(t) {
		to := t.ToObject(rt)
		for _, k := range to.Keys() {
			v := to.Get(k).String()
			if k == "name" {
				req.nameTag = v
				continue
			}
			req.tags = append(req.tags, k, v)
		}
	}
	if t := p.Get("timeout"); !isNullish(t) {
		d, err := parseTimeout(t.Export())
		if err != nil {
			return nil, err
		}
		req.timeout = d
	}
	if t := p.Get("responseType"); !isNullish(t) {
		switch t.String() {
		case "text":
			req.respType = respText
		case "binary":
			req.respType = respBinary
		case "none":
			req.respType = respNone
		default:
			return nil, fmt.Errorf("invalid responseType %q: want text, binary or none", t.String())
		}
	}
	if r := p.Get("redirects"); !isNullish(r) {
		req.redirects = int(r.ToInteger())
	}
	if c := p.Get("cookies"); !isNullish(c) {
		req.cookies = requestCookies(rt, c)
	}
	if j := p.Get("jar"); j != nil && !goja.IsUndefined(j) {
		switch x := j.Export().(type) {
		case nil:
			req.jar = nil
		case *CookieJar:
			req.jar = x.jar
		default:
			return nil, fmt.Errorf("params.jar must be a CookieJar (http.cookieJar() or new http.CookieJar()), got %s", j.String())
		}
	}
	if c := p.Get("compression"); !isNullish(c) && c.String() != "" {
		body, enc, err := compressBody(req.body, c.String())
		if err != nil {
			return nil, err
		}
		if req.body != nil { // nothing to compress without a body (the names are checked)
			req.body = body
			req.header.Set("Content-Encoding", enc)
		}
	}
	auth := ""
	if a := p.Get("auth"); !isNullish(a) {
		auth = a.String()
	}
	if err := applyAuth(req, auth); err != nil {
		return nil, err
	}
	if cb := p.Get("responseCallback"); cb != nil && !goja.IsUndefined(cb) {
		req.expected = m.statusSetArg(cb)
	}
	return req, nil
}

func (m *instance) debugLog(st *modules.State) debugLog {
	if st.Options.HTTPDebug == "" {
		return nil
	}
	return func(msg string) { st.Logger.Log("info", msg) }
}

// sender returns what requests of this VU go out with.
func (m *instance) sender(st *modules.State) sender {
	sd := sender{client: st.HTTPClient, userAgent: userAgent(st), dbg: m.debugLog(st), limit: limiter(st)}
	// noConnectionReuse goes through net/http, whose transport then closes every
	// connection after its request (DisableKeepAlives, with its Connection: close header).
	if vt, ok := st.HTTPClient.Transport.(*vuTransport); ok && !st.Options.NoConnectionReuse {
		sd.fast = vt.fast
	}
	return sd
}

func userAgent(st *modules.State) string {
	if st.Options.UserAgent != "" {
		return st.Options.UserAgent
	}
	return DefaultUserAgent
}

// request runs one request synchronously and returns its response object.
func (m *instance) request(method string, urlV, bodyV, paramsV goja.Value) goja.Value {
	st := m.state()
	ctx := m.vu.Context()
	var hops []result
	if req, err := m.prepare(st, method, urlV, bodyV, paramsV); err != nil {
		hops = m.unsent(st, method, urlV, err)
	} else {
		hops = do(ctx, m.sender(st), req)
	}
	v, err := m.finish(ctx, st, hops)
	if err != nil {
		m.throw(err)
	}
	return v
}

// invalidURLError is prepare's error for a URL that is not an absolute http(s) URL.
type invalidURLError struct{ raw string }

func (e *invalidURLError) Error() string {
	return fmt.Sprintf("invalid URL %q: want an absolute http(s) URL", e.raw)
}

// unsent is the outcome of a request that prepare refused: with an invalid URL, as in k6,
// a failed request that never went out (no samples; error_code 1020 and the warning)
// unless the options say throw; any other error (the params) throws.
func (m *instance) unsent(st *modules.State, method string, urlV goja.Value, err error) []result {
	var ue *invalidURLError
	if !errors.As(err, &ue) || st.Options.Throw {
		m.throw(err)
	}
	req := &request{method: method, rawURL: ue.raw}
	return []result{{req: req, url: ue.raw, method: method, errCode: codeInvalidURL, errMsg: err.Error(),
		goErr: err, unsent: true, end: time.Now()}}
}

// finish emits the samples of every hop and builds the final response object. A request
// that failed (no response) is logged as a warning, or is the error returned when the
// options say throw (options.throw, --throw).
func (m *instance) finish(ctx context.Context, st *modules.State, hops []result) (goja.Value, error) {
	base := m.base.Tags(st)
	for i := range hops {
		if !hops[i].unsent {
			m.emit(ctx, st, base, &hops[i])
		}
	}
	if last := &hops[len(hops)-1]; last.goErr != nil && ctx.Err() == nil {
		if st.Options.Throw {
			return nil, last.goErr
		}
		st.Logger.Log("warn", fmt.Sprintf("Request Failed error=%q", last.goErr.Error()))
	}
	return m.response(&hops[len(hops)-1]), nil
}

// asyncRequest(method, url, body, params) returns a Promise of the response.
func (m *instance) asyncRequest(call goja.FunctionCall) goja.Value {
	st := m.state()
	rt := m.vu.Runtime()
	method := strings.ToUpper(call.Argument(0).String())
	req, err := m.prepare(st, method, call.Argument(1), call.Argument(2), call.Argument(3))
	var failed []result
	if err != nil {
		failed = m.unsent(st, method, call.Argument(1), err)
	}
	p, resolve, reject := rt.NewPromise()
	enqueue := m.vu.RegisterCallback()
	ctx := m.vu.Context()
	sd := m.sender(st)
	go func() {
		hops := failed
		if hops == nil {
			hops = do(ctx, sd, req)
		}
		enqueue(func() error {
			v, err := m.finish(ctx, st, hops)
			if err != nil {
				return reject(rt.NewGoError(err))
			}
			return resolve(v)
		})
	}()
	return rt.ToValue(p)
}

// batch(requests) runs requests in parallel (at most the options' batch at once, and
// batchPerHost to one host) and returns their responses in the same shape (array or
// object).
func (m *instance) batch(call goja.FunctionCall) goja.Value {
	st := m.state()
	rt := m.vu.Runtime()
	arg := call.Argument(0)
	obj, ok := arg.(*goja.Object)
	if !ok {
		m.throw(fmt.Errorf("http.batch: want an array or an object of requests, got %q", arg.String()))
	}
	keys := obj.Keys()
	isArray := obj.ClassName() == "Array"
	reqs := make([]*request, len(keys))
	results := make([][]result, len(reqs))
	for i, k := range keys {
		r, err := m.batchItem(st, obj.Get(k))
		if err != nil {
			var ue *invalidURLError
			if !errors.As(err, &ue) || st.Options.Throw {
				m.throw(fmt.Errorf("http.batch item %s: %w", k, err))
			}
			results[i] = m.unsent(st, "", goja.Undefined(), err)
			continue
		}
		reqs[i] = r
	}
	ctx := m.vu.Context()
	lim := newBatchLimits(st.Options)
	var wg sync.WaitGroup
	sd := m.sender(st)
	for i, r := range reqs {
		if r == nil {
			continue
		}
		wg.Add(1)
		lim.all <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-lim.all }()
			if h := lim.host(r.url.Host); h != nil {
				h <- struct{}{}
				defer func() { <-h }()
			}
			results[i] = do(ctx, sd, r)
		}()
	}
	wg.Wait()
	var out *goja.Object
	if isArray {
		out = rt.NewArray()
	} else {
		out = rt.NewObject()
	}
	for i, k := range keys {
		v, err := m.finish(ctx, st, results[i])
		if err != nil {
			m.throw(err)
		}
		_ = out.Set(k, v)
	}
	return out
}

func (m *instance) batchItem(st *modules.State, v goja.Value) (*request, error) {
	undef := goja.Undefined()
	o, ok := v.(*goja.Object)
	if !ok {
		return m.prepare(st, "GET", v, undef, undef)
	}
	if o.ClassName() == "Array" {
		get := func(i int) goja.Value {
			if x := o.Get(strconv.Itoa(i)); x != nil {
				return x
			}
			return undef
		}
		return m.prepare(st, strings.ToUpper(get(0).String()), get(1), get(2), get(3))
	}
	get := func(k string) goja.Value {
		if x := o.Get(k); x != nil {
			return x
		}
		return undef
	}
	method := "GET"
	if mv := get("method"); !isNullish(mv) {
		method = strings.ToUpper(mv.String())
	}
	return m.prepare(st, method, get("url"), get("body"), get("params"))
}

// tags returns the tag set of a hop's samples, cached per VU.
func (m *instance) tags(base metrics.TagSet, r *result) metrics.TagSet {
	req := r.req
	name := req.nameTag
	if name == "" {
		name = r.url
	}
	k := tagKey{base: base, method: r.method, url: r.url, name: name, proto: r.proto, tls: r.tls,
		errMsg: r.errMsg, status: r.status, errCode: r.errCode, hasExpected: req.expected != nil}
	if req.expected != nil {
		k.expected = r.expectedStatus()
	}
	if len(req.tags) > 0 {
		k.extra = strings.Join(req.tags, "\x00")
	}
	if r.remote != "" && modules.SystemTagEnabled(m.vu.State(), "ip") {
		k.ip, _ = splitRemote(r.remote)
	}
	if ts, ok := m.tagCache[k]; ok {
		return ts
	}
	tm := base.Map()
	tm["method"] = r.method
	tm["name"] = name
	if req.nameTag != "" {
		tm["url"] = req.nameTag
	} else {
		tm["url"] = r.url
	}
	tm["status"] = strconv.Itoa(r.status)
	if r.proto != "" {
		tm["proto"] = r.proto
	}
	if r.tls != "" {
		tm["tls_version"] = r.tls
	}
	if k.hasExpected {
		tm[metrics.ExpectedResponseTag] = strconv.FormatBool(k.expected)
	}
	if r.errCode != 0 {
		tm["error_code"] = strconv.Itoa(r.errCode)
	}
	if r.errMsg != "" {
		tm["error"] = r.errMsg
	}
	if k.ip != "" {
		tm["ip"] = k.ip // off by default, as in k6 (systemTags: [..., 'ip'])
	}
	for i := 0; i+1 < len(req.tags); i += 2 {
		tm[req.tags[i]] = req.tags[i+1]
	}
	ts := k6.FilterSystemTags(m.vu.State(), metrics.NewTagSet(tm))
	if len(m.tagCache) >= maxTagCache {
		clear(m.tagCache)
	}
	m.tagCache[k] = ts
	return ts
}

// emit pushes one hop's samples as one batch.
func (m *instance) emit(ctx context.Context, st *modules.State, base metrics.TagSet, r *result) {
	if ctx.Err() != nil {
		return
	}
	b := st.Builtin
	tags := m.tags(base, r)
	t, at := r.timings, r.end
	n := 8
	if r.req.expected != nil {
		n = 9
	}
	s := make([]metrics.Sample, n)
	s[0] = metrics.Sample{Metric: b.HTTPReqs, Tags: tags, Time: at, Value: 1}
	s[1] = metrics.Sample{Metric: b.HTTPReqDuration, Tags: tags, Time: at, Value: t.duration}
	s[2] = metrics.Sample{Metric: b.HTTPReqBlocked, Tags: tags, Time: at, Value: t.blocked}
	s[3] = metrics.Sample{Metric: b.HTTPReqConnecting, Tags: tags, Time: at, Value: t.connecting}
	s[4] = metrics.Sample{Metric: b.HTTPReqTLS, Tags: tags, Time: at, Value: t.tlsHandshaking}
	s[5] = metrics.Sample{Metric: b.HTTPReqSending, Tags: tags, Time: at, Value: t.sending}
	s[6] = metrics.Sample{Metric: b.HTTPReqWaiting, Tags: tags, Time: at, Value: t.waiting}
	s[7] = metrics.Sample{Metric: b.HTTPReqReceiving, Tags: tags, Time: at, Value: t.receiving}
	if n == 9 {
		failed := 1.0
		if r.expectedStatus() {
			failed = 0
		}
		s[8] = metrics.Sample{Metric: b.HTTPReqFailed, Tags: tags, Time: at, Value: failed}
	}
	st.Samples.Push(ctx, s)
}

// TaggedURL is what http.url`...` returns: the URL and, for the name and url tags, the
// template with ${} where the values were, so that requests to one endpoint share a time
// series.
type TaggedURL struct {
	Name string `js:"name"`
	URL  string `js:"url"`
}

// ToString is the URL (String(u), template literals, string concatenation).
func (t *TaggedURL) ToString() string { return t.URL }

// taggedURL is http.url`...${x}...`.
func (m *instance) taggedURL(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	strs, ok := call.Argument(0).(*goja.Object)
	if !ok {
		panic(rt.NewTypeError("http.url is a template tag: http.url`https://host/items/${id}`"))
	}
	var u, name strings.Builder
	n := int(strs.Get("length").ToInteger())
	for i := 0; i < n; i++ {
		s := strs.Get(strconv.Itoa(i)).String()
		u.WriteString(s)
		name.WriteString(s)
		if i+1 < n {
			if i+1 < len(call.Arguments) {
				u.WriteString(call.Arguments[i+1].String())
			}
			name.WriteString("${}")
		}
	}
	return rt.ToValue(&TaggedURL{Name: name.String(), URL: u.String()})
}
