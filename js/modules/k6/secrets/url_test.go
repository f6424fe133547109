package secrets_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/js/modules/k6/secrets"
)

// secretServer is a loopback secret service: GET /v1/{key} with the right bearer token
// answers {"data":{"value":"<key>-value"}}; "flaky" fails with 503 once; "missing" is 404;
// "number" holds a number. It counts the requests per key.
type secretServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newSecretServer(t *testing.T) *secretServer {
	s := &secretServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/v1/")
		s.mu.Lock()
		s.hits[key]++
		n := s.hits[key]
		s.mu.Unlock()
		switch {
		case r.Header.Get("Authorization") != "Bearer t0ken":
			http.Error(w, "no", http.StatusUnauthorized)
		case key == "flaky" && n == 1:
			http.Error(w, "later", http.StatusServiceUnavailable)
		case key == "missing":
			http.NotFound(w, r)
		case key == "number":
			_, _ = w.Write([]byte(`{"data":{"value":42}}`))
		case r.Method != http.MethodGet && key != "posted":
			http.Error(w, "method", http.StatusMethodNotAllowed)
		default:
			_, _ = w.Write([]byte(`{"data":{"value":"` + key + `-value"}}`))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *secretServer) hitsOf(k string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[k]
}

// TestURLSource: the url source through the real runner: k6's layering of environment,
// config file and inline parameters, JSON path extraction, one request per secret (cached),
// a retry after a 503, no retry after a 404, and k6's errors.
func TestURLSource(t *testing.T) {
	s := newSecretServer(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "url.json")
	cfg := `{"urlTemplate": "` + s.URL + `/v1/{key}", "responsePath": "data.value", "timeout": "1s", "maxRetries": 0}`
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"K6_SECRET_SOURCE_URL_HEADER_AUTHORIZATION": "Bearer t0ken", "K6_SECRET_SOURCE_URL_METHOD": "GET"}
	// the file says no retries; the inline parameter (applied last) allows one
	m, err := secrets.ParseSources([]string{"url=config=" + cfgFile + ",maxRetries=1,retryBackoff=1ms"}, env, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	src := `import secrets from 'k6/secrets';
export default async function () {
  const out = [await secrets.get('alpha'), await secrets.get('alpha'), await secrets.source('default').get('flaky')];
  for (const k of ['missing', 'number']) {
    try { await secrets.get(k); out.push(k + '?'); } catch (e) { out.push(e.message); }
  }
  console.log(out.join(' | '));
}`
	h, err := jstest.LoadWith(t, src, js.LoadOptions{Secrets: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	want := `alpha-value | alpha-value | flaky-value | status code 404: failed to get secret | ` +
		`failed to extract secret: secret value at path "data.value" is not a string (got Number)`
	if got := strings.TrimPrefix(h.Logs.String(), "info: "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for k, n := range map[string]int{"alpha": 1, "flaky": 2, "missing": 1} {
		if got := s.hitsOf(k); got != n {
			t.Errorf("%s: %d requests, want %d", k, got, n)
		}
	}
}

// TestURLSourceConfig: inline-only configuration (the form k6's documentation shows first),
// a whole-body secret, and k6's validation errors.
func TestURLSourceConfig(t *testing.T) {
	s := newSecretServer(t)
	m, err := secrets.ParseSources([]string{"url=urlTemplate=" + s.URL + "/v1/{key},headers.Authorization=Bearer t0ken,method=POST"}, nil, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.Get("default", "posted"); err != nil || v != `{"data":{"value":"posted-value"}}` {
		t.Errorf("whole body = %q, %v", v, err)
	}
	for _, c := range []struct{ value, err string }{
		{"url=method=GET", "urlTemplate is required"},
		{"url=urlTemplate=https://h/x", "must contain {key} placeholder"},
		{"url=urlTemplate=/v1/{key}", "must be an absolute URL"},
		{"url=urlTemplate=https://h/{key},timeout=0s", "timeout must be greater than 0"},
		{"url=urlTemplate=https://h/{key},maxRetries=-1", "maxRetries must be non-negative"},
		{"url=urlTemplate=https://h/{key},bogus=1", `unknown configuration key for url secret source "bogus"`},
		{"url=config=/nonexistent.json", "failed to open config file"},
		{"url", "urlTemplate is required"},
	} {
		if _, err := secrets.ParseSources([]string{c.value}, nil, os.ReadFile); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err = %v, want %q", c.value, err, c.err)
		}
	}
	// `--secret-source=url` alone takes everything from the environment
	env := map[string]string{"K6_SECRET_SOURCE_URL_URL_TEMPLATE": s.URL + "/v1/{key}", "K6_SECRET_SOURCE_URL_HEADER_AUTHORIZATION": "Bearer t0ken",
		"K6_SECRET_SOURCE_URL_RESPONSE_PATH": "data.value"}
	m, err = secrets.ParseSources([]string{"url"}, env, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := m.Get("default", "envkey"); err != nil || v != "envkey-value" {
		t.Errorf("from the environment: %q, %v", v, err)
	}
}
