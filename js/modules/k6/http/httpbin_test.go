package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/pixelk6/pixelk6/js/jstest"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// httpbin starts a loopback server with httpbin-like endpoints for the features beyond
// plain requests: compressed responses, request-body decoding, auth, multipart and cookies.
func httpbin(t testing.TB) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()
	// /big/{gzip,br,zstd}: 100000 'a's in that coding.
	mux.HandleFunc("/big/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		ce := strings.TrimPrefix(r.URL.Path, "/big/")
		var buf bytes.Buffer
		var zw io.WriteCloser
		switch ce {
		case "gzip":
			zw = gzip.NewWriter(&buf)
		case "br":
			zw = brotli.NewWriter(&buf)
		case "zstd":
			zw, _ = zstd.NewWriter(&buf)
		}
		_, _ = zw.Write(bytes.Repeat([]byte("a"), 100000))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", ce)
		_, _ = w.Write(buf.Bytes())
	})
	// /decode: the request body, undone from its Content-Encoding by the test's own
	// decoders, echoed back as plain text.
	mux.HandleFunc("/decode", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		b, _ := io.ReadAll(r.Body)
		cs := strings.Split(r.Header.Get("Content-Encoding"), ",")
		for i := len(cs) - 1; i >= 0; i-- {
			var rd io.Reader
			switch strings.TrimSpace(cs[i]) {
			case "gzip":
				rd, _ = gzip.NewReader(bytes.NewReader(b))
			case "br":
				rd = brotli.NewReader(bytes.NewReader(b))
			case "zstd":
				zr, _ := zstd.NewReader(bytes.NewReader(b))
				defer zr.Close()
				rd = zr
			default:
				gohttp.Error(w, "unexpected coding "+cs[i], 400)
				return
			}
			if rd == nil {
				gohttp.Error(w, "bad body", 400)
				return
			}
			b, _ = io.ReadAll(rd)
		}
		fmt.Fprintf(w, "%s", b)
	})
	// /multipart: the parts of a multipart/form-data body as JSON, in order.
	mux.HandleFunc("/multipart", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			gohttp.Error(w, err.Error(), 400)
			return
		}
		type part struct {
			Name, Filename, ContentType, Disposition, Data string
		}
		var parts []part
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), string(b)})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ct": r.Header.Get("Content-Type"), "parts": parts})
	})
	// /basic-auth/{user}/{pass}, as httpbin's.
	mux.HandleFunc("/basic-auth/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		want := strings.Split(strings.TrimPrefix(r.URL.Path, "/basic-auth/"), "/")
		u, p, ok := r.BasicAuth()
		if !ok || len(want) != 2 || u != want[0] || p != want[1] {
			w.Header().Set("WWW-Authenticate", `Basic realm="Fake Realm"`)
			w.WriteHeader(401)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"authenticated": true, "user": u})
	})
	// /digest-auth/{qop}/{user}/{pass}[/{algorithm}], as httpbin's: a 401 with a challenge,
	// then 200 when the Authorization header answers it.
	mux.HandleFunc("/digest-auth/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/digest-auth/"), "/")
		qop, user, pass, algo := parts[0], parts[1], parts[2], "MD5"
		if len(parts) > 3 {
			algo = parts[3]
		}
		const realm, nonce, opaque = "me@kennethreitz.com", "6f2a1bbd0c3e4d5e", "0p4qu3"
		if got := r.Header.Get("Authorization"); strings.HasPrefix(got, "Digest ") {
			p := map[string]string{}
			for _, kv := range strings.Split(strings.TrimPrefix(got, "Digest "), ", ") {
				k, v, _ := strings.Cut(kv, "=")
				p[k] = strings.Trim(v, `"`)
			}
			h := func(s string) string {
				if algo == "SHA-256" {
					return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
				}
				return fmt.Sprintf("%x", md5.Sum([]byte(s)))
			}
			ha1, ha2 := h(user+":"+realm+":"+pass), h(r.Method+":"+r.URL.RequestURI())
			want := h(ha1 + ":" + nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
			if p["username"] == user && p["response"] == want && p["opaque"] == opaque && p["uri"] == r.URL.RequestURI() {
				_ = json.NewEncoder(w).Encode(map[string]any{"authenticated": true, "user": user})
				return
			}
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", qop="%s", nonce="%s", opaque="%s", algorithm=%s`, realm, qop, nonce, opaque, algo))
		w.WriteHeader(401)
	})
	// /cookies: the request's cookies as {"cookies": {name: value}} (the last of a name wins)
	// and the raw header; /cookies/set?name=value: Set-Cookie with attributes.
	mux.HandleFunc("/cookies", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		cs := map[string]string{}
		for _, c := range r.Cookies() {
			cs[c.Name] = c.Value
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"cookies": cs, "header": r.Header.Get("Cookie")})
	})
	mux.HandleFunc("/cookies/set", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		for k, vs := range r.URL.Query() {
			gohttp.SetCookie(w, &gohttp.Cookie{Name: k, Value: vs[0], Path: "/", HttpOnly: true, MaxAge: 3600,
				Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)})
		}
		_, _ = io.WriteString(w, "set")
	})
	mux.HandleFunc("/ntlm", ntlmHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// ntlmHandler is an NTLM server for user DOM\alice, password s3cret: a Negotiate message
// gets a 401 with a Challenge, and an Authenticate message on the same connection whose
// NTLMv2 proof checks out gets 200 {"authenticated": true, "user": ...}.
func ntlmHandler() gohttp.HandlerFunc {
	challenge := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var mu sync.Mutex
	challenged := map[string]bool{} // remote addresses that were sent a challenge
	le16, le32 := binary.LittleEndian.Uint16, binary.LittleEndian.Uint32
	u16 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
		return b
	}
	return func(w gohttp.ResponseWriter, r *gohttp.Request) {
		msg, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.Header.Get("Authorization"), "NTLM "))
		deny := func() { w.Header().Set("WWW-Authenticate", "NTLM"); w.WriteHeader(401) }
		if len(msg) < 12 || string(msg[:8]) != "NTLMSSP\x00" {
			deny()
			return
		}
		switch le32(msg[8:]) {
		case 1:
			ti := binary.LittleEndian.AppendUint16(nil, 2) // MsvAvNbDomainName
			ti = binary.LittleEndian.AppendUint16(ti, uint16(len(u16("DOM"))))
			ti = append(append(ti, u16("DOM")...), 0, 0, 0, 0)
			m := append([]byte("NTLMSSP\x00"), 2, 0, 0, 0)
			m = append(m, 0, 0, 0, 0, 48, 0, 0, 0) // target name: empty
			m = binary.LittleEndian.AppendUint32(m, 0xa2898205)
			m = append(append(m, challenge...), make([]byte, 8)...)
			m = binary.LittleEndian.AppendUint16(m, uint16(len(ti)))
			m = binary.LittleEndian.AppendUint16(m, uint16(len(ti)))
			m = binary.LittleEndian.AppendUint32(m, 48)
			m = append(m, ti...)
			mu.Lock()
			challenged[r.RemoteAddr] = true
			mu.Unlock()
			w.Header().Set("WWW-Authenticate", "NTLM "+base64.StdEncoding.EncodeToString(m))
			w.WriteHeader(401)
		case 3:
			mu.Lock()
			same := challenged[r.RemoteAddr]
			mu.Unlock()
			field := func(i int) []byte {
				n, off := int(le16(msg[12+8*i:])), int(le32(msg[16+8*i:]))
				return msg[off : off+n]
			}
			nt, dom, user := field(1), field(2), field(3)
			if !same || len(nt) < 16 || string(dom) != string(u16("DOM")) || string(user) != string(u16("alice")) {
				deny()
				return
			}
			h := hmac.New(md5.New, httpmod.MD4(u16("s3cret")))
			h.Write(u16("ALICE" + "DOM"))
			key := h.Sum(nil)
			p := hmac.New(md5.New, key)
			p.Write(challenge)
			p.Write(nt[16:])
			if !hmac.Equal(p.Sum(nil), nt[:16]) {
				deny()
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"authenticated": true, "user": "alice"})
		default:
			deny()
		}
	}
}

