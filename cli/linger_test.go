package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLinger: with --linger (or K6_LINGER, or the config file's linger) the command stays up
// after the test and its summary until it is interrupted, and then exits with the test's
// code; without it, it returns at once.
func TestLinger(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "t.js")
	if err := os.WriteFile(script, []byte("export default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"linger": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"run", "-q", "--linger", script}, nil},
		{"short flag", []string{"run", "-q", "-l", script}, nil},
		{"environment", []string{"run", "-q", script}, []string{"K6_LINGER=true"}},
		{"config file", []string{"run", "-q", "-c", cfg, script}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := defaultDeps()
			d.environ = func() []string { return tc.env }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, tc.args, &stdout, &stderr, d) }()
			// The line is logged after the summary and before the wait: once it is there, the
			// run is lingering (returning now would be the bug).
			for !strings.Contains(stderr.String(), "Linger set; waiting for Ctrl+C") {
				select {
				case code := <-done:
					t.Fatalf("returned %d without lingering:\n%s", code, stderr.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			if !strings.Contains(stdout.String(), "TOTAL RESULTS") {
				t.Errorf("no summary before lingering:\n%s", stdout.String())
			}
			select {
			case code := <-done:
				t.Fatalf("returned %d while lingering", code)
			default:
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit code %d after the interrupt, want the test's 0", code)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		d := defaultDeps()
		d.environ = func() []string { return nil }
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"run", "-q", script}, &stdout, &stderr, d); code != 0 || strings.Contains(stderr.String(), "Linger") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
	})
}
