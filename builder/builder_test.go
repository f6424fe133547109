package builder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is this repository's root: pixelk6's module, the replacement tests build on.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// offline is the go command's environment for builds from the module cache alone.
func offline() []string {
	return append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
}

// TestBuildWithoutGo: no go command on PATH is a clear error, before anything is written.
func TestBuildWithoutGo(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	out := filepath.Join(t.TempDir(), "pixelk6")
	_, err := Build(context.Background(), Options{
		With:   []With{{Path: "github.com/acme/xk6-foo", Version: "v1.0.0"}},
		Output: out,
	})
	if err != ErrNoGo {
		t.Fatalf("Build without go = %v, want ErrNoGo", err)
	}
	if !strings.Contains(err.Error(), "go command is not on PATH") {
		t.Errorf("message: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a binary was written: %v", err)
	}
}

// TestBuildUnfetchableModule: a module go cannot fetch fails the build with go's message.
func TestBuildUnfetchableModule(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pixelk6")
	_, err := Build(context.Background(), Options{
		With:    []With{{Path: "example.com/no-such-extension", Version: "v1.0.0"}},
		Replace: []Replace{{Path: ModulePath, New: Target{Dir: repoRoot(t)}}},
		Output:  out,
		Env:     offline(),
	})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	for _, want := range []string{"cannot fetch example.com/no-such-extension@v1.0.0: go get:", "GOPROXY=off"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a binary was written: %v", err)
	}
}
