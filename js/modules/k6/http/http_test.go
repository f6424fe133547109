package http_test

import (
	"context"
	"fmt"
	"io"
	"net"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// httpKeys is the tag key set of k6's HTTP samples (samples/fail.json, no VU tags).
const httpKeys = "expected_response,group,method,name,proto,scenario,status,url"

var httpMetrics = []string{"http_reqs", "http_req_duration", "http_req_blocked", "http_req_connecting",
	"http_req_tls_handshaking", "http_req_sending", "http_req_waiting", "http_req_receiving", "http_req_failed"}

func server(t testing.TB) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/echo", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Method", r.Method)
		fmt.Fprintf(w, `{"method":%q,"body":%q,"ct":%q,"ua":%q,"cookie":%q,"items":[{"id":1},{"id":2}]}`,
			r.Method, b, r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), r.Header.Get("Cookie"))
	})
	mux.HandleFunc("/status/500", func(w gohttp.ResponseWriter, r *gohttp.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/redirect", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.Redirect(w, r, "/echo", gohttp.StatusFound)
	})
	mux.HandleFunc("/health", func(w gohttp.ResponseWriter, r *gohttp.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, base, body string) *jstest.Harness {
	t.Helper()
	h := jstest.MustLoad(t, "import http from 'k6/http';\nimport { check, group } from 'k6';\n"+
		"const BASE = __ENV.BASE;\nexport default function () {\n"+body+"\n}\n", map[string]string{"BASE": base})
	if err := h.Run(t); err != nil {
		t.Fatalf("iteration: %v", err)
	}
	return h
}

func TestMethods(t *testing.T) {
	srv := server(t)
	tests := []struct{ name, call, method string }{
		{"get", "http.get(`${BASE}/echo`)", "GET"},
		{"post", "http.post(`${BASE}/echo`, 'x')", "POST"},
		{"put", "http.put(`${BASE}/echo`, 'x')", "PUT"},
		{"patch", "http.patch(`${BASE}/echo`, 'x')", "PATCH"},
		{"del", "http.del(`${BASE}/echo`)", "DELETE"},
		{"head", "http.head(`${BASE}/echo`)", "HEAD"},
		{"options", "http.options(`${BASE}/echo`)", "OPTIONS"},
		{"request", "http.request('put', `${BASE}/echo`, 'x')", "PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := run(t, srv.URL, "const r = "+tc.call+";\n"+
				"if (r.status !== 200) throw new Error('status ' + r.status);\n"+
				"if (r.headers['X-Method'] !== '"+tc.method+"') throw new Error('method ' + r.headers['X-Method']);")
			got := strings.Join(h.Samples.Names(), ",")
			// The iteration samples follow the request's.
			want := strings.Join(httpMetrics, ",") + ",data_sent,data_received,iteration_duration,iterations"
			if got != want {
				t.Errorf("metrics\n got %s\nwant %s", got, want)
			}
			if len(h.Samples.Batches()) != 2 {
				t.Errorf("%d batches, want 2 (request, iteration)", len(h.Samples.Batches()))
			}
			for _, s := range h.Samples.Batches()[0] {
				if k := metricstest.TagKeys(s.Tags); k != httpKeys {
					t.Errorf("%s tag keys %s, want %s", s.Metric.Name, k, httpKeys)
				}
				if m, _ := s.Tags.Get("method"); m != tc.method {
					t.Errorf("method tag %q", m)
				}
				if u, _ := s.Tags.Get("url"); u != srv.URL+"/echo" {
					t.Errorf("url tag %q", u)
				}
				if n, _ := s.Tags.Get("name"); n != srv.URL+"/echo" {
					t.Errorf("name tag %q", n)
				}
			}
			if v := h.Samples.Metric("data_received")[0].Value; v <= 0 {
				t.Errorf("data_received = %v, want > 0", v)
			}
		})
	}
}