func TestCompressedResponses(t *testing.T) {
	srv := httpbin(t)
	h := run(t, srv.URL, `
for (const ce of ['gzip', 'br', 'zstd']) {
  const r = http.get(BASE + '/big/' + ce);
  if (r.body.length !== 100000 || r.body[99999] !== 'a') throw new Error(ce + ': body of ' + r.body.length);
  if (r.headers['Content-Encoding'] !== ce) throw new Error(ce + ': header ' + r.headers['Content-Encoding']);
}`)
	// data_received counts the bytes on the wire, compressed, as in k6.
	if v := h.Samples.Metric("data_received")[0].Value; v <= 0 || v > 3*2000 {
		t.Errorf("data_received %v, want the compressed size (well under the 300000 bytes decoded)", v)
	}
}

func TestRequestCompression(t *testing.T) {
	srv := httpbin(t)
	run(t, srv.URL, `
for (const c of ['gzip', 'br', 'zstd', 'gzip, br', 'zstd,gzip']) {
  const r = http.post(BASE + '/decode', 'the body '.repeat(50), { compression: c });
  if (r.status !== 200 || r.body !== 'the body '.repeat(50)) throw new Error(c + ': ' + r.status + ' ' + r.body);
  if (r.request.headers['Content-Encoding'][0] !== c.split(',').map(s => s.trim()).join(', ')) throw new Error(c + ': ' + r.request.headers['Content-Encoding']);
}
let threw = false;
try { http.post(BASE + '/decode', 'x', { compression: 'lzma' }); } catch (e) { threw = String(e).includes('lzma'); }
if (!threw) throw new Error('unknown algorithm accepted');`)
}

