// Package builder is `pixelk6 build`: it makes a custom pixelk6 binary with extensions linked
// in, the way xk6 makes a custom k6. It owns the --with and --replace syntax (ParseWith,
// ParseReplace), the one main package every pixelk6 binary has (Main: cmd/pixelk6/main.go is
// its output), and the build itself (Build): a temporary module whose main blank-imports
// each extension and whose go.mod requires pixelk6 and the extensions, then `go mod tidy`
// and `go build` (CGO_ENABLED=0, -trimpath), then a start of the built binary that lists the
// k6/x/ modules it registers, so that a name two extensions claim, or a --with module that
// registers nothing with pixelk6's SDK, fails the build rather than a later test run.
package builder

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Options are one build's settings.
type Options struct {
	// PixelK6Version is the pixelk6 module version (or go get query) to build on; "" is the
	// running binary's own version (SelfVersion), unless a Replace or With replaces pixelk6.
	PixelK6Version string
	// With are the extensions; Replace further module replacements.
	With    []With
	Replace []Replace
	// Output is the binary's path; "" is ./pixelk6 (pixelk6.exe on Windows), and an existing
	// directory gets a binary named pixelk6 in it.
	Output string
	// Env is the go command's environment (nil: the process's); CGO_ENABLED=0 is added.
	Env []string
	// Log receives a line per step (nil: none).
	Log io.Writer
}

// zeroPseudo is the version go itself writes for a requirement only a directory replacement
// satisfies.
const zeroPseudo = "v0.0.0-00010101000000-000000000000"

// ErrNoGo is returned when no go command is on PATH.
var ErrNoGo = errors.New("no Go toolchain: the go command is not on PATH, and pixelk6 build compiles the binary with it; install Go (1.26 or newer) from https://go.dev/dl/ and put its bin directory on PATH")

// SelfVersion returns the version of pixelk6's module in the running binary's build
// information, when it is one that a go.mod can require: a binary built from a checkout
// ("(devel)", a +dirty VCS version) or from a replaced pixelk6 has none, and the reason
// says so.
func SelfVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("this binary has no Go build information")
	}
	return selfVersion(bi)
}