func TestRequestFeatures(t *testing.T) {
	srv := server(t)
	tests := []struct {
		name   string
		body   string
		reqs   int               // http_reqs samples
		tags   map[string]string // expected tags of the last http_reqs sample
		keys   string            // expected tag keys of the last http_reqs sample
		failed float64           // last http_req_failed value
	}{
		{
			name: "name tag sets url and custom tags pass through",
			body: "const r = http.get(`${BASE}/echo?id=1`, { tags: { name: 'echo', kind: 'x' } });\n" +
				"if (r.json('items.1.id') !== 2) throw new Error('selector ' + r.json('items.1.id'));\n" +
				"if (r.json('items.#') !== 2) throw new Error('length');\n" +
				"if (r.json().method !== 'GET') throw new Error('json()');\n" +
				"if (r.json('nope.x') !== undefined) throw new Error('missing path');",
			reqs: 1, tags: map[string]string{"name": "echo", "url": "echo", "kind": "x", "status": "200", "expected_response": "true", "proto": "HTTP/1.1"},
			keys: "expected_response,group,kind,method,name,proto,scenario,status,url",
		},
		{
			name: "500 has error_code 1500",
			body: "const r = http.get(`${BASE}/status/500`);\nif (r.error_code !== 1500 || r.status !== 500) throw new Error('code ' + r.error_code);",
			reqs: 1, tags: map[string]string{"error_code": "1500", "expected_response": "false", "status": "500"},
			keys: "error_code," + httpKeys, failed: 1,
		},
		{
			name: "expected statuses",
			body: "http.setResponseCallback(http.expectedStatuses(500, { min: 200, max: 204 }));\nhttp.get(`${BASE}/status/500`);",
			reqs: 1, tags: map[string]string{"expected_response": "true"}, keys: "error_code," + httpKeys,
		},
		{
			name: "redirect is followed and each hop measured",
			body: "const r = http.get(`${BASE}/redirect`);\nif (r.status !== 200 || !r.url.endsWith('/echo')) throw new Error(r.status + ' ' + r.url);",
			reqs: 2, tags: map[string]string{"status": "200"}, keys: httpKeys,
		},
		{
			name: "redirects: 0 stops at the 302",
			body: "const r = http.get(`${BASE}/redirect`, { redirects: 0 });\nif (r.status !== 302) throw new Error('status ' + r.status);",
			reqs: 1, tags: map[string]string{"status": "302"}, keys: httpKeys,
		},
		{
			name: "form body, headers, cookies, user agent",
			body: "const r = http.post(`${BASE}/echo`, { b: '2', a: '1' }, { headers: { 'X-A': 'y' }, cookies: { c: 'v' } });\n" +
				"const j = r.json();\n" +
				"if (j.body !== 'a=1&b=2' || j.ct !== 'application/x-www-form-urlencoded') throw new Error(JSON.stringify(j));\n" +
				"if (j.cookie !== 'c=v' || !j.ua.startsWith('pixelk6/')) throw new Error(JSON.stringify(j));\n" +
				"if (r.request.method !== 'POST' || r.request.body !== 'a=1&b=2') throw new Error('request');",
			reqs: 1, tags: map[string]string{"method": "POST"}, keys: httpKeys,
		},
		{
			name: "response types",
			body: "const b = http.get(`${BASE}/health`, { responseType: 'binary' });\n" +
				"if (!(b.body instanceof ArrayBuffer) || b.body.byteLength !== 15) throw new Error('binary');\n" +
				"const n = http.get(`${BASE}/health`, { responseType: 'none', timeout: '5s' });\n" +
				"if (n.body !== null) throw new Error('none');",
			reqs: 2, tags: map[string]string{"status": "200"}, keys: httpKeys,
		},
		{
			name: "group tag",
			body: "group('outer', () => group('inner', () => http.get(`${BASE}/health`)));",
			reqs: 1, tags: map[string]string{"group": "::outer::inner"}, keys: httpKeys,
		},
		{
			name: "timings sum",
			body: "const t = http.get(`${BASE}/health`).timings;\n" +
				"const sum = t.sending + t.waiting + t.receiving;\n" +
				"if (Math.abs(sum - t.duration) > 1e-6 || t.duration <= 0 || t.blocked < 0 || t.connecting < 0) throw new Error(JSON.stringify(t));",
			reqs: 1, tags: map[string]string{"status": "200"}, keys: httpKeys,
		},
		{
			name: "batch",
			body: "const rs = http.batch([`${BASE}/health`, ['POST', `${BASE}/echo`, 'x'], { method: 'GET', url: `${BASE}/echo`, params: { tags: { name: 'b' } } }]);\n" +
				"if (rs.length !== 3 || rs[1].json('method') !== 'POST' || rs[2].status !== 200) throw new Error('batch');\n" +
				"const o = http.batch({ h: `${BASE}/health` });\nif (o.h.status !== 200) throw new Error('batch object');",
			reqs: 4, tags: map[string]string{"status": "200"}, keys: httpKeys,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := run(t, srv.URL, tc.body)
			reqs := h.Samples.Metric("http_reqs")
			if len(reqs) != tc.reqs {
				t.Fatalf("%d http_reqs, want %d", len(reqs), tc.reqs)
			}
			last := reqs[len(reqs)-1].Tags
			for k, want := range tc.tags {
				if got, _ := last.Get(k); got != want {
					t.Errorf("tag %s = %q, want %q", k, got, want)
				}
			}
			if k := metricstest.TagKeys(last); k != tc.keys {
				t.Errorf("tag keys %s, want %s", k, tc.keys)
			}
			if f := h.Samples.Metric("http_req_failed"); len(f) > 0 && f[len(f)-1].Value != tc.failed {
				t.Errorf("http_req_failed = %v, want %v", f[len(f)-1].Value, tc.failed)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := run(t, "http://"+addr, "const r = http.get(`${BASE}/x`);\n"+
		"if (r.error_code !== 1212 || r.status !== 0 || r.error === '') throw new Error(r.error_code + ' ' + r.error);")
	reqs := h.Samples.Metric("http_reqs")
	if len(reqs) != 1 {
		t.Fatalf("%d http_reqs", len(reqs))
	}
	tags := reqs[0].Tags
	if c, _ := tags.Get("error_code"); c != "1212" {
		t.Errorf("error_code %q", c)
	}
	if e, _ := tags.Get("error"); e != "dial: connection refused" {
		t.Errorf("error %q", e)
	}
	if f := h.Samples.Metric("http_req_failed"); len(f) != 1 || f[0].Value != 1 {
		t.Errorf("http_req_failed %v", f)
	}
}

func TestInvalidParams(t *testing.T) {
	srv := server(t)
	tests := []struct{ name, body, want string }{
		{"relative url with throw", "http.get('/x')", "invalid URL"}, // without throw: TestInvalidURL
		{"bad timeout", "http.get(`${BASE}/health`, { timeout: 'soon' })", "invalid timeout"},
		{"bad response type", "http.get(`${BASE}/health`, { responseType: 'xml' })", "invalid responseType"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import http from 'k6/http';\nconst BASE = __ENV.BASE;\nexport default function () { "+tc.body+"; }\n",
				map[string]string{"BASE": srv.URL})
			st := h.State(1)
			st.Options.Throw = true // params errors throw anyway
			v, err := h.Bundle.NewVU(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			err = v.RunIteration(context.Background(), "default", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAsyncRequest(t *testing.T) {
	srv := server(t)
	h := run(t, srv.URL, "") // warm nothing; use a dedicated script below
	_ = h
	h = jstest.MustLoad(t, "import http from 'k6/http';\nexport default async function () {\n"+
		"const [a, b] = await Promise.all([http.asyncRequest('GET', __ENV.BASE + '/health'), http.asyncRequest('POST', __ENV.BASE + '/echo', 'z')]);\n"+
		"if (a.status !== 200 || b.json('body') !== 'z') throw new Error('async');\n}\n", map[string]string{"BASE": srv.URL})
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Samples.Metric("http_reqs")); n != 2 {
		t.Errorf("%d http_reqs, want 2", n)
	}
}

// k6 v2.2's Response.timings keeps looking_up (never measured, always 0) next to the
// documented phases; a script reading it gets 0, not undefined.
func TestTimingsKeys(t *testing.T) {
	srv := server(t)
	run(t, srv.URL, "const tm = http.get(`${BASE}/health`).timings;\n"+
		"const keys = Object.keys(tm).join(',');\n"+
		"if (keys !== 'blocked,looking_up,connecting,tls_handshaking,sending,waiting,receiving,duration') throw new Error('keys ' + keys);\n"+
		"if (tm.looking_up !== 0) throw new Error('looking_up ' + tm.looking_up);")
}

// An exception in the then() of http.asyncRequest with no catch fails the iteration with
// k6's "Uncaught (in promise)" error instead of going unseen.
func TestAsyncRequestUnhandledRejection(t *testing.T) {
	srv := server(t)
	h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () {\n"+
		"http.asyncRequest('GET', __ENV.BASE + '/health').then(() => { throw new Error('x'); });\n}\n", map[string]string{"BASE": srv.URL})
	err := h.Run(t)
	if err == nil || !strings.HasPrefix(err.Error(), "Uncaught (in promise) Error: x") {
		t.Fatalf("err = %v, want the unhandled rejection", err)
	}
	if n := len(h.Samples.Metric("http_reqs")); n != 1 {
		t.Errorf("%d http_reqs, want 1", n)
	}
}
