package http_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
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
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
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
