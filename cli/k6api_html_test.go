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
	"strconv"
	"strings"
	"sync"
	"testing"
)

// k6APIHTMLDir holds k6's documentation examples of k6/html and res.html(), submitForm(),
// clickLink(), their URLs pointed at __ENV.BASE_URL.
const k6APIHTMLDir = "../examples/k6-api/html"

// k6APISite is the loopback stand-in for the sites the examples load: the pages carry what
// the examples look for (a title, a lang, h1, header icons, link tags, a login form and
// links), and /admin/* records what the form and the links sent.
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
	mux.HandleFunc("/{$}", page(`<!DOCTYPE html><html lang="en"><head><title>Loopback k6</title></head>
<body><h1>Load testing for engineering teams</h1><h1>Second</h1></body></html>`))
	mux.HandleFunc("/test", page(`<!DOCTYPE html><html><body><header><ul class="header-icons">
<li><a href="/contacts">contacts</a></li><li><a href="/news">news</a></li></ul></header>
<ul class="footer"><li>other</li></ul></body></html>`))
	mux.HandleFunc("/links", page(`<!DOCTYPE html><html><head><link rel="stylesheet" href="/a.css">
<link rel="icon" href="https://cdn.example/favicon.ico"></head><body></body></html>`))
	mux.HandleFunc("/example", page(`<!DOCTYPE html><html><body><h1>Example Domain</h1></body></html>`))
	mux.HandleFunc("/my_messages.php", page(`<!DOCTYPE html><html><body><form method="post" action="/login.php">
<input type="hidden" name="redir" value="1"><input name="login"></form></body></html>`))
	mux.HandleFunc("GET /admin", page(`<!DOCTYPE html><html><body><p><a href="/admin/first">first</a> <a href="/admin/second">second</a></p>
<form method="post" action="/admin/login"><input name="username"><input type="password" name="password">
<input type="hidden" name="csrf" value="t0k"><button type="submit">Sign in</button></form></body></html>`))
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, b))
		s.mu.Unlock()
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// k6APIHTMLWant is each example's console output (what k6 prints for it) and, for those
// that send requests from a page, what the site saw.
var k6APIHTMLWant = map[string]struct {
	logs      []string // an entry starting with "re:" is a regular expression
	unordered bool     // the lines may come in any order (a loop over headers)
	site      []string
}{
	"examples-html-forms.js":       {site: []string{"POST /admin/login username=admin&password=admin&csrf=t0k"}},
	"examples-parse-html.js":       {},
	"examples-correlation-html.js": {logs: []string{"The value of the hidden field redir is: 1"}},
	"response.js": {unordered: true, logs: []string{"Content-Length : 64", "Content-Type : text/html; charset=utf-8",
		`re:^Date : \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$`}},
	"element.js":   {logs: []string{"dt", "term-1", "Value term 1", "dt", "term-2", "Value term 2"}},
	"element-2.js": {logs: []string{"a", "6", "example.com:80", "example.com", "http:"}},
	"element-selection.js": {logs: []string{
		"li.each \n" + `<li><a href="/contacts">contacts</a></li><li><a href="/news">news</a></li>`,
		"li.each \n" + `<li><a href="/contacts">contacts</a></li><li><a href="/news">news</a></li>`,
		"li.each undefined"}},
	"parsehtml.js":          {},
	"selection.js":          {},
	"selection-attr.js":     {},
	"selection-children.js": {logs: []string{"12", "3"}},
	"selection-closest.js":  {logs: []string{"level-2"}},
	"selection-contents.js": {logs: []string{"term 1term 2term 3"}},
	"selection-data.js":     {logs: []string{"undefined", "data-value", "data-value"}},
	"selection-each.js":     {logs: []string{dlInner}},
	"selection-eq.js":       {logs: []string{"term 1", "term 2", "term 3"}},
	"selection-filter.js":   {logs: []string{"term 2", "definition 3-a", "term 1"}},
	"selection-find.js":     {},
	"selection-first.js":    {logs: []string{"term 1"}},
	"selection-get.js":      {logs: []string{"term 1", "definition 1-a"}},
	"selection-has.js":      {logs: []string{"list item 2\n    <ul>\n      <li>list item 2-a</li>\n      <li>list item 2-b</li>\n    </ul>\n  "}},
	"selection-html.js":     {logs: []string{"term 1"}},
	"selection-is.js":       {logs: []string{"true", "false", "true"}},
	"selection-last.js":     {logs: []string{"term 3"}},
	"selection-map.js": {logs: []string{`["hola term 1","hola definition 1-a","hola definition 1-b","hola definition 1-c","hola definition 1-d",` +
		`"hola term 2","hola definition 2-a","hola definition 2-b","hola definition 2-c","hola term 3","hola definition 3-a","hola definition 3-b"]`}},
	"selection-next.js":            {logs: []string{"list item 4"}},
	"selection-nextall.js":         {logs: []string{"2"}},
	"selection-nextuntil.js":       {logs: []string{"3", "7"}},
	"selection-not.js":             {logs: []string{"9", "3"}},
	"selection-parent.js":          {logs: []string{ulInner}},
	"selection-parents.js":         {logs: []string{"3"}},
	"selection-parentsuntil.js":    {logs: []string{"3", "0"}},
	"selection-prev.js":            {logs: []string{"list item 2"}},
	"selection-prevall.js":         {logs: []string{"2"}},
	"selection-prevuntil.js":       {logs: []string{"4", "7"}},
	"selection-serialize.js":       {logs: []string{"username="}},
	"selection-serializearray.js":  {logs: []string{`[{"name":"username","value":""}]`}},
	"selection-serializeobject.js": {logs: []string{`{"username":""}`}},
	"selection-single.js":          {},
	"selection-size.js":            {logs: []string{"3"}},
	"selection-slice.js": {logs: []string{"definition 1-dterm 2definition 2-adefinition 2-bdefinition 2-cterm 3definition 3-adefinition 3-b",
		"definition 1-bdefinition 1-c"}},
	"selection-text.js": {},
	"selection-toarray.js": {logs: []string{"term 1", "definition 1-a", "definition 1-b", "definition 1-c", "definition 1-d",
		"term 2", "definition 2-a", "definition 2-b", "definition 2-c", "term 3", "definition 3-a", "definition 3-b"}},
	"selection-val.js": {logs: []string{"input-text-value", "yes this option", "yes this option", "yes text",
		`["option 2","option 3"]`, "Lorem ipsum dolor sit amet"}},
	"response-html.js":       {logs: []string{"/a.css", "https://cdn.example/favicon.ico"}},
	"response-submitform.js": {site: []string{"POST /admin/login username=test&password=test2&csrf=t0k"}},
	"response-clicklink.js":  {site: []string{"GET /admin/first "}},
}

