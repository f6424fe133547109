package cli

import (
	"strings"
	"testing"
)

// TestBuildCommandLine: pixelk6 build's command line fails with 255 and a message naming
// the bad flag before anything is built (the builds themselves are e2e's
// TestBuildSentimentExtension and package builder's tests).
func TestBuildCommandLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad --with", []string{"build", "--with", "github.com/acme/x=x"}, `error: --with "github.com/acme/x=x": replacement "x": a module replacement needs @VERSION`},
		{"bad --replace", []string{"build", "--with", "github.com/acme/x", "--replace", "github.com/acme/y"}, `error: --replace "github.com/acme/y": want MODULE[@VERSION]=REPLACEMENT`},
		{"two versions", []string{"build", "v0.1.0", "--pixelk6-version", "v0.2.0", "--with", "github.com/acme/x"}, `error: two pixelk6 versions: "v0.1.0" and --pixelk6-version "v0.2.0"`},
		{"no go", []string{"build", "--with", "github.com/acme/x@v1.0.0", "--pixelk6-version", "v0.1.0"}, "error: no Go toolchain: the go command is not on PATH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // no go: nothing may be built
			r := runCLI(t, tt.args, "", nil, nil)
			if r.code != 255 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 255 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}
