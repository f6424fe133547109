package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScripts runs real scripts from testdata through the JavaScript runtime: exit codes
// and messages as k6 gives them.
func TestScripts(t *testing.T) {
	tests := []struct {
		script string
		args   []string
		code   int
		stderr []string
	}{
		{"init_error.js", nil, 107, []string{"undefinedThing is not defined", "init_error.js:2"}},
		{"setup_error.js", nil, 107, []string{"no token", "setup_error.js:3"}},
		{"abort.js", nil, 108, []string{`msg="test aborted: enough"`}},
		{"bad_threshold.js", nil, 104, []string{"p(95)<1", "counter"}},
		{"thresholds.js", nil, 99, []string{"thresholds.js:13", `msg="thresholds on metrics 'hits' have been crossed"`}},
		{"thresholds.js", []string{"--no-thresholds"}, 0, []string{"iteration failed"}},
		{"env.js", []string{"-e", "FROM_FLAG=yes"}, 0, nil},
		{"env.js", nil, 0, []string{"FROM_FLAG=undefined"}},
		{"console_fail.js", nil, 110, []string{`level=info msg="hello {\"a\":1}" source=console`, "marked as failed by the script (test.fail()): bad data\"",
			`msg="There were unknown fields in the options exported in the script" error="json: unknown field \"bogusKey\""`}},
		{"setup_timeout.js", nil, 100, []string{"setup() execution timed out after 200ms"}},
		{"setup_timeout.js", []string{"--no-setup"}, 0, nil},
		{"teardown_timeout.js", nil, 101, []string{"teardown() execution timed out after 200ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.script+strings.Join(tt.args, ""), func(t *testing.T) {
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			exp := filepath.Join(t.TempDir(), "summary.json")
			args := append([]string{"run", "--summary-export", exp}, tt.args...)
			args = append(args, filepath.Join("testdata", tt.script))
			code := run(context.Background(), args, &stdout, &stderr, d)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", code, tt.code, stderr.String())
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if code == 0 || code == 99 || code == 108 || code == 110 {
				b, err := os.ReadFile(exp)
				if err != nil || !json.Valid(b) {
					t.Errorf("--summary-export: %v %q", err, b)
				}
				if !strings.Contains(stdout.String(), "TOTAL RESULTS") || !strings.Contains(stdout.String(), "execution: local") {
					t.Errorf("stdout:\n%s", stdout.String())
				}
			}
		})
	}
}
