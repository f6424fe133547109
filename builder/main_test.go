package builder

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateMains = flag.Bool("update-mains", false, "rewrite the repository's main packages from Main")

// TestCommandMainsAreGenerated: the repository's pixelk6 mains are Main's output, the same
// source `pixelk6 build` writes, so the three never drift (go test ./builder -update-mains
// rewrites them).
func TestCommandMainsAreGenerated(t *testing.T) {
	for _, tt := range []struct {
		path, doc string
		imports   []string
	}{
		{
			path: "../cmd/pixelk6/main.go",
			doc: `// Command pixelk6 is a k6-compatible load-testing runner; see package cli for its manual
// and exit codes. This file is builder.Main's output (go test ./builder -update-mains), the
// main that ` + "`pixelk6 build`" + ` writes for a custom binary too.`,
			imports: DefaultExtensions,
		},
		{
			path: "../examples/extension/cmd/pixelk6-custom/main.go",
			doc: `// Command pixelk6-custom is pixelk6 with one more extension linked in: k6/x/sentiment.
// It is cmd/pixelk6's main plus a blank import, which is all an xk6-style build does
// (builder.Main writes it: go test ./builder -update-mains):
//
//	go build -o bin/pixelk6-custom ./examples/extension/cmd/pixelk6-custom
//	bin/pixelk6-custom run examples/extension/script.js`,
			imports: append([]string{ModulePath + "/examples/extension/sentiment"}, DefaultExtensions...),
		},
	} {
		want, err := Main(tt.doc, tt.imports)
		if err != nil {
			t.Fatal(err)
		}
		if *updateMains {
			if err := os.WriteFile(filepath.FromSlash(tt.path), want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(filepath.FromSlash(tt.path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not builder.Main's output (go test ./builder -update-mains):\n%s", tt.path, got)
		}
	}
}

// TestMainSortsAndDedupes: the generated main imports each package once, in order.
func TestMainSortsAndDedupes(t *testing.T) {
	src, err := Main("", []string{"example.com/b", "example.com/a", "example.com/b"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(src, []byte(`_ "example.com/b"`)) != 1 || bytes.Index(src, []byte("example.com/a")) > bytes.Index(src, []byte("example.com/b")) {
		t.Errorf("imports not sorted and deduplicated:\n%s", src)
	}
	if _, err := Main("", []string{`bad"path`}); err == nil {
		t.Error("a path that breaks the source was accepted")
	}
}
