package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// timeoutBuild bounds one `pixelk6 build`: a cold build of pixelk6 with -trimpath takes a
// few minutes on a loaded two-core machine; later builds reuse the build cache.
const timeoutBuild = 8 * time.Minute

// offlineGo is the environment of a build from the module cache alone: no proxy, no
// checksum database (the checkouts' go.sum files vouch for the modules).
var offlineGo = []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}

// extModule writes a Go module at dir/name with the given path and Go files, requiring
// pixelk6 (which the build replaces by this checkout).
func extModule(t *testing.T, dir, name, path string, files map[string]string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	files["go.mod"] = "module " + path + "\n\ngo 1.26.0\n\nrequire github.com/pixelk6/pixelk6 v0.1.0\n"
	for n, src := range files {
		if err := os.WriteFile(filepath.Join(d, n), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestBuildSentimentExtension is `pixelk6 build` as an extension author uses it: the
// repository's example extension (examples/extension/sentiment), as a third-party module
// of its own in a local checkout, and pixelk6 replaced by this checkout, built offline from
// the module cache. The binary runs a script that imports k6/x/sentiment, and its version
// lists the extension with its Go module. Then the build refuses two extensions that
// register one name, and a --with module that registers none.
func TestBuildSentimentExtension(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", "extension", "sentiment", "sentiment.go"))
	if err != nil {
		t.Fatal(err)
	}
	ext := extModule(t, dir, "xk6-sentiment", "github.com/acme/xk6-sentiment", map[string]string{"sentiment.go": string(src)})
	out := filepath.Join(binDir, "pixelk6-sentiment")
	pixelk6 := "--replace=github.com/pixelk6/pixelk6=" + repoRoot
	start := time.Now()
	r := run(t, dir, timeoutBuild, offlineGo, "pixelk6", "build", pixelk6,
		"--with", "github.com/acme/xk6-sentiment=./xk6-sentiment", "-o", out)
	t.Logf("pixelk6 build took %s", time.Since(start).Round(time.Second))
	if r.Code != 0 {
		t.Fatalf("pixelk6 build: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := strings.TrimSpace(r.Stdout); got != out {
		t.Errorf("printed %q, want the binary's path %q", got, out)
	}
	for _, step := range []string{"go mod tidy", "go build -trimpath"} {
		if !strings.Contains(r.Stderr, step) {
			t.Errorf("stderr does not show the step %q:\n%s", step, r.Stderr)
		}
	}

	script := filepath.Join(dir, "tone.js")
	if err := os.WriteFile(script, []byte(`import sentiment from 'k6/x/sentiment';
import { check } from 'k6';

export const options = { iterations: 3, thresholds: { sentiment_score: ['avg>0'] } };

export default function () {
  const s = sentiment.score('thank you, I feel hopeful and supported');
  check(s, { 'positive tone': (v) => v > 0 });
  console.log('score=' + s);
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "tone.json")
	r = run(t, dir, timeoutRun, nil, "pixelk6-sentiment", "run", "--quiet", "--out", "json="+results, script)
	if r.Code != 0 {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := strings.Count(r.Stderr, "score=1"); n != 3 {
		t.Errorf("%d score=1 lines, want 3:\n%s", n, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "sentiment_score") || !strings.Contains(r.Stdout, "✓ 'avg>0'") {
		t.Errorf("the summary lacks the extension's metric and threshold:\n%s", r.Stdout)
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	points := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"type":"Point"`) && strings.Contains(line, `"metric":"sentiment_score"`) {
			points++
		}
	}
	if points != 3 {
		t.Errorf("%d sentiment_score points in %s, want 3", points, results)
	}

	r = run(t, dir, timeoutShort, nil, "pixelk6-sentiment", "version")
	for _, want := range []string{
		"pixelk6 v", "Extensions:\n",
		"  github.com/acme/xk6-sentiment (devel), k6/x/sentiment [js]\n",
		"  github.com/pixelk6/pixelk6 v0.1.0, k6/x/pixel [js]\n",
	} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Errorf("version (exit %d) lacks %q:\n%s%s", r.Code, want, r.Stdout, r.Stderr)
		}
	}
	r = run(t, dir, timeoutShort, nil, "pixelk6-sentiment", "version", "--json")
	var v struct {
		Extensions []struct {
			Module, Version string
			Imports         []string
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("version --json: %v\n%s", err, r.Stdout)
	}
	found := false
	for _, e := range v.Extensions {
		if e.Module == "github.com/acme/xk6-sentiment" && e.Version == "(devel)" && strings.Join(e.Imports, ",") == "k6/x/sentiment" {
			found = true
		}
	}
	if !found {
		t.Errorf("version --json lacks the extension:\n%s", r.Stdout)
	}

	// The example as it sits in this repository: a package of the (replaced) pixelk6 module.
	// -o names a directory, as `xk6 build --output $(go env GOPATH)/bin` does: ./pixelk6 in it.
	inTree := filepath.Join(binDir, "in-tree")
	if err := os.Mkdir(inTree, 0o755); err != nil {
		t.Fatal(err)
	}
	r = run(t, dir, timeoutBuild, offlineGo, "pixelk6", "build", pixelk6, "-o", inTree,
		"--with", "github.com/pixelk6/pixelk6/examples/extension/sentiment")
	if want := filepath.Join(inTree, "pixelk6"); r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
		t.Fatalf("pixelk6 build of the in-tree example into a directory: exit %d, printed %q, want %q\nstderr:\n%s", r.Code, r.Stdout, want, r.Stderr)
	}
	r = run(t, dir, timeoutShort, nil, filepath.Join("in-tree", "pixelk6"), "version")
	if want := "  github.com/pixelk6/pixelk6 (devel), k6/x/sentiment [js]\n"; r.Code != 0 || !strings.Contains(r.Stdout, want) {
		t.Errorf("version (exit %d) lacks %q:\n%s%s", r.Code, want, r.Stdout, r.Stderr)
	}

	// A second extension that claims k6/x/sentiment: caught when the build starts the binary.
	extModule(t, dir, "xk6-tone", "github.com/acme/xk6-tone", map[string]string{"tone.go": `package tone

import "github.com/pixelk6/pixelk6/js/modules"

func init() { modules.Register("k6/x/sentiment", struct{}{}) }
`})
	clash := filepath.Join(dir, "pixelk6-clash")
	r = run(t, dir, timeoutBuild, offlineGo, "pixelk6", "build", pixelk6, "-o", clash,
		"--with", "github.com/acme/xk6-sentiment="+ext, "--with", "github.com/acme/xk6-tone=./xk6-tone")
	want := `error: two extensions register the same module name: modules.Register("k6/x/sentiment") in github.com/acme/xk6-tone: module already registered by github.com/acme/xk6-sentiment`
	if r.Code != 255 || !strings.Contains(r.Stderr, want) {
		t.Errorf("a name two extensions register: exit %d, want 255 and %q\nstderr:\n%s", r.Code, want, r.Stderr)
	}
	if _, err := os.Stat(clash); !os.IsNotExist(err) {
		t.Errorf("the clashing binary was left behind: %v", err)
	}
	// Cross-compiling: the check runs on a build for this machine, before the target's.
	other := "arm64"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	r = run(t, dir, timeoutBuild, append([]string{"GOARCH=" + other}, offlineGo...), "pixelk6", "build", pixelk6, "-o", clash,
		"--with", "github.com/acme/xk6-sentiment="+ext, "--with", "github.com/acme/xk6-tone=./xk6-tone")
	host := "go build for " + runtime.GOOS + "/" + runtime.GOARCH + ", to check the extensions"
	if r.Code != 255 || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, host) || strings.Contains(r.Stderr, "("+runtime.GOOS+"/"+other+")") {
		t.Errorf("a clash when cross-compiling for %s: exit %d, want 255, %q and %q, and no build for %s\nstderr:\n%s", other, r.Code, want, host, other, r.Stderr)
	}

	// An unported xk6 extension: it registers with k6's SDK (here a stand-in module at k6's
	// path, go.k6.io/k6, so that the test needs neither k6 nor the network), not pixelk6's.
	stub := filepath.Join(dir, "k6stub")
	if err := os.MkdirAll(filepath.Join(stub, "js", "modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"go.mod":                "module go.k6.io/k6\n\ngo 1.26.0\n",
		"js/modules/modules.go": "// Package modules stands in for k6's extension registry.\npackage modules\n\nvar names []string\n\n// Register records name.\nfunc Register(name string, _ any) { names = append(names, name) }\n",
	} {
		if err := os.WriteFile(filepath.Join(stub, filepath.FromSlash(name)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(dir, "xk6-old")
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"go.mod": "module github.com/acme/xk6-old\n\ngo 1.26.0\n\nrequire go.k6.io/k6 v1.0.0\n",
		"old.go": "package old\n\nimport \"go.k6.io/k6/js/modules\"\n\nfunc init() { modules.Register(\"k6/x/old\", struct{}{}) }\n",
	} {
		if err := os.WriteFile(filepath.Join(old, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = run(t, dir, timeoutBuild, offlineGo, "pixelk6", "build", pixelk6, "-o", filepath.Join(dir, "pixelk6-old"),
		"--with", "github.com/acme/xk6-old=./xk6-old", "--replace", "go.k6.io/k6=./k6stub")
	if want := "error: github.com/acme/xk6-old registers no k6/x/ module with pixelk6's SDK: it is built on go.k6.io/k6"; r.Code != 255 || !strings.Contains(r.Stderr, want) {
		t.Errorf("an unported xk6 extension: exit %d, want 255 and %q\nstderr:\n%s", r.Code, want, r.Stderr)
	}

	// A --with module that registers no k6/x/ module with pixelk6's SDK.
	extModule(t, dir, "helper", "github.com/acme/helper", map[string]string{"helper.go": "package helper\n\n// Answer is not an extension.\nconst Answer = 42\n"})
	r = run(t, dir, timeoutBuild, offlineGo, "pixelk6", "build", pixelk6, "-o", filepath.Join(dir, "pixelk6-none"),
		"--with", "github.com/acme/helper=./helper")
	if want := "error: github.com/acme/helper registers no k6/x/ module"; r.Code != 255 || !strings.Contains(r.Stderr, want) {
		t.Errorf("a --with module without an extension: exit %d, want 255 and %q\nstderr:\n%s", r.Code, want, r.Stderr)
	}
}