const dlInner = "\n  <dt id=\"term-1\">term 1</dt>\n  <dd>definition 1-a</dd>\n  <dd>definition 1-b</dd>\n  <dd>definition 1-c</dd>\n  <dd>definition 1-d</dd>\n\n" +
	"  <dt id=\"term-2\">term 2</dt>\n  <dd>definition 2-a</dd>\n  <dd>definition 2-b</dd>\n  <dd>definition 2-c</dd>\n\n" +
	"  <dt id=\"term-3\">term 3</dt>\n  <dd>definition 3-a</dd>\n  <dd>definition 3-b</dd>\n"

const ulInner = "\n  <li>list item 1</li>\n  <li>list item 2</li>\n  <li class=\"third-item\">list item 3</li>\n  <li>list item 4</li>\n  <li>list item 5</li>\n"

var consoleLine = regexp.MustCompile(`level=(\w+) msg=("(?:[^"\\]|\\.)*")`)

// TestK6APIHTMLExamples runs every example of examples/k6-api/html through the runner
// (pixelk6 run) against the loopback site: each exits 0, logs no error, passes its checks,
// prints what k6 prints and sends the site what k6 sends.
func TestK6APIHTMLExamples(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join(k6APIHTMLDir, "*.js"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples in %s: %v", k6APIHTMLDir, err)
	}
	for _, script := range scripts {
		name := filepath.Base(script)
		want, ok := k6APIHTMLWant[name]
		if !ok {
			t.Errorf("%s: no expected output in k6APIHTMLWant", name)
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
			if !logsMatch(got, want.logs, want.unordered) {
				t.Errorf("console output\n got %q\nwant %q", got, want.logs)
			}
			if s := site.requests(); strings.Join(s, "\n") != strings.Join(want.site, "\n") {
				t.Errorf("the site saw %q, want %q", s, want.site)
			}
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			checkSummaryChecks(t, exp, strings.Contains(string(src), "check("))
		})
	}
}

// checkSummaryChecks fails the test when the --summary-export file records a failed check,
// or no passed check when the script has checks.
func checkSummaryChecks(t *testing.T, path string, hasChecks bool) {
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
	if f, _ := c["fails"].(float64); ok && f != 0 {
		t.Errorf("checks failed: %v", c)
	}
	if p, _ := c["passes"].(float64); hasChecks && p == 0 {
		t.Errorf("the script's checks did not run: %v", c)
	}
}

// logsMatch reports whether got matches want line by line (an entry "re:X" matches the
// lines X matches), in order unless unordered.
func logsMatch(got, want []string, unordered bool) bool {
	if len(got) != len(want) {
		return false
	}
	match := func(g, w string) bool {
		if re, ok := strings.CutPrefix(w, "re:"); ok {
			return regexp.MustCompile(re).MatchString(g)
		}
		return g == w
	}
	if !unordered {
		for i := range got {
			if !match(got[i], want[i]) {
				return false
			}
		}
		return true
	}
	used := make([]bool, len(got))
next:
	for _, w := range want {
		for i, g := range got {
			if !used[i] && match(g, w) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}
