package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPureCore: the engine depends only on its own interfaces, the executors and the
// metrics; never on a JavaScript engine, esbuild, the module SDK or a presentation package.
func TestPureCore(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/dop251/goja", "github.com/evanw/esbuild", "github.com/pixelk6/pixelk6/js", "github.com/pixelk6/pixelk6/cli", "github.com/pixelk6/pixelk6/summary", "github.com/pixelk6/pixelk6/output"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("engine depends on %s", dep)
			}
		}
	}
}