// TestJSONSelectors: res.json(selector) has GJSON's syntax (the paths the former hand-written
// selector knew, with escaped dots, plus #, queries and modifiers).
func TestJSONSelectors(t *testing.T) {
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/json", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		_, _ = io.WriteString(w, `{"a":{"b":[{"c":1}]},"a.b":{"c":"dotted"},"items":[{"id":1,"n":"x"},{"id":2,"n":"y"},{"id":3,"n":"y"}],"s":"str","big":12345678901234567890}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tests := []struct{ sel, want string }{ // want: JSON.stringify of the result
		{"a", `{"b":[{"c":1}]}`},
		{"a.b.0.c", `1`},
		{`a\.b.c`, `"dotted"`},
		{"items.#", `3`},
		{"items.#.id", `[1,2,3]`},
		{`items.#(n=="y").id`, `2`},
		{`items.#(n=="y")#.id`, `[2,3]`},
		{"items.1", `{"id":2,"n":"y"}`},
		{"items|@reverse|0.id", `3`},
		{"s", `"str"`},
		{"nope.x", `undefined`},
		{"", `undefined`},
	}
	var js strings.Builder
	js.WriteString("const r = http.get(BASE + '/json');\nconst got = [];\n")
	for _, tc := range tests {
		fmt.Fprintf(&js, "got.push(String(JSON.stringify(r.json(%q))));\n", tc.sel)
	}
	js.WriteString("console.log(got.join('\\n'));")
	h := run(t, srv.URL, js.String())
	lines := strings.Split(strings.TrimPrefix(h.Logs.String(), "info: "), "\n")
	for i, tc := range tests {
		if i >= len(lines) || lines[i] != tc.want {
			t.Errorf("json(%q): got %q, want %s\n%s", tc.sel, lines, tc.want, h.Logs.String())
			break
		}
	}
}

// TestMultipart: an object body holding http.file values goes as multipart/form-data, plain
// fields first, then files with their filename and content type.
func TestMultipart(t *testing.T) {
	srv := httpbin(t)
	run(t, srv.URL, `
const f = http.file('file content', 'test.txt', 'text/plain');
if (f.filename !== 'test.txt' || f.content_type !== 'text/plain' || f.data !== 'file content') throw new Error('FileData ' + JSON.stringify(f));
const d = http.file(new Uint8Array([104, 105]).buffer);
if (!/^[0-9]+$/.test(d.filename) || d.content_type !== 'application/octet-stream') throw new Error('defaults ' + d.filename + ' ' + d.content_type);
const r = http.post(BASE + '/multipart', { field: 'a value', file: f, bin: http.file([1, 2, 255], 'b.bin'), other: 'x' });
const j = r.json();
if (!/^multipart\/form-data; boundary=[0-9a-f]{60}$/.test(j.ct)) throw new Error('content type ' + j.ct);
const want = [
  ['field', '', '', 'form-data; name="field"', 'a value'],
  ['other', '', '', 'form-data; name="other"', 'x'],
  ['bin', 'b.bin', 'application/octet-stream', 'form-data; name="bin"; filename="b.bin"', '\x01\x02\ufffd'],
  ['file', 'test.txt', 'text/plain', 'form-data; name="file"; filename="test.txt"', 'file content'],
];
const got = j.parts.map(p => [p.Name, p.Filename, p.ContentType, p.Disposition, p.Data]);
if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error('parts ' + JSON.stringify(got));
const u = http.post(BASE + '/multipart', { file: d }, { headers: { 'X-A': '1' } });
if (u.json('parts.0.Data') !== 'hi') throw new Error('ArrayBuffer data ' + u.body);`)
}

