package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveRoundTrip writes an archive of a script with a local module and an open()ed
// file, removes the sources and runs the archive: the run sees the same code, data,
// options and -e variables.
func TestArchiveRoundTrip(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.js": `import { greet } from './lib/greet.js';
const data = open('./data.txt');
export const options = { iterations: 2, rps: 5, tlsAIAFetch: __ENV.WITH_RPS ? true : null };
export default function () {
  if (greet(data.trim()) !== 'hello world' || __ENV.FROM_E !== 'yes') {
    throw new Error('unexpected: ' + greet(data.trim()) + ' ' + __ENV.FROM_E);
  }
  console.log('ran ' + greet(data.trim()));
}
`,
		"lib/greet.js": "export function greet(x) { return 'hello ' + x; }\n",
		"data.txt":     "world\n",
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	tarPath, rpsTar := filepath.Join(tmp, "test.tar"), filepath.Join(tmp, "rps.tar")
	d := defaultDeps()
	d.environ = func() []string { return []string{"SECRET=1"} }
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"archive", "-O", tarPath, "-e", "FROM_E=yes", "--vus", "2", filepath.Join(dir, "main.js")},
		{"archive", "-O", rpsTar, "-e", "FROM_E=yes", "-e", "WITH_RPS=1", filepath.Join(dir, "main.js")},
	} {
		if code := run(context.Background(), args, &stdout, &stderr, d); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
		}
	}

	// The layout is k6's.
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	entries := map[string]*tar.Header{}
	var order []string
	var meta archiveMeta
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
		order = append(order, h.Name)
		if h.Name == "metadata.json" {
			if err := json.NewDecoder(tr).Decode(&meta); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.Close()
	main := "file" + filepath.ToSlash(filepath.Join(dir, "main.js"))
	if len(order) < 2 || order[0] != "metadata.json" || order[1] != "data" {
		t.Errorf("entries %v: want metadata.json, data first", order)
	}
	if h := entries[main]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "data" {
		t.Errorf("main script entry %s: %+v", main, h)
	}
	for _, name := range []string{"lib/greet.js", "data.txt"} {
		if entries["file"+filepath.ToSlash(filepath.Join(dir, name))] == nil {
			t.Errorf("archive lacks %s: %v", name, order)
		}
	}
	if meta.Type != "js" || meta.Filename != "file://"+filepath.ToSlash(filepath.Join(dir, "main.js")) || meta.Env["FROM_E"] != "yes" || meta.Env["SECRET"] != "" {
		t.Errorf("metadata %+v", meta)
	}
	var opts map[string]any
	if err := json.Unmarshal(meta.Options, &opts); err != nil || opts["vus"] != 2.0 || opts["iterations"] != 2.0 || opts["paused"] != nil {
		t.Errorf("archived options %s (%v)", meta.Options, err)
	}
	if _, ok := opts["rps"]; !ok {
		t.Errorf("archived options lack k6's keys: %s", meta.Options)
	}

	// It runs without its sources.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"run", "--no-summary", tarPath}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("run archive: exit %d\n%s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), `msg="ran hello world" source=console`); n != 2 {
		t.Errorf("%d iterations ran:\n%s", n, stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 iterations shared among 2 VUs") {
		t.Errorf("the archive's options not applied:\n%s", stdout.String())
	}
	// An archive's options pixelk6 does not honour (kept for k6) are refused.
	stderr.Reset()
	code := run(context.Background(), []string{"run", "-q", rpsTar}, &stdout, &stderr, d)
	if code != 104 || !strings.Contains(stderr.String(), "archive's options") || !strings.Contains(stderr.String(), "tlsAIAFetch (") {
		t.Fatalf("archive with tlsAIAFetch: exit %d\n%s", code, stderr.String())
	}
}

// TestAnonymise holds anonymise to k6's rule for archives (read in k6's lib/archive.go):
// the element after a home directory's name, matched without regard to case and after an
// optional Windows drive, becomes "nobody". Each case runs for every spelling of each home
// directory name (%[1]s in the patterns), so the paths are the rule's shapes, not anyone's.
func TestAnonymise(t *testing.T) {
	cases := [][2]string{
		{"/%[1]s/alice/tests/a.js", "/%[1]s/nobody/tests/a.js"},
		{"/c/%[1]s/dave/a.js", "/c/%[1]s/nobody/a.js"},
		{"/%[1]s/a.js", "/%[1]s/nobody"},
		{"/%[1]s//a.js", "/%[1]s//a.js"},
		{"/%[1]ss/frank/a.js", "/%[1]ss/frank/a.js"},
		{"/srv/%[1]s/x/a.js", "/srv/%[1]s/x/a.js"},
		{"/%[1]s", "/%[1]s"},
		{"/tmp/x/a.js", "/tmp/x/a.js"},
	}
	for _, home := range []string{"home", "HOME", "hOmE", "Users", "users", "Documents and Settings", "documents and settings"} {
		for _, c := range cases {
			in, want := fmt.Sprintf(c[0], home), fmt.Sprintf(c[1], home)
			if got := anonymise(in); got != want {
				t.Errorf("anonymise(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

// TestRunK6LayoutArchive runs an archive laid out as k6 writes one: anonymised paths,
// directory entries, the main script as a hard link to data, every options key present.
func TestRunK6LayoutArchive(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	put := func(h *tar.Header, b string) {
		h.Size = int64(len(b))
		if h.Typeflag == 0 {
			h.Typeflag, h.Mode = tar.TypeReg, 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	meta := `{"type":"js","options":{"paused":null,"vus":1,"duration":null,"iterations":3,"stages":null,"scenarios":null,` +
		`"executionSegment":null,"executionSegmentSequence":null,"noSetup":null,"setupTimeout":null,"noTeardown":null,` +
		`"teardownTimeout":null,"rps":null,"dns":{"ttl":null,"select":null,"policy":null},"maxRedirects":null,"userAgent":null,` +
		`"batch":null,"batchPerHost":null,"httpDebug":null,"insecureSkipTLSVerify":null,"tlsCipherSuites":null,"tlsVersion":null,` +
		`"tlsAuth":null,"throw":null,"thresholds":null,"blacklistIPs":null,"blockHostnames":null,"hosts":null,` +
		`"noConnectionReuse":null,"noVUConnectionReuse":null,"minIterationDuration":null,"ext":null,"summaryTrendStats":null,` +
		`"summaryTimeUnit":null,"systemTags":null,"tags":null,"metricSamplesBufferSize":null,"noCookiesReset":null,` +
		`"discardResponseBodies":null},"filename":"file:///home/nobody/k6/test.js","pwd":"file:///home/nobody/k6/",` +
		`"env":{"WHO":"k6"},"compatibilityMode":"extended","k6version":"2.2.0","goos":"linux"}`
	put(&tar.Header{Name: "metadata.json"}, meta)
	put(&tar.Header{Name: "data"}, "import { who } from './lib.js';\nexport default function () { console.log('made by ' + who()); }\n")
	for _, d := range []string{"file/home", "file/home/nobody", "file/home/nobody/k6"} {
		put(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}, "")
	}
	put(&tar.Header{Name: "file/home/nobody/k6/lib.js"}, "export function who() { return __ENV.WHO; }\n")
	if err := tw.WriteHeader(&tar.Header{Name: "file/home/nobody/k6/test.js", Typeflag: tar.TypeLink, Linkname: "data"}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "k6.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "-q", "--no-summary", p}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), `msg="made by k6" source=console`); n != 3 {
		t.Errorf("%d iterations:\n%s", n, stderr.String())
	}
}

func TestInspectArchive(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.js")
	if err := os.WriteFile(script, []byte("export const options = { vus: 3, duration: '10s' };\nexport default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "s.tar")
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"archive", "-O", tarPath, "-u", "4", script}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("archive: %d %s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"inspect", "--execution-requirements", tarPath}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("inspect: %d %s", code, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || got["maxVUs"] != 4.0 || got["totalDuration"] != "40s" {
		t.Errorf("inspect of the archive: %v\n%s", err, stdout.String())
	}
}

func TestArchiveStdoutExcludeEnv(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.js")
	if err := os.WriteFile(script, []byte("export default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"archive", "--stdout", "--exclude-env-vars", "-e", "TOKEN=secret", script}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("archive: %d %s", code, stderr.String())
	}
	a, err := readArchive(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.meta.Env) != 0 || a.main != filepath.ToSlash(script) {
		t.Errorf("env %v main %s", a.meta.Env, a.main)
	}
	if _, err := os.Stat(filepath.Join(dir, "archive.tar")); err == nil {
		t.Error("--stdout also wrote archive.tar")
	}
}

// TestRunArchiveRemoteModules runs an archive that carries remote modules, laid out as k6
// writes them (https/host/path): they are served from the archive, relative imports among
// them included, and nothing is fetched (jslib.k6.io is not reachable from tests).
func TestRunArchiveRemoteModules(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	put := func(name, b string) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	put("metadata.json", `{"type":"js","options":{"iterations":2},"filename":"file:///home/nobody/k6/test.js","pwd":"file:///home/nobody/k6/","env":{},"compatibilityMode":"extended","k6version":"2.2.0","goos":"linux"}`)
	put("data", "import { pick } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';\nexport default function () { console.log('picked ' + pick(['x'])); }\n")
	put("https/jslib.k6.io/k6-utils/1.4.0/index.js", "export { pick } from './pick.js';\n")
	put("https/jslib.k6.io/k6-utils/1.4.0/pick.js", "export function pick(a) { return a[0]; }\n")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "k6.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "-q", "--no-summary", p}, &stdout, &stderr, d); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), `msg="picked x" source=console`); n != 2 {
		t.Errorf("%d iterations:\n%s", n, stderr.String())
	}
}

// TestWriteArchiveRemoteModules: remote modules go into the archive under https/host/path,
// and reading the archive back serves them by URL.
func TestWriteArchiveRemoteModules(t *testing.T) {
	files := map[string][]byte{
		"/tests/test.js":                 []byte("import 'https://example.com/m/1.0/a.js';\n"),
		"https://example.com/m/1.0/a.js": []byte("export const a = 1;\n"),
	}
	var buf bytes.Buffer
	if err := writeArchive(&buf, "/tests/test.js", files, []byte(`{}`), nil, ""); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	if !names["https/example.com/m/1.0/a.js"] {
		t.Errorf("entries %v lack https/example.com/m/1.0/a.js", names)
	}
	a, err := readArchive(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := a.Remote(context.Background(), "https://example.com/m/1.0/a.js"); err != nil || string(b) != "export const a = 1;\n" {
		t.Errorf("Remote = %q, %v", b, err)
	}
	if _, err := a.Remote(context.Background(), "https://example.com/other.js"); err == nil || !strings.Contains(err.Error(), "not in the archive") {
		t.Errorf("a module the archive lacks: %v", err)
	}
}
