package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// logMsg finds the message of a k6-format log line (level and msg="...").
var logMsg = regexp.MustCompile(`level=(\w+) msg=("(?:[^"\\]|\\.)*")`)

// TestK6APICryptoExamples runs the examples of k6's documentation for k6/crypto and the
// crypto global (examples/k6-api/crypto, unchanged) through the command line: each must
// exit 0 and log no error, and print every line its .expected file holds (the outputs k6's
// documentation shows, or the lines the example prints when its checks hold).
func TestK6APICryptoExamples(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("..", "examples", "k6-api", "crypto", "*.js"))
	if err != nil || len(scripts) < 40 {
		t.Fatalf("examples/k6-api/crypto: %d scripts, %v", len(scripts), err)
	}
	for _, script := range scripts {
		t.Run(filepath.Base(script), func(t *testing.T) {
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"run", "-q", "--no-summary", script}, &stdout, &stderr, d)
			if code != 0 {
				t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
			}
			var msgs []string
			for _, m := range logMsg.FindAllStringSubmatch(stderr.String(), -1) {
				msg, err := strconv.Unquote(m[2])
				if err != nil {
					t.Fatalf("log line %q: %v", m[0], err)
				}
				if m[1] == "error" {
					t.Errorf("error logged: %s", msg)
				}
				msgs = append(msgs, msg)
			}
			want, err := os.ReadFile(strings.TrimSuffix(script, ".js") + ".expected")
			if os.IsNotExist(err) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimRight(string(want), "\n"), "\n") {
				found := false
				for _, m := range msgs {
					found = found || m == line
				}
				if !found {
					t.Errorf("no log line %q; got:\n%s", line, strings.Join(msgs, "\n"))
				}
			}
		})
	}
}