// TestAuth: user:pass in the URL sends basic auth; auth: 'digest' and 'ntlm' answer the
// server's challenge, and both round trips are requests (the first, a 401, expected as in
// k6); an unknown scheme throws. The credentials never show in tags or the response's URL.
func TestAuth(t *testing.T) {
	srv := httpbin(t)
	base := strings.TrimPrefix(srv.URL, "http://")
	h := run(t, "http://user:passwd@"+base, `
const host = BASE.replace('http://user:passwd@', '');
const b = http.get(BASE + '/basic-auth/user/passwd');
if (b.status !== 200 || b.json('user') !== 'user') throw new Error('basic ' + b.status);
const explicit = http.get(BASE + '/basic-auth/user/passwd', { auth: 'basic' });
if (explicit.status !== 200) throw new Error('explicit basic ' + explicit.status);
if (http.get('http://user:wrong@' + host + '/basic-auth/user/passwd').status !== 401) throw new Error('wrong password accepted');
for (const algo of ['MD5', 'SHA-256']) {
  const d = http.get(BASE + '/digest-auth/auth/user/passwd/' + algo, { auth: 'digest' });
  if (d.status !== 200 || d.json('authenticated') !== true) throw new Error('digest ' + algo + ' ' + d.status + ' ' + d.body);
  if (d.url !== 'http://****:****@' + host + '/digest-auth/auth/user/passwd/' + algo) throw new Error('url ' + d.url);
}
const post = http.post(BASE + '/digest-auth/auth/user/passwd', 'data', { auth: 'digest' });
if (post.status !== 200) throw new Error('digest POST ' + post.status);
const n = http.get('http://DOM%5Calice:s3cret@' + host + '/ntlm', { auth: 'ntlm' });
if (n.status !== 200 || n.json('user') !== 'alice') throw new Error('ntlm ' + n.status);
if (http.get('http://DOM%5Calice:wrong@' + host + '/ntlm', { auth: 'ntlm' }).status !== 401) throw new Error('ntlm: a wrong password accepted');
// No challenge: digest's first response must be a 401, NTLM's may be what is expected too.
http.get(BASE + '/cookies', { auth: 'digest' });
http.get(BASE + '/cookies', { auth: 'ntlm' });
let err = '';
try { http.get(BASE + '/basic-auth/user/passwd', { auth: 'kerberos' }); } catch (e) { err = String(e); }
if (!err.includes('kerberos')) throw new Error('kerberos: ' + err);`)
	var statuses, urls []string
	for _, s := range h.Samples.Metric("http_reqs") {
		tags := s.Tags.Map()
		statuses = append(statuses, tags["status"]+"/"+tags["expected_response"])
		urls = append(urls, tags["url"])
	}
	want := "200/true 200/true 401/false 401/true 200/true 401/true 200/true 401/true 200/true 401/true 200/true 401/true 401/false 200/false 200/true"
	if got := strings.Join(statuses, " "); got != want {
		t.Errorf("requests (status/expected_response)\n got %s\nwant %s", got, want)
	}
	for _, u := range urls {
		if strings.Contains(u, "passwd@") || strings.Contains(u, "wrong") {
			t.Errorf("credentials in the url tag: %s", u)
		}
	}
}

