package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
)

// runCLI runs the command line on a fake script with options opts; prep may adjust the
// fake and the deps first.
type fakeRun struct {
	code           int
	stdout, stderr string
	fr             *fakeRunner
	outs           map[string]*fakeOut
}

func runCLI(t *testing.T, args []string, opts string, environ []string, prep func(*fakeRunner, *deps)) fakeRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	fr := &fakeRunner{opts: opts}
	outs := map[string]*fakeOut{}
	d := deps{
		load: func(_ context.Context, _ string, o js.LoadOptions) (loaded, error) {
			fr.env, fr.load = o.Env, o
			fr.reg, fr.builtin = o.Registry, metrics.RegisterBuiltin(o.Registry)
			return fr, nil
		},
		newOutput: func(spec string, _ output.Params) (engine.Output, error) {
			o := &fakeOut{}
			outs[spec] = o
			return o, nil
		},
		environ: func() []string { return environ },
		isTTY:   func(io.Writer) bool { return false },
	}
	if prep != nil {
		prep(fr, &d)
	}
	code := run(context.Background(), args, &stdout, &stderr, d)
	return fakeRun{code, stdout.String(), stderr.String(), fr, outs}
}

// TestScriptOptionKeys is the gate on the script's options: every k6 key pixelk6 does
// not honour fails the run with 104 naming it; a key k6 does not know is k6's warning.
func TestScriptOptionKeys(t *testing.T) {
	type tc struct {
		name, opts string
		code       int
		stderr     []string
		notStderr  string
	}
	var tests []tc
	for _, s := range supportTable {
		if s.Key == "" || s.ConfigOnly || s.OK {
			continue
		}
		tests = append(tests, tc{name: "refused " + s.Key, opts: `{"iterations":1,"` + s.Key + `":true}`, code: 104,
			stderr: []string{"does not support", s.Key}})
	}
	tests = append(tests,
		tc{name: "refused keys all named", opts: `{"features":["x"],"tlsAIAFetch":true,"iterations":1}`, code: 104, stderr: []string{"features (", "tlsAIAFetch ("}},
		tc{name: "null is unset", opts: `{"features":null,"iterations":1}`, notStderr: "features"},
		tc{name: "an object of nulls is unset", opts: `{"features":{"a":null,"b":null},"iterations":1}`, notStderr: "features"},
		tc{name: "an object with a value is set", opts: `{"features":{"a":"x","b":null},"iterations":1}`, code: 104, stderr: []string{"features ("}},
		tc{name: "dns as k6 writes it unset", opts: `{"dns":{"ttl":null,"select":null,"policy":null},"iterations":1}`, notStderr: "dns"},
		tc{name: "dns with a value is honoured", opts: `{"dns":{"ttl":"1m","select":null},"iterations":1}`, notStderr: "dns"},
		tc{name: "unknown key warns and runs", opts: `{"iterations":1,"bogusOption":1}`,
			stderr: []string{`level=warning msg="There were unknown fields in the options exported in the script" error="json: unknown field \"bogusOption\""`}},
		tc{name: "config-file key in a script warns", opts: `{"iterations":1,"out":["json"]}`, stderr: []string{`unknown field \"out\"`}},
		tc{name: "json-less k6 option in a script warns", opts: `{"iterations":1,"consoleOutput":"x"}`, stderr: []string{`unknown field \"consoleOutput\"`}},
		tc{name: "cloud and ext accepted", opts: `{"iterations":1,"ext":{"loadimpact":{"name":"x"}},"cloud":{"name":"x"}}`, notStderr: "level=warning"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, []string{"run", "-q", "x.js"}, tt.opts, nil, nil)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tt.notStderr != "" && strings.Contains(r.stderr, tt.notStderr) {
				t.Errorf("stderr has %q:\n%s", tt.notStderr, r.stderr)
			}
		})
	}
}

