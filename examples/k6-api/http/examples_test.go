// Package http_test runs pixelk6's own k6/http scripts (the .js files beside it) through
// the runner against a loopback server of this test's own (the "counter": it checks
// credentials, issues and shows cookies, reads uploads, packs and unpacks bodies, serves a
// JSON catalog). Each script takes the server from __ENV.BASE_URL, declares
// `thresholds: { checks: ['rate==1'] }` and must run exactly its expected number of
// checks, all passing, with nothing logged.
package http_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/pixelk6/pixelk6/cli"
)

// The credentials the counter accepts; the scripts use the same.
const (
	basicUser, basicPass   = "ada", "analytical-engine"
	digestUser, digestPass = "grace", "cobol-1959"
	digestRealm            = "counter@pixelk6.test"
	digestNonce            = "5f1d9c27ab"
)

func reply(w gohttp.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// counter is the loopback server the scripts talk to.
func counter(t *testing.T) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()

	mux.HandleFunc("GET /vault/basic", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == basicUser && p == basicPass {
			reply(w, map[string]any{"scheme": "basic", "user": u})
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="vault"`)
		w.WriteHeader(gohttp.StatusUnauthorized)
	})
	mux.HandleFunc("GET /vault/digest", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if user, ok := digestValid(r); ok {
			reply(w, map[string]any{"scheme": "digest", "user": user})
			return
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", opaque="c0ffee", algorithm=MD5`, digestRealm, digestNonce))
		w.WriteHeader(gohttp.StatusUnauthorized)
	})

	// /jar/issue?k=v sets each query pair as a cookie (path /); /jar/badge sets one cookie
	// with every attribute; /jar/show/... answers the cookies it received, in order.
	mux.HandleFunc("GET /jar/issue", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		names := []string{}
		for k, vs := range r.URL.Query() {
			gohttp.SetCookie(w, &gohttp.Cookie{Name: k, Value: vs[0], Path: "/"})
			names = append(names, k)
		}
		slices.Sort(names)
		if r.URL.Query().Has("then") {
			gohttp.Redirect(w, r, "/jar/show", gohttp.StatusSeeOther)
			return
		}
		reply(w, map[string]any{"issued": names})
	})
	mux.HandleFunc("GET /jar/badge", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.SetCookie(w, &gohttp.Cookie{Name: "badge", Value: "visitor-42", Path: "/jar",
			Domain: "127.0.0.1", MaxAge: 3600, Expires: time.Date(2031, 5, 17, 8, 30, 0, 0, time.UTC),
			HttpOnly: true, Secure: false})
		gohttp.SetCookie(w, &gohttp.Cookie{Name: "theme", Value: "dark"})
		reply(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("GET /jar/show/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		pairs := []string{}
		byName := map[string]string{}
		for _, c := range r.Cookies() {
			pairs = append(pairs, c.Name+"="+c.Value)
			byName[c.Name] = c.Value
		}
		reply(w, map[string]any{"path": r.URL.Path, "pairs": pairs, "cookies": byName})
	})
	mux.HandleFunc("GET /jar/show", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		r.URL.Path = "/jar/show/"
		mux.ServeHTTP(w, r)
	})

	mux.HandleFunc("POST /upload", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			gohttp.Error(w, err.Error(), gohttp.StatusBadRequest)
			return
		}
		type file struct {
			Name, Type, SHA256 string
			Size               int
		}
		files := map[string]file{}
		for field, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				gohttp.Error(w, err.Error(), gohttp.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			sum := sha256.Sum256(b)
			files[field] = file{Name: fhs[0].Filename, Type: fhs[0].Header.Get("Content-Type"), SHA256: hex.EncodeToString(sum[:]), Size: len(b)}
		}
		fields := map[string]string{}
		for k, vs := range r.MultipartForm.Value {
			fields[k] = vs[0]
		}
		reply(w, map[string]any{"contentType": strings.SplitN(r.Header.Get("Content-Type"), ";", 2)[0], "fields": fields, "files": files})
	})

	// /packed/{coding} answers a JSON body compressed with that coding.
	mux.HandleFunc("GET /packed/{coding}", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		body, _ := json.Marshal(map[string]any{"coding": r.PathValue("coding"), "poem": strings.Repeat("so much depends upon a red wheel barrow ", 20)})
		var buf bytes.Buffer
		var enc io.WriteCloser
		switch r.PathValue("coding") {
		case "gzip":
			enc = gzip.NewWriter(&buf)
		case "br":
			enc = brotli.NewWriter(&buf)
		case "zstd":
			zw, err := zstd.NewWriter(&buf)
			if err != nil {
				gohttp.Error(w, err.Error(), gohttp.StatusInternalServerError)
				return
			}
			enc = zw
		default:
			gohttp.NotFound(w, r)
			return
		}
		_, _ = enc.Write(body)
		_ = enc.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", r.PathValue("coding"))
		_, _ = w.Write(buf.Bytes())
	})
	// /unpack undoes the request's Content-Encoding (last applied first) and answers the body.
	mux.HandleFunc("POST /unpack", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		raw, _ := io.ReadAll(r.Body)
		body, err := unpack(raw, r.Header.Get("Content-Encoding"))
		if err != nil {
			gohttp.Error(w, err.Error(), gohttp.StatusBadRequest)
			return
		}
		reply(w, map[string]any{"encoding": r.Header.Get("Content-Encoding"), "wireBytes": len(raw), "body": string(body)})
	})

	mux.HandleFunc("GET /catalog", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, catalog)
	})
	mux.HandleFunc("GET /articles/{id}", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		reply(w, map[string]any{"id": r.PathValue("id"), "lang": r.URL.Query().Get("lang")})
	})

	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// catalog is the document json-selectors.js queries.
