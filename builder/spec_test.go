package builder

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseWith(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string { return filepath.Join(wd, filepath.FromSlash(p)) }
	root := filepath.VolumeName(wd) + string(filepath.Separator)
	for _, tt := range []struct {
		name, in string
		want     With
		err      string
	}{
		{name: "module", in: "github.com/acme/xk6-foo", want: With{Path: "github.com/acme/xk6-foo"}},
		{name: "version", in: "github.com/acme/xk6-foo@v1.2.0", want: With{Path: "github.com/acme/xk6-foo", Version: "v1.2.0"}},
		{name: "query", in: "github.com/acme/xk6-foo@latest", want: With{Path: "github.com/acme/xk6-foo", Version: "latest"}},
		{name: "package in a module", in: "github.com/acme/tools/xk6/foo@v0.3.0", want: With{Path: "github.com/acme/tools/xk6/foo", Version: "v0.3.0"}},
		{name: "local checkout", in: "github.com/acme/xk6-foo=../xk6-foo", want: With{Path: "github.com/acme/xk6-foo", Replace: Target{Dir: abs("../xk6-foo")}}},
		{name: "current directory", in: "github.com/acme/xk6-foo=.", want: With{Path: "github.com/acme/xk6-foo", Replace: Target{Dir: wd}}},
		{name: "version and checkout", in: "github.com/acme/xk6-foo@v1.2.0=./fork", want: With{Path: "github.com/acme/xk6-foo", Version: "v1.2.0", Replace: Target{Dir: abs("fork")}}},
		{name: "absolute checkout", in: "github.com/acme/xk6-foo=" + root + "src", want: With{Path: "github.com/acme/xk6-foo", Replace: Target{Dir: root + "src"}}},
		{name: "fork module", in: "github.com/acme/xk6-foo=github.com/me/xk6-foo@v1.2.1", want: With{Path: "github.com/acme/xk6-foo", Replace: Target{Path: "github.com/me/xk6-foo", Version: "v1.2.1"}}},
		{name: "fork without version", in: "github.com/acme/xk6-foo=github.com/me/xk6-foo", err: "needs @VERSION"},
		{name: "bare directory name", in: "github.com/acme/xk6-foo=xk6-foo", err: "needs @VERSION"},
		{name: "empty", in: "", err: "no module path"},
		{name: "empty version", in: "github.com/acme/xk6-foo@", err: "empty version"},
		{name: "empty replacement", in: "github.com/acme/xk6-foo=", err: "empty replacement"},
		{name: "bad path", in: "github.com/acme/xk6 foo", err: "invalid char"},
		{name: "only a version", in: "@v1.0.0", err: "no module path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWith(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--with") {
					t.Fatalf("ParseWith(%q) = %+v, %v; want an error naming --with and containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseWith(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestParseReplace(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, in string
		want     Replace
		err      string
	}{
		{name: "checkout", in: "github.com/pixelk6/pixelk6=../pixelk6", want: Replace{Path: ModulePath, New: Target{Dir: filepath.Join(filepath.Dir(wd), "pixelk6")}}},
		{name: "one version by another", in: "google.golang.org/genproto@v0.0.0-20210226172003-ab064af71705=google.golang.org/genproto@v0.0.0-20230526161137-0005af68ea54",
			want: Replace{Path: "google.golang.org/genproto", Version: "v0.0.0-20210226172003-ab064af71705", New: Target{Path: "google.golang.org/genproto", Version: "v0.0.0-20230526161137-0005af68ea54"}}},
		{name: "no replacement", in: "github.com/acme/x", err: "want MODULE[@VERSION]=REPLACEMENT"},
		{name: "module without version", in: "github.com/acme/x=github.com/me/x", err: "needs @VERSION"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReplace(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--replace") {
					t.Fatalf("ParseReplace(%q) = %+v, %v; want an error naming --replace and containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseReplace(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

// TestSelfVersion: the version pixelk6 build requires by default is the running binary's
// own, and a development build has none.
func TestSelfVersion(t *testing.T) {
	dep := func(path, version string, repl *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: repl}
	}
	for _, tt := range []struct {
		name string
		bi   debug.BuildInfo
		want string
		err  string
	}{
		{name: "go install of a release", bi: debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v0.2.0"}}, want: "v0.2.0"},
		{name: "built in a checkout", bi: debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}}, err: "development build (version (devel))"},
		{name: "dirty VCS stamp", bi: debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v0.2.1-0.20261206041500-0123456789ab+dirty"}}, err: "development build"},
		{name: "custom binary", bi: debug.BuildInfo{Main: debug.Module{Path: "pixelk6-custom", Version: "(devel)"}, Deps: []*debug.Module{dep("github.com/acme/x", "v1.0.0", nil), dep(ModulePath, "v0.3.0", nil)}}, want: "v0.3.0"},
		{name: "custom binary on a checkout", bi: debug.BuildInfo{Main: debug.Module{Path: "pixelk6-custom"}, Deps: []*debug.Module{dep(ModulePath, zeroPseudo, dep("/src/pixelk6", "", nil))}}, err: "built from a replacement (/src/pixelk6)"},
		{name: "no pixelk6 at all", bi: debug.BuildInfo{Main: debug.Module{Path: "example.com/other"}}, err: "development build"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selfVersion(&tt.bi)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("selfVersion = %q, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("selfVersion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestGoMod: the build module's go.mod requires and replaces what the flags say, and its go.sum
// starts from the go.sum of each local checkout.
func TestGoMod(t *testing.T) {
	dir := t.TempDir()
	sum := "example.com/dep v1.0.0 h1:AAAA=\nexample.com/dep v1.0.0/go.mod h1:BBBB=\n"
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(sum), 0o644); err != nil {
		t.Fatal(err)
	}
	mod, gotSum, gets, err := goMod("1.26.8", []With{
		{Path: ModulePath, Replace: Target{Dir: dir}},
		{Path: "github.com/acme/xk6-foo", Version: "v1.2.0"},
		{Path: "github.com/acme/xk6-bar"},
		{Path: "github.com/acme/xk6-baz", Version: "v0.4.0", Replace: Target{Path: "github.com/me/xk6-baz", Version: "v0.4.1"}},
		{Path: ModulePath + "/examples/extension/sentiment"}, // comes with the replaced pixelk6
		{Path: "example.com/dep/xk6"}, // comes with the replaced example.com/dep
	}, []Replace{{Path: "example.com/dep", Version: "v1.0.0", New: Target{Path: "example.com/dep", Version: "v1.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "module pixelk6-custom\n\ngo 1.26.8\n\n" +
		"require (\n\tgithub.com/pixelk6/pixelk6 " + zeroPseudo + "\n\tgithub.com/acme/xk6-baz v0.4.0\n)\n\n" +
		"replace github.com/pixelk6/pixelk6 => " + dir + "\n\n" +
		"replace github.com/acme/xk6-baz => github.com/me/xk6-baz v0.4.1\n\n" +
		"replace example.com/dep v1.0.0 => example.com/dep v1.0.1\n"
	if d := cmp.Diff(want, string(mod)); d != "" {
		t.Errorf("go.mod (-want +got):\n%s", d)
	}
	if string(gotSum) != sum {
		t.Errorf("go.sum = %q, want the checkout's %q", gotSum, sum)
	}
	if d := cmp.Diff([]string{"github.com/acme/xk6-foo@v1.2.0", "github.com/acme/xk6-bar"}, gets); d != "" {
		t.Errorf("go get arguments (-want +got):\n%s", d)
	}
}

func TestGoLanguageVersion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"go1.26.8", "1.26.8"},
		{"go1.26.8 X:nocoverageredesign", "1.26.8"},
		{"go1.27-devel_0123abcd Mon Dec 7 2026", "1.27"},
		{"devel", ""},
	} {
		got, err := goLanguageVersion(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("goLanguageVersion(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("goLanguageVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
