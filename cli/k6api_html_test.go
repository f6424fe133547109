package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// k6APIHTMLDir holds pixelk6's own scripts covering the k6/html API k6 documents
// (parseHTML, Selection, Element) and res.html(), res.submitForm(), res.clickLink(); the
// pages they load come from __ENV.BASE_URL.
const k6APIHTMLDir = "../examples/k6-api/html"

// k6APISite is the loopback site the scripts load: a nursery home page (title, lang, two
// h1, link tags, two lists) and an account page (links and two forms); what is sent under
// /account/ is recorded and echoed back as "METHOD path?query body".
type k6APISite struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func (s *k6APISite) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func newK6APISite(t *testing.T) *k6APISite {
	t.Helper()
	s := &k6APISite{}
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", page(`<!DOCTYPE html><html lang="nl"><head><title>Kwekerij De Linde</title>
<link rel="stylesheet" href="/static/site.css"><link rel="icon" href="https://cdn.example/linde.ico"></head>
<body><h1>Plant inventory</h1><h1>Seasonal</h1>
<ul class="departments"><li><a href="/trees">Trees</a></li><li><a href="/herbs">Herbs</a></li></ul>
<footer><ul class="legal"><li>KvK 0000</li></ul></footer></body></html>`))
	mux.HandleFunc("GET /account", page(`<!DOCTYPE html><html><body>
<nav><a href="account/orders">Orders</a> <a class="danger" href="/account/logout?from=nav">Sign out</a></nav>
<form id="signin" method="post" action="/account/session"><input name="email"><input type="password" name="passphrase">
<input type="hidden" name="nonce" value="n-7731"><button type="submit" name="via" value="password">Sign in</button>
<button type="submit" class="passkey" name="via" value="passkey">Use a passkey</button></form>
<form id="newsletter" action="/account/subscribe"><input name="email" value="guest@example.test">
<select name="topics" multiple><option selected>roses</option><option>ferns</option></select></form>
</body></html>`))
	mux.HandleFunc("/account/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		line := fmt.Sprintf("%s %s %s", r.Method, r.URL.RequestURI(), b)
		s.mu.Lock()
		s.got = append(s.got, line)
		s.mu.Unlock()
		_, _ = io.WriteString(w, line)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// k6APIHTMLWant is, for each script, how many checks it runs (all must pass), its console
// output and what the site saw.
var k6APIHTMLWant = map[string]struct {
	checks int      // passed checks; every script has at least one
	logs   []string // console lines
	site   []string // requests under /account/
}{
	"parse-document.js":      {checks: 6},
	"selection-traversal.js": {checks: 22},
	"selection-filtering.js": {checks: 19},
	"selection-iteration.js": {checks: 5},
	"selection-values.js":    {checks: 17},
	"form-serialization.js":  {checks: 3},
	"element-members.js":     {checks: 33},
	"response-html.js":       {checks: 5},
	"response-submit-form.js": {checks: 5, site: []string{
		"POST /account/session email=lin%40example.test&passphrase=tulip+bulb&nonce=n-7731&via=password",
		"POST /account/session email=lin%40example.test&passphrase=&nonce=n-7731&via=passkey",
		"GET /account/subscribe?email=guest%40example.test&topics=roses&topics=ferns ",
	}},
	"response-click-link.js": {checks: 2, site: []string{"GET /account/orders ", "GET /account/logout?from=nav "}},
}

var consoleLine = regexp.MustCompile(`level=(\w+) msg=("(?:[^"\\]|\\.)*")`)

// TestK6APIHTMLExamples runs every script of examples/k6-api/html through the runner
// (pixelk6 run) against the loopback site: each exits 0, logs no error, runs exactly its
// expected number of checks and passes them all, prints what it is expected to print and
// sends the site what it is expected to send.
func TestK6APIHTMLExamples(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join(k6APIHTMLDir, "*.js"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples in %s: %v", k6APIHTMLDir, err)
	}
	for name := range k6APIHTMLWant {
		if !slices.Contains(scripts, filepath.Join(k6APIHTMLDir, name)) {
			t.Errorf("k6APIHTMLWant has %s, which is not in %s", name, k6APIHTMLDir)
		}
	}
	for _, script := range scripts {
		name := filepath.Base(script)
		want, ok := k6APIHTMLWant[name]
		if !ok || want.checks < 1 {
			t.Errorf("%s: no expected checks in k6APIHTMLWant (every script verifies its results with checks)", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			site := newK6APISite(t)
			dir := t.TempDir()
			exp, logf := filepath.Join(dir, "summary.json"), filepath.Join(dir, "log.txt")
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"run", "--quiet", "--summary-export", exp,
				"--log-output", "file=" + logf, "-e", "BASE_URL=" + site.URL, script}, &stdout, &stderr, d)
			logs, _ := os.ReadFile(logf)
			if code != 0 {
				t.Fatalf("exit code %d\nstderr:\n%s\nlog:\n%s", code, stderr.String(), logs)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(string(logs)), "\n") {
				m := consoleLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				if m[1] != "info" { // console.log writes at level info; anything else is a warning or an error
					t.Errorf("log line: %s", line)
					continue
				}
				msg, err := strconv.Unquote(m[2])
				if err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				got = append(got, msg)
			}
			if !slices.Equal(got, want.logs) {
				t.Errorf("console output\n got %q\nwant %q", got, want.logs)
			}
			if s := site.requests(); strings.Join(s, "\n") != strings.Join(want.site, "\n") {
				t.Errorf("the site saw %q, want %q", s, want.site)
			}
			checkSummaryChecks(t, exp, want.checks)
		})
	}
}

// checkSummaryChecks fails the test when the --summary-export file records a failed check,
// or a number of passed checks other than want.
func checkSummaryChecks(t *testing.T, path string, want int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--summary-export: %v", err)
	}
	var sum struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("--summary-export: %v", err)
	}
	c, ok := sum.Metrics["checks"]
	if !ok {
		t.Fatalf("--summary-export has no checks metric: the script's checks did not run")
	}
	if f, _ := c["fails"].(float64); f != 0 {
		t.Errorf("checks failed: %v", c)
	}
	if p, _ := c["passes"].(float64); int(p) != want {
		t.Errorf("%v checks passed, want %d: %v", p, want, c)
	}
}
