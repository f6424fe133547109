package cli

import (
	"runtime/debug"
	"testing"
)

// TestModuleOf: `pixelk6 version` finds an extension's Go module and version from the
// package that registered it, as the build information records them.
func TestModuleOf(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "pixelk6-custom", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/pixelk6/pixelk6", Version: "v0.1.0", Replace: &debug.Module{Path: "/src/pixelk6", Version: "(devel)"}},
			{Path: "github.com/acme/xk6-foo", Version: "v1.2.0"},
			{Path: "github.com/acme/xk6-foo/v2", Version: "v2.0.1"},
			{Path: "github.com/acme/tools", Version: "v0.3.0"},
			{Path: "github.com/acme/tools/xk6", Version: "v0.9.0"},
			{Path: "github.com/acme/local", Version: zeroPseudo, Replace: &debug.Module{Path: "../local", Version: "(devel)"}},
			{Path: "github.com/acme/forked", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/me/forked", Version: "v1.0.1"}},
		},
	}
	for _, tt := range []struct{ pkg, mod, ver string }{
		{"github.com/acme/xk6-foo", "github.com/acme/xk6-foo", "v1.2.0"},
		{"github.com/acme/xk6-foo/v2", "github.com/acme/xk6-foo/v2", "v2.0.1"},
		{"github.com/acme/tools/xk6/sql", "github.com/acme/tools/xk6", "v0.9.0"}, // the longest module path
		{"github.com/acme/tools/other", "github.com/acme/tools", "v0.3.0"},
		{"github.com/pixelk6/pixelk6/extension/pixel", "github.com/pixelk6/pixelk6", "v0.1.0"},
		{"github.com/acme/local", "github.com/acme/local", "(devel)"},
		{"github.com/acme/forked", "github.com/acme/forked", "v1.0.1"},
		{"pixelk6-custom/ext", "pixelk6-custom", "(devel)"},
		{"github.com/acme/xk6-foobar", "github.com/acme/xk6-foobar", "(devel)"}, // not within xk6-foo
	} {
		if mod, ver := moduleOf(bi, tt.pkg); mod != tt.mod || ver != tt.ver {
			t.Errorf("moduleOf(%q) = %q %q, want %q %q", tt.pkg, mod, ver, tt.mod, tt.ver)
		}
	}
	if mod, ver := moduleOf(nil, "github.com/acme/x"); mod != "github.com/acme/x" || ver != "(devel)" {
		t.Errorf("without build information: %q %q", mod, ver)
	}
}
