package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodesEveryRunFlag runs pixelk6 the way a CI job that replaced k6 with pixelk6
// does: one command line with every `k6 run` flag pixelk6 honours completes against
// pixelsim, a refused flag or variable stops the run with 104 naming it, an unknown flag
// exits 255, and setup timeouts and test.fail() have k6's exit codes.
func TestExitCodesEveryRunFlag(t *testing.T) {
	s := startSim(t, "--latency", "0")
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := write("script.js", `import http from 'k6/http';
import { check } from 'k6';
export function setup() { throw new Error('setup ran despite --no-setup'); }
export default function () {
  const res = http.get(__ENV.BASE_URL + '/health');
  check(res, { 'status is 200': (r) => r.status === 200 });
  console.log('iteration done');
}
export function teardown() { throw new Error('teardown ran despite --no-teardown'); }
`)
	cfg := write("config.json", `{"tags":{"from":"config"}}`)
	out := filepath.Join(dir, "out.json")
	every := []string{"run",
		"--vus", "2", "--iterations", "4", "--env", "BASE_URL=" + s.URL, "--tag", "team=perf",
		"--no-thresholds", "--out", "json=" + out, "--summary-export", filepath.Join(dir, "summary.json"),
		"--summary-mode", "full", "--summary-trend-stats", "avg,p(99),count", "--summary-time-unit", "ms",
		"--quiet", "--no-color", "--insecure-skip-tls-verify", "--include-system-env-vars=false",
		"--user-agent", "ci/1", "--log-output", "file=" + filepath.Join(dir, "k6.log") + ",level=info",
		"--log-format", "json", "--verbose", "--no-setup", "--no-teardown", "--system-tags", "status,method,url,name,scenario,check",
		"--console-output", filepath.Join(dir, "console.log"), "--config", cfg, "--compatibility-mode", "extended",
		"--type", "js", "--no-usage-report", "--min-iteration-duration", "10ms", "--address", "",
		"--paused=false", "--linger=false", "--traces-output", "none",
		"--rps", "200", "--batch", "5", "--batch-per-host", "3", "--max-redirects", "5", "--no-connection-reuse",
		"--no-vu-connection-reuse", "--discard-response-bodies", "-w", "--block-hostnames", "*.blocked.test",
		"--blacklist-ip", "10.255.0.0/16", "--local-ips", "127.0.0.1", "--dns", "ttl=1m,select=first,policy=preferIPv4",
		"--http-debug",
		script}
	r := run(t, dir, timeoutShort, nil, "pixelk6", every...)
	if r.Code != 0 {
		t.Fatalf("every flag: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "console.log")); strings.Count(string(b), "iteration done") != 4 {
		t.Errorf("console output file:\n%s", b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec struct {
			Type string `json:"type"`
			Data struct {
				Tags map[string]string `json:"tags"`
			} `json:"data"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Type == "Point" && (rec.Data.Tags["team"] != "perf" || rec.Data.Tags["from"] != "config") {
			t.Fatalf("a sample without --tag and the config file's tags: %s", line)
		}
	}

	cases := []struct {
		name   string
		args   []string
		env    []string
		stdin  string
		code   int
		stderr string
	}{
		{"refused flag", []string{"run", "--exit-on-running", script}, nil, "", 104, "--exit-on-running"},
		{"bad execution segment", []string{"run", "--execution-segment", "1/2:1", "--execution-segment-sequence", "0,1/3,1", script}, nil, "", 104, "couldn't find segment 1/2:1 in sequence 0,1/3,1"},
		{"refused variable", []string{"run", script}, []string{"K6_TLS_AIA_FETCH=true"}, "", 104, "K6_TLS_AIA_FETCH"},
		{"refused script option", []string{"run", "-"}, nil, "export const options = { tlsAIAFetch: true };\nexport default function () {}\n", 104, "tlsAIAFetch"},
		{"unknown flag", []string{"run", "--bogus", script}, nil, "", 255, "unknown flag: --bogus"},
		{"setup timeout", []string{"run", "-"}, nil, "export const options = { setupTimeout: '100ms' };\nexport function setup() { for (;;) {} }\nexport default function () {}\n", 100, "setup() execution timed out"},
		{"test.fail", []string{"run", "-"}, nil, "import exec from 'k6/execution';\nexport const options = { iterations: 2 };\nexport default function () { exec.test.fail('no'); }\n", 110, "marked as failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeoutShort)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin("pixelk6"), c.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), c.env...)
			cmd.Stdin = strings.NewReader(c.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("exit %d, want %d; stderr lacks %q?\n%s", code, c.code, c.stderr, stderr.String())
			}
		})
	}
}