// TestCookieJar: the jar API (set with its options, cookiesForURL, clear, delete),
// params.jar with a jar of the script's own, params.cookies with and without replace,
// res.cookies with every attribute and res.request.cookies.
func TestCookieJar(t *testing.T) {
	srv := httpbin(t)
	run(t, srv.URL, `
const eq = (what, got, want) => { if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(what + ': ' + JSON.stringify(got) + ' want ' + JSON.stringify(want)); };
const jar = http.cookieJar();
const r = http.get(BASE + '/cookies/set?sid=42');
eq('res.cookies', r.cookies.sid, [{ name: 'sid', value: '42', domain: '', path: '/', http_only: true, secure: false, max_age: 3600, expires: Date.UTC(2030, 0, 2, 3, 4, 5) }]);
eq('stored', jar.cookiesForURL(BASE + '/cookies'), { sid: ['42'] });
jar.set(BASE, 'a', '1');
jar.set(BASE, 'p', 'x', { path: '/cookies/deep' });
jar.set('https://example.com/', 's', 'y', { secure: true }); // (loopback counts as a secure origin)
eq('secure over http', jar.cookiesForURL('http://example.com/'), {});
eq('secure over https', jar.cookiesForURL('https://example.com/'), { s: ['y'] });
jar.set(BASE, 'old', 'z', { expires: 'Mon, 02 Jan 2006 15:04:05 GMT' });
jar.set(BASE, 'gone', 'z', { max_age: -1 });
jar.set(BASE, 'h', 'v', { http_only: true, domain: '127.0.0.1' });
eq('set', Object.keys(jar.cookiesForURL(BASE + '/cookies')).sort(), ['a', 'h', 'sid']);
eq('path', Object.keys(jar.cookiesForURL(BASE + '/cookies/deep/x')).sort(), ['a', 'h', 'p', 'sid']);
let res = http.get(BASE + '/cookies');
eq('sent', res.json('cookies'), { a: '1', h: 'v', sid: '42' });
eq('request.cookies', res.request.cookies.a, [{ name: 'a', value: '1', replace: false }]);
res = http.get(BASE + '/cookies', { cookies: { a: 'mine', b: { value: '2' } } });
eq('without replace', res.request.cookies.a.map(c => c.value), ['mine', '1']);
res = http.get(BASE + '/cookies', { cookies: { a: { value: 'mine', replace: true } } });
eq('replace', res.request.cookies.a, [{ name: 'a', value: 'mine', replace: true }]);
eq('replace sent', res.json('cookies.a'), 'mine');
jar.delete(BASE + '/cookies', 'a');
eq('delete', Object.keys(jar.cookiesForURL(BASE + '/cookies')).sort(), ['h', 'sid']);
jar.clear(BASE + '/cookies/deep/x');
eq('clear', jar.cookiesForURL(BASE + '/cookies/deep/x'), {});
const own = new http.CookieJar();
own.set(BASE, 'mine', 'only');
res = http.get(BASE + '/cookies', { jar: own });
eq('params.jar', res.json('cookies'), { mine: 'only' });
http.get(BASE + '/cookies/set?into=own', { jar: own });
eq('stored in params.jar', own.cookiesForURL(BASE).into, ['own']);
eq('not in the VU jar', jar.cookiesForURL(BASE).into, undefined);
let err = '';
try { http.get(BASE + '/cookies', { jar: {} }); } catch (e) { err = String(e); }
if (!err.includes('CookieJar')) throw new Error('params.jar {}: ' + err);`)
}

// TestTaggedURL: http.url`...` requests carry the template (${} for each value) as their
// name and url tags; the response has the real URL; params.tags.name still wins.
func TestTaggedURL(t *testing.T) {
	srv := server(t)
	h := run(t, srv.URL, `
for (const id of [1, 2]) {
  const u = http.url`+"`${BASE}/echo?id=${id}`"+`;
  if (String(u) !== BASE + '/echo?id=' + id || u.url !== String(u) || u.name !== '${}/echo?id=${}') throw new Error('url object ' + u + ' ' + u.name);
  const r = http.get(u);
  if (r.url !== BASE + '/echo?id=' + id || r.status !== 200) throw new Error('res.url ' + r.url);
}
http.batch([['GET', http.url`+"`${BASE}/echo?b=${1}`"+`]]);
http.get(http.url`+"`${BASE}/echo?id=${3}`"+`, { tags: { name: 'mine' } });`)
	var got []string
	for _, s := range h.Samples.Metric("http_reqs") {
		got = append(got, s.Tags.Map()["name"]+" "+s.Tags.Map()["url"])
	}
	want := "${}/echo?id=${} ${}/echo?id=${}|${}/echo?id=${} ${}/echo?id=${}|${}/echo?b=${} ${}/echo?b=${}|mine mine"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("name and url tags\n got %s\nwant %s", g, want)
	}
}

