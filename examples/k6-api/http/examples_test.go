// Package http_test runs k6's documentation examples for k6/http (the .js files beside it,
// as k6's documentation has them) through pixelk6's runner against a loopback server: the
// test points their URLs at it (httpbin.test.k6.io and example.com, https:// made http://)
// and their open() path at a file of its own, and requires every check to pass.
package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/cli"
)

// httpbin answers the endpoints the examples use, as httpbin.org's do.
func httpbin(t *testing.T) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()
	reply := func(w gohttp.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/cookies", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		cs := map[string]string{}
		for _, c := range r.Cookies() {
			cs[c.Name] = c.Value
		}
		reply(w, map[string]any{"cookies": cs})
	})
	mux.HandleFunc("/cookies/set", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		for k, vs := range r.URL.Query() {
			gohttp.SetCookie(w, &gohttp.Cookie{Name: k, Value: vs[0], Path: "/"})
		}
		gohttp.Redirect(w, r, "/cookies", gohttp.StatusFound)
	})
	mux.HandleFunc("/basic-auth/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		want := strings.Split(strings.TrimPrefix(r.URL.Path, "/basic-auth/"), "/")
		if u, p, ok := r.BasicAuth(); ok && len(want) == 2 && u == want[0] && p == want[1] {
			reply(w, map[string]any{"authenticated": true, "user": u})
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="Fake Realm"`)
		w.WriteHeader(gohttp.StatusUnauthorized)
	})
	mux.HandleFunc("/digest-auth/", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/digest-auth/"), "/") // qop/user/passwd
		const realm, nonce = "me@kennethreitz.com", "2c4e8a1f"
		h := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Digest ") && len(parts) == 3 {
			p := map[string]string{}
			for _, m := range regexp.MustCompile(`(\w+)=("([^"]*)"|[^,\s]*)`).FindAllStringSubmatch(a, -1) {
				p[m[1]] = strings.Trim(m[2], `"`)
			}
			ha1, ha2 := h(parts[1]+":"+realm+":"+parts[2]), h(r.Method+":"+r.URL.RequestURI())
			if p["response"] == h(ha1+":"+nonce+":"+p["nc"]+":"+p["cnonce"]+":"+p["qop"]+":"+ha2) {
				reply(w, map[string]any{"authenticated": true, "user": p["username"]})
				return
			}
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", opaque="x", algorithm=MD5, stale=FALSE`, realm, nonce))
		w.WriteHeader(gohttp.StatusUnauthorized)
	})
	mux.HandleFunc("/upload", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			gohttp.Error(w, err.Error(), gohttp.StatusBadRequest)
			return
		}
		f, fh, err := r.FormFile("file")
		if err != nil {
			gohttp.Error(w, err.Error(), gohttp.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		reply(w, map[string]any{"field": r.FormValue("field"), "filename": fh.Filename, "size": len(b)})
	})
	mux.HandleFunc("/posts/", func(w gohttp.ResponseWriter, r *gohttp.Request) { reply(w, map[string]any{"ok": true}) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// pointAt rewrites an example's URLs to base and its open() path to file.
func pointAt(src, base, file string) string {
	host := strings.TrimPrefix(base, "http://")
	src = regexp.MustCompile("https://([^/'\"`]*?)httpbin\\.test\\.k6\\.io").ReplaceAllString(src, "http://${1}"+host)
	src = strings.ReplaceAll(src, "'httpbin.test.k6.io'", "'127.0.0.1'") // a cookie's domain
	src = regexp.MustCompile(`https?://example\.com`).ReplaceAllString(src, base)
	return strings.ReplaceAll(src, "/path/to/file.bin", file)
}

// summary is the part of --summary-export the test reads.
type summary struct {
	Metrics map[string]map[string]float64 `json:"metrics"`
}

func TestDocumentationExamples(t *testing.T) {
	srv := httpbin(t)
	scripts, err := filepath.Glob("*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	// Examples without checks: what the test requires of their requests instead.
	noChecks := map[string]func(t *testing.T, samples []sample){
		"multipart-upload.js": func(t *testing.T, samples []sample) {
			if n := count(samples, func(s sample) bool { return s.Data.Tags["status"] == "200" }); n != 1 {
				t.Errorf("%d uploads answered 200, want 1", n)
			}
		},
		"url-grouping.js": func(t *testing.T, samples []sample) {
			want := srv.URL + "/posts/${}"
			if n := count(samples, func(s sample) bool { return s.Data.Tags["name"] == want && s.Data.Tags["status"] == "200" }); n != 100 {
				t.Errorf("%d requests named %q answered 200, want 100", n, want)
			}
		},
	}
	for _, script := range scripts {
		t.Run(script, func(t *testing.T) {
			dir := t.TempDir()
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(dir, "file.bin")
			if err := os.WriteFile(bin, []byte("\x00\x01binary\xff"), 0o644); err != nil {
				t.Fatal(err)
			}
			js := filepath.Join(dir, script)
			if err := os.WriteFile(js, []byte(pointAt(string(src), srv.URL, bin)), 0o644); err != nil {
				t.Fatal(err)
			}
			export, out := filepath.Join(dir, "summary.json"), filepath.Join(dir, "out.json")
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), []string{"run", "-q", "--no-summary", "--summary-export", export, "--out", "json=" + out, js}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit code %d\n%s%s", code, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "level=warn") || strings.Contains(stderr.String(), "Request Failed") {
				t.Errorf("warnings:\n%s", stderr.String())
			}
			var s summary
			b, err := os.ReadFile(export)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			if check, ok := noChecks[script]; ok {
				check(t, readSamples(t, out))
				return
			}
			c := s.Metrics["checks"]
			if c["passes"] == 0 || c["fails"] != 0 {
				t.Errorf("checks: %v passed, %v failed\n%s", c["passes"], c["fails"], stderr.String())
			}
		})
	}
}

type sample struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Tags map[string]string `json:"tags"`
	} `json:"data"`
}

func readSamples(t *testing.T, path string) []sample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		if s.Type == "Point" && s.Metric == "http_reqs" {
			out = append(out, s)
		}
	}
	return out
}

func count(samples []sample, f func(sample) bool) int {
	n := 0
	for _, s := range samples {
		if f(s) {
			n++
		}
	}
	return n
}
