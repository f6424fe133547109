package js

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/internal/testtool"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// moduleServer is a loopback HTTPS server of JavaScript files, signed by a CA made for the
// test, that counts the requests of every path.
type moduleServer struct {
	*httptest.Server
	ca *testtool.CA

	mu      sync.Mutex
	hits    map[string]int
	queries map[string]string
}

func newModuleServer(t *testing.T, files map[string]string) *moduleServer {
	t.Helper()
	s := &moduleServer{ca: testtool.NewCA(t), hits: map[string]int{}, queries: map[string]string{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.queries[r.URL.Path] = r.URL.RawQuery
		s.mu.Unlock()
		switch body, ok := files[r.URL.Path]; {
		case r.URL.Path == "/broken.js":
			http.Error(w, "boom", http.StatusInternalServerError)
		case ok:
			w.Header().Set("Content-Type", "application/javascript")
			_, _ = w.Write([]byte(body))
		default:
			http.NotFound(w, r)
		}
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{s.ca.Server}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// fetch is the loader's real fetch over a client that trusts the test's CA only.
func (s *moduleServer) fetch() func(context.Context, string) ([]byte, error) {
	return FetchRemote(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ca.Pool}}})
}

func (s *moduleServer) hitsOf(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

// loadRemote loads main (a local script) with the server's fetch.
func loadRemote(t *testing.T, s *moduleServer, src string) (*harness, error) {
	t.Helper()
	dir := writeFiles(t, map[string]string{"script.js": src})
	h := &harness{reg: metrics.NewRegistry(), cap: &metricstest.Capture{}, log: &logCapture{}}
	b, err := Load(context.Background(), filepath.Join(dir, "script.js"), LoadOptions{Logger: h.log, Registry: h.reg, Remote: s.fetch()})
	h.b = b
	return h, err
}

// TestRemoteModules: an https import is fetched once per run (not per VU), its relative and
// root-relative imports resolve against its URL, it can import built-in modules, and the
// request carries k6's _k6=1 marker.
func TestRemoteModules(t *testing.T) {
	s := newModuleServer(t, map[string]string{
		"/lib/1.0/index.js": `import { twice } from './util.js';
import { prefix } from '/shared/prefix.js';
import { check } from 'k6';
export function label(x) { return prefix + twice(x); }
export const hasCheck = typeof check === 'function';
export const where = __filename;`,
		"/lib/1.0/util.js":  `export function twice(x) { return 2 * x; }`,
		"/shared/prefix.js": `export const prefix = 'n=';`,
	})
	src := `import { label, hasCheck, where } from '` + s.URL + `/lib/1.0/index.js';
export default function () {
	if (label(21) !== 'n=42') throw new Error('label: ' + label(21));
	if (!hasCheck) throw new Error('k6 not imported');
	if (where !== '` + s.URL + `/lib/1.0/index.js') throw new Error('__filename: ' + where);
}`
	h, err := loadRemote(t, s, src)
	if err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		if err := h.vu(t, id).RunIteration(context.Background(), "default", nil); err != nil {
			t.Fatalf("VU %d: %v", id, err)
		}
	}
	for _, p := range []string{"/lib/1.0/index.js", "/lib/1.0/util.js", "/shared/prefix.js"} {
		if n := s.hitsOf(p); n != 1 {
			t.Errorf("%s fetched %d times, want once per run", p, n)
		}
	}
	s.mu.Lock()
	q := s.queries["/lib/1.0/index.js"]
	s.mu.Unlock()
	if q != "_k6=1" {
		t.Errorf("query = %q, want _k6=1 as k6 sends", q)
	}
}

// TestRemoteModuleErrors: failures name the specifier, the URL and the status; schemes other
// than https and file are refused; a remote module may not import local files.
func TestRemoteModuleErrors(t *testing.T) {
	s := newModuleServer(t, map[string]string{
		"/sneaky.js": `import x from 'file:///etc/passwd'; export default x;`,
	})
	closed := func() string { // a loopback port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}()
	cases := []struct {
		name, spec string
		want       []string
	}{
		{"not found", s.URL + "/missing.js", []string{`"` + s.URL + `/missing.js"`, "404"}},
		{"server error", s.URL + "/broken.js", []string{"wrong status code (500)", s.URL + "/broken.js"}},
		{"plain http", "http://" + strings.TrimPrefix(s.URL, "https://") + "/x.js", []string{"only supported schemes for imports are file and https", "`http`"}},
		{"local file from remote", s.URL + "/sneaky.js", []string{"not allowed to load local file", "file:///etc/passwd"}},
		{"unreachable", "https://" + closed + "/lib.js", []string{"couldn't be retrieved", closed, "pixelk6 archive"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadRemote(t, s, `import x from '`+c.spec+`'; export default function () {}`)
			var ie *InitError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InitError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRemoteModuleUntrusted: a certificate the system's roots do not trust fails naming the
// URL and telling how to trust a private CA.
func TestRemoteModuleUntrusted(t *testing.T) {
	s := newModuleServer(t, map[string]string{"/m.js": `export const v = 1;`})
	dir := writeFiles(t, map[string]string{"script.js": `import { v } from '` + s.URL + `/m.js'; export default function () {}`})
	_, err := Load(context.Background(), filepath.Join(dir, "script.js"), LoadOptions{Remote: FetchRemote(nil)})
	if err == nil || !strings.Contains(err.Error(), s.URL+"/m.js") || !strings.Contains(err.Error(), "SSL_CERT_FILE") {
		t.Fatalf("err = %v", err)
	}
}

// TestRemoteModuleSchemeless: a bare specifier that starts with a host name is fetched over
// https with k6's warning.
func TestRemoteModuleSchemeless(t *testing.T) {
	s := newModuleServer(t, map[string]string{"/m.js": `export const v = 7;`})
	spec := strings.TrimPrefix(s.URL, "https://") + "/m.js"
	h, err := loadRemote(t, s, `import { v } from '`+spec+`';
export default function () { if (v !== 7) throw new Error('v=' + v); }`)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.log.all(), "has no scheme but we will try to resolve it as remote module") {
		t.Errorf("no warning; logs:\n%s", h.log.all())
	}
}
