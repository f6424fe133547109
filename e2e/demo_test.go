package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeDemoFromCleanClone clones the committed repository and runs `make demo` in it, as a
// new user would: it must build, run both load tests against pixelsim, print both verdicts
// and exit 0, within the README's three minutes.
func TestMakeDemoFromCleanClone(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the demo takes about a minute")
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".git")); err != nil {
		t.Skipf("not a git checkout (%v): nothing to clone", err)
	}
	dir := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "--quiet", repoRoot, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "demo")
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("make demo: %v after %s\n%s", err, took.Round(time.Second), out)
	}
	for _, want := range []string{"k6verdict --profile rest", "k6verdict --profile websocket", "demo: both verdicts PASS", "rest.json"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	t.Logf("make demo took %s", took.Round(time.Second))
}