const catalog = `{
  "shop": "Lantern & Quill",
  "updated": "2026-11-30",
  "books": [
    {"title": "The Salt Roads", "author": {"first": "Ines", "last": "Varga"}, "price": 14.5, "tags": ["sea", "history"], "stock": 3},
    {"title": "Copper Moths", "author": {"first": "Teo", "last": "Lindqvist"}, "price": 22, "tags": ["fantasy"], "stock": 0},
    {"title": "A Field Guide to Fog", "author": {"first": "Ines", "last": "Varga"}, "price": 9.75, "tags": ["nature", "sea"], "stock": 12}
  ],
  "clerk.on.duty": "Wren"
}`

// digestValid checks a Digest Authorization header (RFC 7616, MD5, qop=auth).
func digestValid(r *gohttp.Request) (string, bool) {
	a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Digest ")
	if !ok {
		return "", false
	}
	p := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)=("([^"]*)"|[^,\s]*)`).FindAllStringSubmatch(a, -1) {
		p[m[1]] = strings.Trim(m[2], `"`)
	}
	h := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
	ha1 := h(digestUser + ":" + digestRealm + ":" + digestPass)
	ha2 := h(r.Method + ":" + p["uri"])
	want := h(ha1 + ":" + digestNonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	return p["username"], p["username"] == digestUser && p["uri"] == r.URL.RequestURI() && p["response"] == want
}

// unpack undoes a Content-Encoding list such as "gzip, br".
func unpack(b []byte, encoding string) ([]byte, error) {
	codings := strings.Split(encoding, ",")
	for i := len(codings) - 1; i >= 0; i-- {
		var rd io.Reader
		switch c := strings.TrimSpace(codings[i]); c {
		case "":
			continue
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			rd = zr
		case "deflate":
			zr, err := zlibReader(b)
			if err != nil {
				return nil, err
			}
			rd = zr
		case "br":
			rd = brotli.NewReader(bytes.NewReader(b))
		case "zstd":
			zr, err := zstd.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			defer zr.Close()
			rd = zr
		default:
			return nil, fmt.Errorf("unknown coding %q", c)
		}
		out, err := io.ReadAll(rd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", codings[i], err)
		}
		b = out
	}
	return b, nil
}

