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

// checksMustAllPass finds the threshold that makes one failed check fail the run.
var checksMustAllPass = regexp.MustCompile(`thresholds:\s*\{\s*checks:\s*\['rate==1'\]`)

// logMsg finds the message of a k6-format log line (level and msg="...").
var logMsg = regexp.MustCompile(`level=(\w+) msg=("(?:[^"\\]|\\.)*")`)

// TestK6APICryptoExamples runs pixelk6's own scripts for the k6/crypto module and the crypto
// global (examples/k6-api/crypto), which cover the API members k6's documentation shows,
// through the command line. Each script checks its results with check() and declares the
// threshold checks: ['rate==1'], so one failed check exits 99; each must exit 0, log no
// error, and print every line its .expected file holds (the line it logs after its last
// step, so a script that stops early fails).
func TestK6APICryptoExamples(t *testing.T) { runCheckedExamples(t, "crypto", 11) }

// TestK6APICoreExamples runs, the same way, pixelk6's own scripts for the k6 module (check,
// group, sleep, fail, randomSeed), k6/metrics (held to exact values by thresholds),
// k6/execution, k6/encoding, k6/data and k6/timers (examples/k6-api/core).
func TestK6APICoreExamples(t *testing.T) { runCheckedExamples(t, "core", 6) }

// runCheckedExamples runs every script of examples/k6-api/DIR (at least min of them) as
// TestK6APICryptoExamples says.
func runCheckedExamples(t *testing.T, dir string, min int) {
	scripts, err := filepath.Glob(filepath.Join("..", "examples", "k6-api", dir, "*.js"))
	if err != nil || len(scripts) < min {
		t.Fatalf("examples/k6-api/%s: %d scripts, %v", dir, len(scripts), err)
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

// TestK6APICryptoExamplesFailedCheck shows that the threshold the example scripts declare
// turns one failed check into a failed run (exit code 99), so TestK6APICryptoExamples
// cannot pass over a wrong result.
func TestK6APICryptoExamplesFailedCheck(t *testing.T) {
	script := filepath.Join(t.TempDir(), "wrong.js")
	src := `import { check } from 'k6';
import { sha256 } from 'k6/crypto';
export const options = { thresholds: { checks: ['rate==1'] } };
export default function () {
  check(sha256('abc', 'hex'), { 'right': (h) => h.startsWith('ba7816bf'), 'wrong': (h) => h === 'not it' });
}
`
	if !checksMustAllPass.MatchString(src) {
		t.Fatal("checksMustAllPass does not match the threshold line")
	}
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "-q", "--no-summary", script}, &stdout, &stderr, d); code != 99 {
		t.Fatalf("exit code %d, want 99 (thresholds crossed)\nstderr:\n%s", code, stderr.String())
	}
}