// TestRefusedFlags is the gate on the command line: every `k6 run` flag pixelk6 does not
// honour parses as in k6 and fails the run with 104 naming it.
func TestRefusedFlags(t *testing.T) {
	type tc struct {
		name string
		args []string
		code int
		want string
	}
	var tests []tc
	for _, s := range supportTable {
		if s.OK || s.Flag == "" {
			continue
		}
		arg := "--" + s.Flag
		if !s.Bool {
			arg += "=1"
		}
		tests = append(tests, tc{"refused --" + s.Flag, []string{arg}, 104, "--" + s.Flag})
		if s.Short != "" {
			args := []string{"-" + s.Short}
			if !s.Bool {
				args = append(args, "1")
			}
			tests = append(tests, tc{"refused -" + s.Short, args, 104, "--" + s.Flag})
		}
	}
	tests = append(tests,
		tc{"switch off is accepted", []string{"--paused=false", "--linger=false"}, 0, ""},
		tc{"empty address is accepted", []string{"--address="}, 0, ""},
		tc{"traces output none is accepted", []string{"--traces-output=none"}, 0, ""},
		tc{"several named", []string{"--exit-on-running", "--features", "x"}, 104, "--features (no feature flag is implemented yet); --exit-on-running (not implemented yet)"},
		tc{"unknown flag", []string{"--no-such-flag"}, 255, "unknown flag: --no-such-flag"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"run", "-q"}, tt.args...), "x.js")
			r := runCLI(t, args, `{"iterations":1}`, nil, nil)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

