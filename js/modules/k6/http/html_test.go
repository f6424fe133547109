package http_test

import (
	"fmt"
	"io"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// htmlServer serves HTML pages with forms and links; every request to /submit* and /to/* is
// recorded (method, path, query, content type, body) for the server-side checks.
type htmlServer struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func (s *htmlServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

const formPage = `<!DOCTYPE html><html><head><title>Forms</title></head><body>
<a id="rel" href="to/relative?x=1">relative</a>
<a id="abs" href="%[1]s/to/absolute">absolute</a>
<a id="root" href="/to/root">root</a>
<form id="login" method="post" action="/submit/login">
  <input type="text" name="username" value="default-user">
  <input type="password" name="password">
  <input type="hidden" name="csrf" value="tok&en">
  <select name="size"><option value="s">S</option><option value="m" selected>M</option></select>
  <select name="toppings" multiple><option selected>ham</option><option>olive</option><option selected>egg</option></select>
  <input type="checkbox" name="remember" value="yes" checked>
  <input type="checkbox" name="news" value="yes">
  <input type="radio" name="pay" value="card"><input type="radio" name="pay" value="cash" checked>
  <textarea name="note">hello
world</textarea>
  <input type="text" name="off" value="x" disabled>
  <button type="submit" name="action" value="login" data-alt="alt-login">Log in</button>
</form>
<form id="search" action="/submit/search?old=1">
  <input name="q" value="pizza">
  <input type="submit" value="Search">
</form>
<form id="put" method="put"><input name="k" value="v"><input type="submit" name="go" value="Go"></form>
</body></html>`

func newHTMLServer(t *testing.T) *htmlServer {
	t.Helper()
	s := &htmlServer{}
	mux := gohttp.NewServeMux()
	var record func(gohttp.ResponseWriter, *gohttp.Request)
	mux.HandleFunc("/dir/page", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if r.Method != gohttp.MethodGet {
			record(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, formPage, s.URL)
	})
	record = func(w gohttp.ResponseWriter, r *gohttp.Request) {
		b, _ := io.ReadAll(r.Body)
		line := fmt.Sprintf("%s %s ?%s ct=%q body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), b)
		s.mu.Lock()
		s.got = append(s.got, line)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, line)
	}
	mux.HandleFunc("/submit/", record)
	mux.HandleFunc("/to/", record)
	mux.HandleFunc("/dir/to/", record)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestResponseHTML(t *testing.T) {
	srv := newHTMLServer(t)
	h := run(t, srv.URL, `const res = http.get(BASE + '/dir/page');
		const doc = res.html();
		if (doc.find('title').text() !== 'Forms') throw new Error('title ' + doc.find('title').text());
		if (res.html('form').size() !== 3) throw new Error('forms ' + res.html('form').size());
		if (res.html('a#rel').get(0).href() !== BASE + '/dir/to/relative?x=1') throw new Error('href ' + res.html('a#rel').get(0).href());
		if (res.html() !== doc) throw new Error('the body is parsed once');`)
	if h.Logs.String() != "" {
		t.Errorf("logs: %s", h.Logs)
	}
}

func TestSubmitForm(t *testing.T) {
	tests := []struct{ name, call, want, tag string }{
		{"defaults: first form, its fields, the submit button",
			`res.submitForm()`,
			`POST /submit/login ? ct="application/x-www-form-urlencoded" body=username=default-user&password=&csrf=tok%26en&size=m&toppings=ham&toppings=egg&remember=yes&pay=cash&note=hello%0D%0Aworld&action=login`, ""},
		{"fields override and extend, submitSelectorAttr",
			`res.submitForm({ formSelector: '#login', fields: { username: 'test', password: 'p w', extra: 1 }, submitSelector: 'button', submitSelectorAttr: 'data-alt' })`,
			`POST /submit/login ? ct="application/x-www-form-urlencoded" body=username=test&password=p+w&csrf=tok%26en&size=m&toppings=ham&toppings=egg&remember=yes&pay=cash&note=hello%0D%0Aworld&extra=1&action=alt-login`, ""},
		{"an array sets every value of a field; an empty one removes it",
			`res.submitForm({ fields: { toppings: ['olive', 'ham'], remember: [], username: 'u' } })`,
			`POST /submit/login ? ct="application/x-www-form-urlencoded" body=username=u&password=&csrf=tok%26en&size=m&toppings=olive&toppings=ham&pay=cash&note=hello%0D%0Aworld&action=login`, ""},
		{"GET form: fields in the query (the action's own query replaced), unnamed submit left out",
			`res.submitForm({ formSelector: '#search', fields: { q: 'pasta' } })`,
			`GET /submit/search ?q=pasta ct="" body=`, ""},
		{"no action: the page's URL; params forwarded",
			`res.submitForm({ formSelector: '#put', params: { headers: { 'Content-Type': 'text/x-mine' }, tags: { name: 'put-form' } } })`,
			`PUT /dir/page ? ct="text/x-mine" body=k=v&go=Go`, "put-form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHTMLServer(t)
			h := run(t, srv.URL, `const res = http.get(BASE + '/dir/page');
				const r = `+tc.call+`;
				if (r.status !== 200) throw new Error('status ' + r.status);`)
			got := srv.requests()
			if tc.tag != "" && !hasSample(h, "name", tc.tag) {
				t.Errorf("no sample tagged name=%s", tc.tag)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("server saw\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestClickLink(t *testing.T) {
	tests := []struct{ name, call, want string }{
		{"default: the first a[href], relative to the page", `res.clickLink()`, "GET /dir/to/relative ?x=1"},
		{"absolute href", `res.clickLink({ selector: '#abs' })`, "GET /to/absolute ?"},
		{"root-relative href, params forwarded", `res.clickLink({ selector: 'a#root', params: { headers: { 'X-Test': '1' } } })`, "GET /to/root ?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHTMLServer(t)
			run(t, srv.URL, `const res = http.get(BASE + '/dir/page');
				const r = `+tc.call+`;
				if (r.status !== 200) throw new Error('status ' + r.status);
				if (!r.body.startsWith('`+tc.want+`')) throw new Error('body ' + r.body);`)
			got := srv.requests()
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want+" ") {
				t.Errorf("server saw %q, want one %q", got, tc.want)
			}
		})
	}
}

func TestHTMLErrors(t *testing.T) {
	srv := newHTMLServer(t)
	for _, tc := range []struct{ call, msg string }{
		{`res.clickLink({ selector: 'a#missing' })`, `clickLink: no element found for selector "a#missing"`},
		{`res.clickLink({ selector: 'form' })`, `has no href attribute`},
		{`res.submitForm({ formSelector: '#nope' })`, `submitForm: no form found for selector "#nope"`},
		{`res.submitForm({ formSelector: 'a' })`, `is a <a>, not a <form>`},
		{`http.get(BASE + '/dir/page', { responseType: 'none' }).html()`, `no body to parse as HTML`},
	} {
		h, err := loadRun(t, srv.URL, `const res = http.get(BASE + '/dir/page'); `+tc.call+`;`)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want an exception with %q (logs %s)", tc.call, err, tc.msg, h.Logs)
		}
	}
}

// Responses of http.asyncRequest and http.batch have the HTML members too.
func TestHTMLOnAsyncAndBatchResponses(t *testing.T) {
	srv := newHTMLServer(t)
	h := jstest.MustLoad(t, `import http from 'k6/http';
export default async function () {
	const rs = http.batch([__ENV.BASE + '/dir/page']);
	if (rs[0].html('title').text() !== 'Forms') throw new Error('batch');
	const r = await http.asyncRequest('GET', __ENV.BASE + '/dir/page');
	const c = r.clickLink({ selector: '#root' });
	if (c.status !== 200 || !c.body.startsWith('GET /to/root')) throw new Error('async ' + c.status + ' ' + c.body);
}`, map[string]string{"BASE": srv.URL})
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests(); len(got) != 1 {
		t.Errorf("site saw %q, want the one click", got)
	}
}

func hasSample(h *jstest.Harness, tag, value string) bool {
	for _, b := range h.Samples.Batches() {
		for _, s := range b {
			if v, _ := s.Tags.Get(tag); v == value {
				return true
			}
		}
	}
	return false
}

// loadRun runs body like run but returns the iteration's error.
func loadRun(t *testing.T, base, body string) (*jstest.Harness, error) {
	t.Helper()
	h := jstest.MustLoad(t, "import http from 'k6/http';\nconst BASE = __ENV.BASE;\nexport default function () {\n"+body+"\n}\n", map[string]string{"BASE": base})
	return h, h.Run(t)
}