func selfVersion(bi *debug.BuildInfo) (string, error) {
	v := ""
	switch {
	case bi.Main.Path == ModulePath:
		v = bi.Main.Version
	default:
		for _, d := range bi.Deps {
			if d.Path != ModulePath {
				continue
			}
			if d.Replace != nil {
				return "", fmt.Errorf("this pixelk6 was built from a replacement (%s)", d.Replace.Path)
			}
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" || v == zeroPseudo || !semver.IsValid(v) || strings.Contains(v, "+") {
		if v == "" {
			v = "(devel)"
		}
		return "", fmt.Errorf("this pixelk6 is a development build (version %s), not a published module version", v)
	}
	return v, nil
}

// Build builds the binary and returns its absolute path. Errors quote the go command's own
// message.
func Build(ctx context.Context, o Options) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGo
	}
	out := o.Output
	if out == "" {
		out = "pixelk6"
		if runtime.GOOS == "windows" {
			out += ".exe"
		}
	}
	if out, err = filepath.Abs(out); err != nil {
		return "", err
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		// -o $(go env GOPATH)/bin, as xk6 users write: the binary goes into the directory.
		name := "pixelk6"
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		out = filepath.Join(out, name)
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)], "CGO_ENABLED=0")
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}

	// pixelk6 itself: replaced (a local checkout, a fork), or at a version.
	core := With{Path: ModulePath, Version: o.PixelK6Version}
	for _, r := range o.Replace {
		if r.Path == ModulePath {
			core.Replace = r.New
		}
	}
	// --with github.com/pixelk6/pixelk6[@V][=R] is another way to say the same.
	var exts []With
	for _, w := range o.With {
		if w.Path != ModulePath {
			exts = append(exts, w)
			continue
		}
		if w.Version != "" {
			core.Version = w.Version
		}
		if !w.Replace.IsZero() {
			core.Replace = w.Replace
		}
	}
	if core.Version == "" && core.Replace.IsZero() {
		v, err := SelfVersion()
		if err != nil {
			return "", fmt.Errorf("%w: pixelk6 build cannot require the pixelk6 it is; give --pixelk6-version VERSION (a published version, or any version go get takes), or --replace %s=PATH (a local checkout of pixelk6)", err, ModulePath)
		}
		core.Version = v
	}

	dir, err := os.MkdirTemp("", "pixelk6-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)

	imports := append([]string(nil), DefaultExtensions...)
	for _, w := range exts {
		imports = append(imports, w.Path)
	}
	src, err := Main("// Command pixelk6 is a custom pixelk6 binary made by `pixelk6 build`.", imports)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		return "", err
	}
	goEnv, err := goEnvOf(ctx, goCmd, env)
	if err != nil {
		return "", err
	}
	goVersion, err := goLanguageVersion(goEnv["GOVERSION"])
	if err != nil {
		return "", err
	}
	mod, sum, gets, err := goMod(goVersion, append([]With{core}, exts...), o.Replace)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return "", err
	}
	runEnv := func(env []string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return b, errors.New(msg)
		}
		return b, nil
	}
	run := func(args ...string) ([]byte, error) { return runEnv(env, args...) }
	for _, g := range gets {
		logf("pixelk6 build: go get %s", g)
		if _, err := run("get", g); err != nil {
			return "", fmt.Errorf("cannot fetch %s: go get: %w", g, err)
		}
	}
	// -e: tidy also wants the modules that the tests of dependencies import (testify for
	// protocompile's, say), which an offline build from the module cache may not have and
	// the binary never needs; a module the build does need and lacks fails go build below,
	// with go's message.
	logf("pixelk6 build: go mod tidy")
	if _, err := run("mod", "tidy", "-e"); err != nil {
		return "", fmt.Errorf("go mod tidy: %w", err)
	}
	host, target := goEnv["GOHOSTOS"]+"/"+goEnv["GOHOSTARCH"], goEnv["GOOS"]+"/"+goEnv["GOARCH"]
	if host != target {
		// A binary for another platform cannot start here: the check runs on a build of
		// the same main for this machine.
		checkBin := filepath.Join(dir, "pixelk6-check")
		logf("pixelk6 build: go build for %s, to check the extensions", host)
		hostEnv := append(env[:len(env):len(env)], "GOOS="+goEnv["GOHOSTOS"], "GOARCH="+goEnv["GOHOSTARCH"])
		if _, err := runEnv(hostEnv, "build", "-trimpath", "-o", checkBin, "."); err != nil {
			return "", fmt.Errorf("go build (for %s): %w", host, err)
		}
		if err := check(ctx, checkBin, exts); err != nil {
			return "", err
		}
	}
	logf("pixelk6 build: go build -trimpath -o %s (%s)", out, target)
	if _, err := run("build", "-trimpath", "-o", out, "."); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	if host == target {
		if err := check(ctx, out, exts); err != nil {
			_ = os.Remove(out)
			return "", err
		}
	}
	return out, nil
}