// TestInvalidURL: as in k6, an invalid URL gives a response with error_code 1020 and a
// warning, and no request samples; with throw (options.throw, --throw) it throws, and so
// do network errors.
func TestInvalidURL(t *testing.T) {
	srv := server(t)
	const script = `
const r = http.get('/relative');
if (r.status !== 0 || r.error_code !== 1020 || !r.error.includes('invalid URL') || r.body !== null) throw new Error('response ' + JSON.stringify([r.status, r.error_code, r.error, r.body]));
const rs = http.batch([['GET', 'nope'], ['GET', BASE + '/health']]);
if (rs[0].error_code !== 1020 || rs[1].status !== 200) throw new Error('batch ' + rs[0].error_code + ' ' + rs[1].status);
http.asyncRequest('GET', '::bad').then(a => { if (a.error_code !== 1020) throw new Error('async ' + a.error_code); });
const refused = http.get('http://127.0.0.1:1/');
if (refused.error_code !== 1212) throw new Error('refused ' + refused.error_code);`
	h := run(t, srv.URL, script)
	if n := len(h.Samples.Metric("http_reqs")); n != 2 { // /health and the refused one
		t.Errorf("%d http_reqs samples, want 2 (none for invalid URLs)", n)
	}
	if w := strings.Count(h.Logs.String(), `warn: Request Failed error="invalid URL`); w != 3 {
		t.Errorf("%d invalid URL warnings, want 3:\n%s", w, h.Logs.String())
	}

	for _, tc := range []struct{ name, body, want string }{
		{"invalid URL", "http.get('/relative')", "invalid URL"},
		{"network error", "http.get('http://127.0.0.1:1/')", "connection refused"},
		{"batch", "http.batch(['http://127.0.0.1:1/'])", "connection refused"},
		{"async", "await http.asyncRequest('GET', 'http://127.0.0.1:1/')", "connection refused"},
	} {
		t.Run("throw "+tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default async function () { "+tc.body+"; }\n", nil)
			st := h.State(1)
			st.Options.Throw = true
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

// TestTLSResponse: over TLS (the test server's own certificate, with
// insecureSkipTLSVerify), res.tls_version and res.tls_cipher_suite name what was
// negotiated, and a gzip body is decoded on that path (net/http) too.
func TestTLSResponse(t *testing.T) {
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/gz", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte("secret"))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(buf.Bytes())
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	h := jstest.MustLoad(t, `import http from 'k6/http';
export default function () {
  const r = http.get(__ENV.BASE + '/gz');
  if (r.status !== 200 || r.body !== 'secret' || r.headers['Content-Encoding'] !== 'gzip') throw new Error('response ' + r.status + ' ' + r.error);
  if (r.tls_version !== http.TLS_1_3) throw new Error('tls_version ' + r.tls_version);
  if (!/^TLS_[A-Z0-9_]+$/.test(r.tls_cipher_suite)) throw new Error('tls_cipher_suite ' + r.tls_cipher_suite);
  if (http.OCSP_STATUS_GOOD !== 'good' || http.OCSP_REASON_KEY_COMPROMISE !== 'key_compromise') throw new Error('constants');
  const plain = http.get(__ENV.BASE.replace('https:', 'http:') + '/gz');
  if (plain.tls_cipher_suite !== '') throw new Error('plain ' + plain.tls_cipher_suite);
}
`, map[string]string{"BASE": srv.URL})
	st := h.State(1)
	st.Options.InsecureSkipTLSVerify = true
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}

// TestNTLMNetHTTP: the NTLM handshake also holds on net/http's connection (TestAuth takes the
// fast path).
func TestNTLMNetHTTP(t *testing.T) {
	srv := httpbin(t)
	h := jstest.MustLoad(t, `import http from 'k6/http';
export default function () {
  for (let i = 0; i < 3; i++) {
    const r = http.post(__ENV.BASE.replace('http://', 'http://DOM%5Calice:s3cret@') + '/ntlm', 'body', { auth: 'ntlm' });
    if (r.status !== 200 || r.json('authenticated') !== true) throw new Error('ntlm ' + r.status);
  }
}
`, map[string]string{"BASE": srv.URL})
	st := h.State(1)
	httpmod.UseNetHTTPOnly(st)
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}