// TestRefusedEnv is the gate on the environment: a K6_* option variable pixelk6 does not
// honour fails the run with 104 naming it; other K6_ variables (extensions', outputs')
// are left alone.
func TestRefusedEnv(t *testing.T) {
	type tc struct {
		name    string
		environ []string
		code    int
		want    string
	}
	var tests []tc
	for _, s := range supportTable {
		if s.OK || s.Env == "" {
			continue
		}
		tests = append(tests, tc{"refused " + s.Env, []string{s.Env + "=true"}, 104, s.Env})
	}
	tests = append(tests,
		tc{"off value accepted", []string{"K6_PAUSED=false", "K6_WEB_DASHBOARD=false", "K6_TRACES_OUTPUT=none"}, 0, ""},
		tc{"empty is unset", []string{"K6_FEATURES="}, 0, ""},
		tc{"not options", []string{"K6_BROWSER_HEADLESS=false", "K6_CLOUD_TOKEN=x", "K6_INFLUXDB_USERNAME=u", "K6_CSV_SAVE_INTERVAL=1s"}, 0, ""},
		tc{"several named", []string{"K6_TLS_AIA_FETCH=true", "K6_FEATURES=x"}, 104, "K6_FEATURES (no feature flag is implemented yet); K6_TLS_AIA_FETCH"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, []string{"run", "-q", "x.js"}, `{"iterations":1}`, tt.environ, nil)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

// TestEveryRunFlagInTable checks that `pixelk6 run` has every flag of the table (with its
// short form and kind) and no flag the table (hence the README) does not list.
func TestEveryRunFlagInTable(t *testing.T) {
	cmd := &cobra.Command{Use: "run"}
	(&runFlags{}).register(cmd)
	fs := cmd.Flags()
	inTable := map[string]bool{}
	for _, s := range supportTable {
		if s.Flag == "" {
			continue
		}
		inTable[s.Flag] = true
		f := fs.Lookup(s.Flag)
		if f == nil {
			t.Errorf("--%s is not a flag of pixelk6 run", s.Flag)
			continue
		}
		if f.Shorthand != s.Short {
			t.Errorf("--%s: short form %q, table says %q", s.Flag, f.Shorthand, s.Short)
		}
		if isBool := f.Value.Type() == "bool"; isBool != s.Bool {
			t.Errorf("--%s: bool %v, table says %v", s.Flag, isBool, s.Bool)
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !inTable[f.Name] {
			t.Errorf("--%s is not in supportTable", f.Name)
		}
	})
}

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's support table from supportTable")

// TestREADMESupportTable checks that the README's table is the one supportTable renders.
func TestREADMESupportTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- support table: generated by cli.supportMarkdown -->\n", "<!-- end of support table -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", begin, end)
	}
	got, want := s[i+len(begin):j], supportMarkdown()
	if *updateREADME {
		if err := os.WriteFile(filepath.Join("..", "README.md"), []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README.md's support table differs from supportTable (go test ./cli -run README -update-readme rewrites it); want:\n%s", want)
	}
}

// TestRunOptionEffects checks each option implemented here by its observable effect, from
// each place k6 reads it.
func TestRunOptionEffects(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exports := map[string]bool{"default": true, "setup": true, "teardown": true, "handleSummary": true}
	withExports := func(fr *fakeRunner, _ *deps) { fr.exports = exports }
	iters := func(r fakeRun) int {
		n := 0
		for _, o := range r.outs {
			for _, s := range o.samples {
				if s.Metric.Name == "iterations" {
					n++
				}
			}
		}
		return n
	}
	cfgFile := writeFile("config.json", `{"vus":1,"iterations":4,"tags":{"from":"file"},"noSetup":true,"bogus":1}`)
	refusedCfg := writeFile("refused.json", `{"iterations":1,"features":["x"]}`)
	tests := []struct {
		name    string
		args    []string
		opts    string
		environ []string
		prep    func(*fakeRunner, *deps)
		code    int
		check   func(t *testing.T, r fakeRun)
	}{
		{name: "setup and teardown run", args: []string{"run", "-q", "-o", "json", "x.js"}, opts: `{"iterations":1}`, prep: withExports,
			check: func(t *testing.T, r fakeRun) {
				if r.fr.setups != 1 || r.fr.teardowns != 1 {
					t.Errorf("setups %d teardowns %d", r.fr.setups, r.fr.teardowns)
				}
			}},
		{name: "--no-setup --no-teardown", args: []string{"run", "-q", "--no-setup", "--no-teardown", "x.js"}, opts: `{"iterations":1}`, prep: withExports,
			check: func(t *testing.T, r fakeRun) {
				if r.fr.setups != 0 || r.fr.teardowns != 0 {
					t.Errorf("setups %d teardowns %d", r.fr.setups, r.fr.teardowns)
				}
			}},
		{name: "noSetup key, K6_NO_TEARDOWN", args: []string{"run", "-q", "x.js"}, opts: `{"iterations":1,"noSetup":true}`, environ: []string{"K6_NO_TEARDOWN=true"}, prep: withExports,
			check: func(t *testing.T, r fakeRun) {
				if r.fr.setups != 0 || r.fr.teardowns != 0 {
					t.Errorf("setups %d teardowns %d", r.fr.setups, r.fr.teardowns)
				}
			}},
		{name: "flag beats script: --no-setup=false", args: []string{"run", "-q", "--no-setup=false", "x.js"}, opts: `{"iterations":1,"noSetup":true}`, prep: withExports,
			check: func(t *testing.T, r fakeRun) {
				if r.fr.setups != 1 {
					t.Errorf("setups %d", r.fr.setups)
				}
			}},
		{name: "handleSummaryTimeout bounds handleSummary", args: []string{"run", "-q", "x.js"}, opts: `{"iterations":1,"handleSummaryTimeout":"30ms"}`,
			prep: func(fr *fakeRunner, d *deps) { withExports(fr, d); fr.blockSummary = true },
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "handleSummary") || !strings.Contains(r.stderr, "deadline") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "K6_HANDLE_SUMMARY_TIMEOUT invalid", args: []string{"run", "-q", "x.js"}, opts: `{"iterations":1}`, environ: []string{"K6_HANDLE_SUMMARY_TIMEOUT=soon"}, code: 104,
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "K6_HANDLE_SUMMARY_TIMEOUT") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "config file tier, below the script", args: []string{"run", "-q", "-c", cfgFile, "-o", "json", "x.js"}, opts: `{"iterations":2}`, prep: withExports,
			check: func(t *testing.T, r fakeRun) {
				if n := iters(r); n != 2 {
					t.Errorf("%d iterations, want the script's 2", n)
				}
				if r.fr.setups != 0 {
					t.Error("config file's noSetup ignored")
				}
				for _, s := range r.outs["json"].samples {
					if v, _ := s.Tags.Get("from"); v != "file" {
						t.Fatalf("sample without the config file's tag: %s", s.Tags)
					}
				}
				if !strings.Contains(r.stderr, `msg="There were unknown fields in the config file" error="json: unknown field \"bogus\""`) {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "K6_CONFIG", args: []string{"run", "-q", "-o", "json", "x.js"}, environ: []string{"K6_CONFIG=" + cfgFile},
			check: func(t *testing.T, r fakeRun) {
				if n := iters(r); n != 4 {
					t.Errorf("%d iterations, want the config file's 4", n)
				}
			}},
		{name: "config file refusal", args: []string{"run", "-q", "-c", refusedCfg, "x.js"}, code: 104,
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "config file") || !strings.Contains(r.stderr, "features (") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "missing config file", args: []string{"run", "-q", "-c", filepath.Join(dir, "none.json"), "x.js"}, code: 104},
		{name: "--tag and K6_TAGS on every sample", args: []string{"run", "-q", "--tag", "a=flag", "-o", "json", "x.js"}, opts: `{"iterations":2,"tags":{"a":"script","b":"script"}}`,
			environ: []string{"K6_TAGS=c:env,b:env"},
			check: func(t *testing.T, r fakeRun) {
				for _, s := range r.outs["json"].samples {
					a, _ := s.Tags.Get("a")
					b, _ := s.Tags.Get("b")
					c, _ := s.Tags.Get("c")
					if a != "flag" || b != "env" || c != "env" {
						t.Fatalf("sample %s tags %s", s.Metric.Name, s.Tags)
					}
				}
			}},
		{name: "console output to a file", args: []string{"run", "-q", "--console-output", filepath.Join(dir, "console.log"), "x.js"}, opts: `{"iterations":1}`,
			prep: func(fr *fakeRunner, _ *deps) {
				fr.iter = func(ctx context.Context, v *fakeVU) error {
					lf := fr.load.Logger.(interface {
						LogFields(string, string, ...string)
					})
					lf.LogFields("info", "hello from console", "source", "console")
					fr.load.Logger.Log("warn", "a module warning")
					return nil
				}
			},
			check: func(t *testing.T, r fakeRun) {
				b, err := os.ReadFile(filepath.Join(dir, "console.log"))
				if err != nil || !strings.Contains(string(b), `level=info msg="hello from console" source=console`) {
					t.Errorf("console file %q %v", b, err)
				}
				if strings.Contains(r.stderr, "hello from console") || !strings.Contains(r.stderr, "a module warning") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "log format json", args: []string{"run", "-q", "--log-format", "json", "x.js"}, opts: `{"iterations":1,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			check: func(t *testing.T, r fakeRun) {
				line := strings.TrimSpace(r.stderr)
				var m map[string]string
				if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] != "error" || !strings.Contains(m["msg"], "have been crossed") {
					t.Errorf("stderr %q: %v", r.stderr, err)
				}
			}},
		{name: "log format raw from K6_LOG_FORMAT", args: []string{"run", "-q", "x.js"}, environ: []string{"K6_LOG_FORMAT=raw"}, opts: `{"iterations":1,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			check: func(t *testing.T, r fakeRun) {
				if r.stderr != "thresholds on metrics 'iterations' have been crossed\n" {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
		{name: "bad log format", args: []string{"run", "-q", "--log-format", "xml", "x.js"}, code: 104},
		{name: "log output none", args: []string{"run", "-q", "--log-output", "none", "x.js"}, opts: `{"iterations":1,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			check: func(t *testing.T, r fakeRun) {
				if r.stderr != "" {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
		{name: "log output stdout", args: []string{"run", "-q", "--log-output", "stdout", "--no-summary", "x.js"}, opts: `{"iterations":1,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			check: func(t *testing.T, r fakeRun) {
				if r.stderr != "" || !strings.Contains(r.stdout, "have been crossed") {
					t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
				}
			}},
		{name: "log output file with a level", args: []string{"run", "-q", "--log-output", "file=" + filepath.Join(dir, "k6.log") + ",level=error", "x.js"},
			opts: `{"iterations":1,"bogus":1,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			check: func(t *testing.T, r fakeRun) {
				b, err := os.ReadFile(filepath.Join(dir, "k6.log"))
				if err != nil || !strings.Contains(string(b), "have been crossed") || strings.Contains(string(b), "level=warning") || r.stderr != "" {
					t.Errorf("log file %q (%v), stderr %q", b, err, r.stderr)
				}
			}},
		{name: "log output file with a bad parameter", args: []string{"run", "-q", "--log-output", "file=x.log,color=red", "x.js"}, code: 104},
		{name: "log output loki refused", args: []string{"run", "-q", "--log-output", "loki=http://127.0.0.1:3100", "x.js"}, code: 104},
		{name: "verbose shows debug lines", args: []string{"run", "-q", "-v", "x.js"}, opts: `{"iterations":1}`,
			prep: func(fr *fakeRunner, _ *deps) {
				fr.iter = func(context.Context, *fakeVU) error { fr.load.Logger.Log("debug", "a debug line"); return nil }
			},
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "a debug line") {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
		{name: "test.fail exits 110 after the summary", args: []string{"run", "x.js"}, opts: `{"iterations":2}`, code: 110,
			prep: func(fr *fakeRunner, _ *deps) {
				fr.iter = func(_ context.Context, v *fakeVU) error { v.spec.MarkFailed("bad"); return nil }
			},
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stdout, "TOTAL RESULTS") || !strings.Contains(r.stderr, "marked as failed") {
					t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
				}
			}},
		{name: "run - reads standard input", args: []string{"run", "-q", "-"}, opts: `{"iterations":1}`,
			prep: func(_ *fakeRunner, d *deps) { d.stdin = strings.NewReader("export default function () {}\n") },
			check: func(t *testing.T, r fakeRun) {
				wd, _ := os.Getwd()
				b, err := r.fr.load.ReadFile(filepath.Join(wd, "-"))
				if err != nil || string(b) != "export default function () {}\n" {
					t.Errorf("script from stdin %q %v", b, err)
				}
			}},
		{name: "--min-iteration-duration spaces iterations", args: []string{"run", "-q", "--min-iteration-duration", "30ms", "x.js"}, opts: `{"iterations":3,"minIterationDuration":"1ms"}`,
			prep: func(fr *fakeRunner, _ *deps) {
				var starts []time.Time
				fr.iter = func(context.Context, *fakeVU) error {
					if n := len(starts); n > 0 && time.Since(starts[n-1]) < 30*time.Millisecond {
						return fmt.Errorf("iteration %d started %s after the previous one", n, time.Since(starts[n-1]))
					}
					starts = append(starts, time.Now())
					return nil
				}
			},
			check: func(t *testing.T, r fakeRun) {
				if strings.Contains(r.stderr, "started") {
					t.Errorf("stderr:\n%s", r.stderr)
				}
			}},
		{name: "--type archive on a script", args: []string{"run", "-q", "--type", "archive", filepath.Join(dir, "config.json")}, code: 107,
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "reading the archive") {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
		{name: "unknown system tag refused", args: []string{"run", "-q", "--system-tags", "status,bogus", "x.js"}, opts: `{"iterations":1}`, code: 104,
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, `\"bogus\" is not a k6 system tag`) {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
		{name: "empty user agent refused", args: []string{"run", "-q", "--user-agent", "", "x.js"}, opts: `{"iterations":1}`, code: 104},
		{name: "bad --type", args: []string{"run", "-q", "--type", "zip", "x.js"}, code: 107},
		{name: "include system env from K6_INCLUDE_SYSTEM_ENV_VARS", args: []string{"run", "-q", "x.js"}, opts: `{"iterations":1}`,
			environ: []string{"K6_INCLUDE_SYSTEM_ENV_VARS=false", "SECRET=1"},
			check: func(t *testing.T, r fakeRun) {
				if _, ok := r.fr.env["SECRET"]; ok {
					t.Error("system env passed")
				}
			}},
		{name: "unsupported subcommand", args: []string{"cloud", "x.js"}, code: 255,
			check: func(t *testing.T, r fakeRun) {
				if !strings.Contains(r.stderr, "not supported by pixelk6") {
					t.Errorf("stderr %q", r.stderr)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args, tt.opts, tt.environ, tt.prep)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name string
		args []string
		opts string
		env  []string
		want map[string]any
	}{
		{"options", []string{"inspect", "x.js"}, `{"vus":5,"duration":"30s","rps":10,"bogus":1}`, []string{"K6_VUS=7"},
			map[string]any{"vus": 7.0, "duration": "30s", "rps": 10.0, "paused": nil, "thresholds": nil}},
		{"execution requirements", []string{"inspect", "--execution-requirements", "x.js"}, `{"vus":5,"duration":"30s"}`, nil,
			map[string]any{"totalDuration": "1m0s", "maxVUs": 5.0, "vus": nil}},
		{"scenarios", []string{"inspect", "--execution-requirements", "x.js"},
			`{"scenarios":{"a":{"executor":"constant-vus","vus":3,"duration":"10s"},"b":{"executor":"per-vu-iterations","vus":2,"iterations":1,"startTime":"1m","maxDuration":"20s","gracefulStop":"0s"}}}`, nil,
			map[string]any{"totalDuration": "1m20s", "maxVUs": 5.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args, tt.opts, tt.env, nil)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v:\n%s", err, r.stdout)
			}
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || !cmp.Equal(g, v) {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
				}
			}
			if _, ok := got["bogus"]; ok {
				t.Error("unknown key shown")
			}
		})
	}
}

func TestVersionAndNew(t *testing.T) {
	r := runCLI(t, []string{"--version"}, "", nil, nil)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "pixelk6 v"+Version) {
		t.Errorf("--version: %d %q", r.code, r.stdout)
	}
	r = runCLI(t, []string{"version", "--json"}, "", nil, nil)
	var v struct {
		Version    string `json:"version"`
		Extensions []any  `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version != "v"+Version || v.Extensions == nil {
		t.Errorf("version --json: %v %q", err, r.stdout)
	}
	p := filepath.Join(t.TempDir(), "new.js")
	if r = runCLI(t, []string{"new", p}, "", nil, nil); r.code != 0 {
		t.Fatalf("new: %d %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "127.0.0.1:5173") || !strings.Contains(string(b), "export default function") {
		t.Errorf("starter script:\n%s", b)
	}
	if err := os.WriteFile(p, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = runCLI(t, []string{"new", p}, "", nil, nil); r.code != 255 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("overwrite without --force: %d %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(p); string(b) != "mine" {
		t.Error("file overwritten without --force")
	}
	if r = runCLI(t, []string{"new", "--force", p}, "", nil, nil); r.code != 0 {
		t.Errorf("--force: %d %q", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(p); string(b) == "mine" {
		t.Error("--force did not overwrite")
	}
}

func TestHoistGlobalFlags(t *testing.T) {
	tests := []struct{ in, want string }{
		{"run x.js", "run x.js"},
		{"-q run x.js", "run -q x.js"},
		{"-v --log-output stdout -c k6.json --no-color run -u 2 x.js", "run -v --log-output stdout -c k6.json --no-color -u 2 x.js"},
		{"--log-format=json archive x.js", "archive --log-format=json x.js"},
		{"-q inspect x.js", "-q inspect x.js"},
		{"--version", "--version"},
		{"--bogus run x.js", "--bogus run x.js"},
	}
	for _, tt := range tests {
		if got := strings.Join(hoistGlobalFlags(strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
	r := runCLI(t, []string{"-q", "--log-format", "raw", "run", "x.js"}, `{"iterations":1,"thresholds":{"iterations":["count>5"]}}`, nil, nil)
	if r.code != 99 || r.stdout == "" || r.stderr != "thresholds on metrics 'iterations' have been crossed\n" {
		t.Errorf("global flags before run: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestK6OptionsOrder checks that inspect's key list and supportTable know the same k6
// options keys (noThresholds is pixelk6's own: k6's options have no such key).
func TestK6OptionsOrder(t *testing.T) {
	inOrder := map[string]bool{}
	for _, k := range k6OptionsOrder {
		if inOrder[k] {
			t.Errorf("%s twice", k)
		}
		inOrder[k] = true
	}
	for _, s := range supportTable {
		if s.Key == "" || s.ConfigOnly || s.Key == "noThresholds" {
			continue
		}
		if !inOrder[s.Key] {
			t.Errorf("%s is in supportTable, not in k6OptionsOrder", s.Key)
		}
		delete(inOrder, s.Key)
	}
	for k := range inOrder {
		t.Errorf("%s is in k6OptionsOrder, not in supportTable", k)
	}
}

// TestRefusalsGathered checks that one message names the refused settings of every tier.
func TestRefusalsGathered(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "k6.json")
	if err := os.WriteFile(cfg, []byte(`{"tlsAIAFetch":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, []string{"run", "-q", "--exit-on-running", "-c", cfg, "x.js"}, `{"iterations":1,"features":["x"]}`, []string{"K6_FEATURES=x"}, nil)
	if r.code != 104 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "level=error"); n != 1 {
		t.Errorf("%d error lines, want one:\n%s", n, r.stderr)
	}
	for _, want := range []string{"command line: --exit-on-running (", "environment: K6_FEATURES (", "config file: tlsAIAFetch (", "script options: features ("} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestNoEffectWarns: a setting pixelk6 accepts but that changes nothing in it is never
// silent: from the script or the environment it logs a warning naming it.
func TestNoEffectWarns(t *testing.T) {
	so, err := parseScriptOptions([]byte(`{"metricSamplesBufferSize": 5000}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    options
		env  map[string]string
		want int
	}{
		{"script", so, nil, 1},
		{"environment", options{}, map[string]string{"K6_METRIC_SAMPLES_BUFFER_SIZE": "10"}, 1},
		{"unset", options{}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := noEffectWarnings(tc.o, tc.env)
			if len(got) != tc.want || tc.want == 1 && !strings.Contains(got[0], "metricSamplesBufferSize") {
				t.Fatalf("warnings %q, want %d naming metricSamplesBufferSize", got, tc.want)
			}
		})
	}
}
