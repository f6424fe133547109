package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestK6APIFilesExamples runs pixelk6's own scripts for k6/experimental/fs,
// k6/experimental/csv (both with top-level await, as k6's documentation writes them) and
// k6/secrets (examples/k6-api/files) through the command line, as TestK6APICryptoExamples
// does: exit 0, no error logged, every line of the .expected file logged (for secrets.js,
// the secrets redacted), and never a secret's value.
func TestK6APIFilesExamples(t *testing.T) {
	dir := filepath.Join("..", "examples", "k6-api", "files")
	scripts, err := filepath.Glob(filepath.Join(dir, "*.js"))
	if err != nil || len(scripts) < 4 {
		t.Fatalf("%s: %d scripts, %v", dir, len(scripts), err)
	}
	secretsFile, err := filepath.Abs(filepath.Join(dir, "secrets.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range scripts {
		t.Run(filepath.Base(script), func(t *testing.T) {
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if !checksMustAllPass.Match(src) {
				t.Fatalf("the script does not declare the threshold checks: ['rate==1']")
			}
			args := []string{"run", "-q", "--no-summary"}
			if filepath.Base(script) == "secrets.js" {
				args = append(args, "--secret-source=file="+secretsFile)
			}
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), append(args, script), &stdout, &stderr, d); code != 0 {
				t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
			}
			for _, secret := range []string{"pixel-demo-token-7f3a", "correct horse"} {
				if strings.Contains(stderr.String(), secret) {
					t.Errorf("a secret is in the log:\n%s", stderr.String())
				}
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