// goEnvOf reads the go command's settings that the build needs.
func goEnvOf(ctx context.Context, goCmd string, env []string) (map[string]string, error) {
	keys := []string{"GOVERSION", "GOOS", "GOARCH", "GOHOSTOS", "GOHOSTARCH"}
	cmd := exec.CommandContext(ctx, goCmd, append([]string{"env"}, keys...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) != len(keys) {
		return nil, fmt.Errorf("go env: want %d lines, got %q", len(keys), b)
	}
	m := map[string]string{}
	for i, k := range keys {
		m[k] = strings.TrimSpace(lines[i])
	}
	return m, nil
}

// goLanguageVersion turns the go command's GOVERSION ("go1.26.8") into a go directive's
// version ("1.26.8").
func goLanguageVersion(goversion string) (string, error) {
	v := strings.TrimPrefix(goversion, "go")
	if i := strings.IndexFunc(v, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		v = v[:i] // a development toolchain: "1.27-devel_abc ..." → "1.27"
	}
	if !modfile.GoVersionRE.MatchString(v) {
		return "", fmt.Errorf("go env GOVERSION: cannot read a Go version in %q", goversion)
	}
	return v, nil
}

// goMod returns the build module's go.mod, a go.sum seeded with the go.sum of every local
// directory replacement (so that their dependencies verify without a checksum database,
// offline too), and the go get arguments for the modules taken from a registry.
func goMod(goVersion string, with []With, replace []Replace) (mod, sum []byte, gets []string, err error) {
	f := new(modfile.File)
	if err := f.AddModuleStmt("pixelk6-custom"); err != nil {
		return nil, nil, nil, err
	}
	if err := f.AddGoStmt(goVersion); err != nil {
		return nil, nil, nil, err
	}
	var sums bytes.Buffer
	seen := map[string]bool{}
	seed := func(t Target) {
		if t.Dir == "" || seen[t.Dir] {
			return
		}
		seen[t.Dir] = true
		if b, err := os.ReadFile(filepath.Join(t.Dir, "go.sum")); err == nil {
			sums.Write(b)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				sums.WriteByte('\n')
			}
		}
	}
	// A package of a module the build replaces comes with that module: no go get.
	replaced := func(path string) bool {
		within := func(mod string) bool { return path == mod || strings.HasPrefix(path, mod+"/") }
		for _, w := range with {
			if !w.Replace.IsZero() && within(w.Path) {
				return true
			}
		}
		for _, r := range replace {
			if within(r.Path) {
				return true
			}
		}
		return false
	}
	for _, w := range with {
		if w.Replace.IsZero() && w.Version == "" && replaced(w.Path) {
			continue
		}
		if w.Replace.IsZero() {
			q := w.Path
			if w.Version != "" {
				q += "@" + w.Version
			}
			gets = append(gets, q)
			continue
		}
		v := w.Version
		if v == "" {
			v = zeroPseudo
		}
		if err := f.AddRequire(w.Path, v); err != nil {
			return nil, nil, nil, fmt.Errorf("--with %s: %w", w.Path, err)
		}
		if err := f.AddReplace(w.Path, "", w.Replace.Dir+w.Replace.Path, w.Replace.Version); err != nil {
			return nil, nil, nil, fmt.Errorf("--with %s: %w", w.Path, err)
		}
		seed(w.Replace)
	}
	for _, r := range replace {
		if err := f.AddReplace(r.Path, r.Version, r.New.Dir+r.New.Path, r.New.Version); err != nil {
			return nil, nil, nil, fmt.Errorf("--replace %s: %w", r.Path, err)
		}
		seed(r.New)
	}
	f.Cleanup()
	mod, err = f.Format()
	return mod, sums.Bytes(), gets, err
}

// registered is one line of the built binary's hidden __extensions listing.
type registered struct {
	Name    string `json:"name"`
	Package string `json:"package"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// check starts the built binary's hidden `__extensions` command: a binary whose extensions
// clash (modules.Register panics at init) or do not start fails here, and so does a --with
// module none of whose packages registered a k6/x/ module with pixelk6's SDK.
func check(ctx context.Context, bin string, with []With) error {
	cmd := exec.CommandContext(ctx, bin, "__extensions")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.Index(msg, "panic: "); i >= 0 {
			msg, _, _ = strings.Cut(msg[i+len("panic: "):], "\n")
		}
		if strings.Contains(msg, "already registered") {
			return fmt.Errorf("two extensions register the same module name: %s", msg)
		}
		return fmt.Errorf("the built binary does not start (%v): %s", err, msg)
	}
	var regs []registered
	if err := json.Unmarshal(b, &regs); err != nil {
		return fmt.Errorf("the built binary's extension list: %w: %q", err, b)
	}
	for _, w := range with {
		found := false
		for _, r := range regs {
			if r.Package == w.Path || strings.HasPrefix(r.Package, w.Path+"/") {
				found = true
			}
		}
		if found {
			continue
		}
		if usesK6(bin) {
			return fmt.Errorf("%s registers no k6/x/ module with pixelk6's SDK: it is built on go.k6.io/k6, k6's own Go module; port it to github.com/pixelk6/pixelk6/js/modules (see examples/extension/README.md, \"Porting an xk6 extension\")", w.Path)
		}
		return fmt.Errorf("%s registers no k6/x/ module: none of its packages linked into the binary calls modules.Register (pixelk6 links JavaScript extensions only)", w.Path)
	}
	return nil
}

// usesK6 reports whether the binary links k6's own Go module.
func usesK6(bin string) bool {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return false
	}
	for _, d := range bi.Deps {
		if d.Path == "go.k6.io/k6" || strings.HasPrefix(d.Path, "go.k6.io/k6/") {
			return true
		}
	}
	return false
}