// zlibReader reads "deflate" as HTTP means it (zlib framing), falling back to raw deflate.
func zlibReader(b []byte) (io.Reader, error) {
	if len(b) >= 2 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 && b[0]&0x0f == 8 {
		return flate.NewReader(bytes.NewReader(b[2:])), nil
	}
	return flate.NewReader(bytes.NewReader(b)), nil
}

// scriptWant is what the test requires of one script: its exact number of checks (each run
// once and passed) and, optionally, more about the requests it sent.
type scriptWant struct {
	checks   int
	requests func(t *testing.T, reqs []sample)
}

var want = map[string]scriptWant{
	"basic-auth.js":       {checks: 9},
	"digest-auth.js":      {checks: 5},
	"vu-cookie-jar.js":    {checks: 8},
	"own-cookie-jars.js":  {checks: 8},
	"request-cookies.js":  {checks: 6},
	"response-cookies.js": {checks: 5},
	"multipart-upload.js": {checks: 7},
	"compression.js":      {checks: 7},
	"json-selectors.js":   {checks: 11},
	"url-names.js": {checks: 4, requests: func(t *testing.T, reqs []sample) {
		names := map[string]int{}
		for _, s := range reqs {
			if s.Data.Tags["status"] != "200" {
				t.Errorf("a request answered %s: %v", s.Data.Tags["status"], s.Data.Tags)
			}
			names[s.Data.Tags["name"]]++
		}
		wantNames := map[string]int{
			"${}/articles/${}":          12, // the base URL is a template value too
			"${}/articles/${}?lang=${}": 4,
			"article by slug":           3,
		}
		if fmt.Sprint(names) != fmt.Sprint(wantNames) {
			t.Errorf("requests by name tag\n got %v\nwant %v", names, wantNames)
		}
	}},
}

// summary is the part of --summary-export the test reads.
type summary struct {
	Metrics map[string]map[string]any `json:"metrics"`
}

func TestScripts(t *testing.T) {
	scripts, err := filepath.Glob("*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for name := range want {
		if !slices.Contains(scripts, name) {
			t.Errorf("want has %s, which is not a script here", name)
		}
	}
	for _, script := range scripts {
		w, ok := want[script]
		if !ok || w.checks < 1 {
			t.Errorf("%s: no expected checks in want (every script verifies its results with checks)", script)
			continue
		}
		t.Run(script, func(t *testing.T) {
			srv := counter(t)
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(src, []byte("checks: ['rate==1']")) {
				t.Errorf("%s does not declare thresholds: { checks: ['rate==1'] }", script)
			}
			dir := t.TempDir()
			export, out := filepath.Join(dir, "summary.json"), filepath.Join(dir, "out.json")
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), []string{"run", "-q", "--no-summary", "-e", "BASE_URL=" + srv.URL,
				"--summary-export", export, "--out", "json=" + out, script}, &stdout, &stderr)
			if code != 0 {
				_, failed := readSamples(t, out)
				t.Fatalf("exit code %d, failed checks %q\n%s%s", code, failed, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "level=") {
				t.Errorf("the script logged:\n%s", stderr.String())
			}
			var s summary
			b, err := os.ReadFile(export)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			c, ok := s.Metrics["checks"]
			if !ok {
				t.Fatalf("no checks metric: the script's checks did not run")
			}
			reqs, failed := readSamples(t, out)
			passes, _ := c["passes"].(float64)
			if fails, _ := c["fails"].(float64); fails != 0 || int(passes) != w.checks {
				t.Errorf("checks: %v passed, %v failed %q, want %d passed", passes, fails, failed, w.checks)
			}
			if w.requests != nil {
				w.requests(t, reqs)
			}
		})
	}
}

type sample struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Value float64           `json:"value"`
		Tags  map[string]string `json:"tags"`
	} `json:"data"`
}

// readSamples returns the http_reqs points of a --out json file and the names of the
// checks that failed.
func readSamples(t *testing.T, path string) (reqs []sample, failed []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		switch {
		case s.Type != "Point":
		case s.Metric == "http_reqs":
			reqs = append(reqs, s)
		case s.Metric == "checks" && s.Data.Value == 0:
			failed = append(failed, s.Data.Tags["check"])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return reqs, failed
}
