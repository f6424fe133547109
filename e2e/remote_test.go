package e2e

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pixelk6/pixelk6/internal/testtool"
)

// TestRemoteModuleArchive: a script importing an https module (served on loopback under a
// CA made for the test, which pixelk6 trusts through SSL_CERT_FILE as any Go program on
// Linux does) runs; `pixelk6 archive` carries the module, so the archive still runs once
// the server is gone, while the script alone then fails naming the URL.
func TestRemoteModuleArchive(t *testing.T) {
	ca := testtool.NewCA(t)
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/utils/1.0/index.js":
			_, _ = w.Write([]byte("export { randomIntBetween } from './random.js';\n"))
		case "/utils/1.0/random.js":
			_, _ = w.Write([]byte("export function randomIntBetween(min, max) { return Math.floor(Math.random() * (max - min + 1) + min); }\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server}}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import { check } from 'k6';
import { randomIntBetween } from '` + srv.URL + `/utils/1.0/index.js';
export const options = { vus: 2, iterations: 4 };
export default function () {
  const n = randomIntBetween(1, 6);
  check(n, { 'in range': (v) => v >= 1 && v <= 6 });
}
`
	if err := os.WriteFile(filepath.Join(dir, "script.js"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + dir}

	r := run(t, dir, timeoutShort, env, "pixelk6", "run", "--no-color", "script.js")
	if r.Code != 0 || !strings.Contains(r.Stdout, "in range") {
		t.Fatalf("run: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("the server saw %d requests, want 2 (each module once per run, whatever the VUs)", n)
	}
	r = run(t, dir, timeoutShort, env, "pixelk6", "archive", "-O", "test.tar", "script.js")
	if r.Code != 0 {
		t.Fatalf("archive: exit %d\n%s", r.Code, r.Stderr)
	}
	srv.Close()

	r = run(t, dir, timeoutShort, env, "pixelk6", "run", "--no-color", "test.tar")
	if r.Code != 0 || !strings.Contains(r.Stdout, "in range") {
		t.Fatalf("run of the archive offline: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	r = run(t, dir, timeoutShort, env, "pixelk6", "run", "--no-color", "script.js")
	if r.Code != 107 || !strings.Contains(r.Stderr, srv.URL+"/utils/1.0/index.js") || !strings.Contains(r.Stderr, "pixelk6 archive") {
		t.Errorf("run without the server: exit %d, want 107 and the URL with a hint\n%s", r.Code, r.Stderr)
	}
	t.Logf("without the server:\n%s", r.Stderr)
	// the archive needs neither the server nor the CA
	r = run(t, dir, timeoutShort, nil, "pixelk6", "run", "--no-color", "test.tar")
	if r.Code != 0 {
		t.Errorf("the archive needs no CA: exit %d\n%s", r.Code, r.Stderr)
	}
}
