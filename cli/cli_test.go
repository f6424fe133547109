package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
)

func parseFlags(t *testing.T, args ...string) (options, *runFlags, error) {
	t.Helper()
	rf := &runFlags{}
	cmd := &cobra.Command{Use: "run"}
	rf.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		return options{}, rf, err
	}
	o, err := rf.options(cmd)
	return o, rf, err
}

func TestFlags(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	d := func(x time.Duration) *executor.Duration { y := executor.Duration(x); return &y }
	b := func(v bool) *bool { return &v }
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		args []string
		want options
		rf   func(*runFlags) bool
	}{
		{"none", nil, options{}, nil},
		{"vus long", []string{"--vus", "3"}, options{VUs: i(3)}, nil},
		{"vus short", []string{"-u", "4"}, options{VUs: i(4)}, nil},
		{"duration", []string{"-d", "1m30s"}, options{Duration: d(90 * time.Second)}, nil},
		{"duration long", []string{"--duration=500"}, options{Duration: d(500 * time.Millisecond)}, nil},
		{"iterations", []string{"-i", "7"}, options{Iterations: i(7)}, nil},
		{"iterations long", []string{"--iterations", "8"}, options{Iterations: i(8)}, nil},
		{"stages repeated and comma-separated", []string{"-s", "1s:2", "--stage", "2s:4,3s:0"},
			options{Stages: []executor.Stage{{Duration: executor.Duration(time.Second), Target: 2}, {Duration: executor.Duration(2 * time.Second), Target: 4}, {Duration: executor.Duration(3 * time.Second), Target: 0}}}, nil},
		{"tags", []string{"--tag", "a=1", "--tag", "b=x=y"}, options{Tags: map[string]string{"a": "1", "b": "x=y"}}, nil},
		{"no thresholds", []string{"--no-thresholds"}, options{NoThresholds: b(true)}, nil},
		{"trend stats", []string{"--summary-trend-stats", "avg,p(99), max"}, options{SummaryTrendStats: []string{"avg", "p(99)", "max"}}, nil},
		{"time unit", []string{"--summary-time-unit", "ms"}, options{SummaryTimeUnit: s("ms")}, nil},
		{"http debug bare", []string{"--http-debug"}, options{HTTPDebug: s("headers")}, nil},
		{"http debug full", []string{"--http-debug=full"}, options{HTTPDebug: s("full")}, nil},
		{"insecure", []string{"--insecure-skip-tls-verify"}, options{InsecureSkipTLSVerify: b(true)}, nil},
		{"throw", []string{"--throw"}, options{Throw: b(true)}, nil},
		{"throw short", []string{"-w"}, options{Throw: b(true)}, nil},
		{"user agent", []string{"--user-agent", "ua/1"}, options{UserAgent: s("ua/1")}, nil},
		{"env", []string{"-e", "A=1", "--env", "B=2"}, options{}, func(r *runFlags) bool { return cmp.Equal(r.env, []string{"A=1", "B=2"}) }},
		{"outs", []string{"-o", "json=a.json", "--out", "csv=b.csv"}, options{Out: []string{"json=a.json", "csv=b.csv"}}, func(r *runFlags) bool { return cmp.Equal(r.out, []string{"json=a.json", "csv=b.csv"}) }},
		{"summary export", []string{"--summary-export", "s.json"}, options{SummaryExport: s("s.json")}, func(r *runFlags) bool { return r.summaryExport == "s.json" }},
		{"summary mode", []string{"--summary-mode", "full"}, options{SummaryMode: s("full")}, func(r *runFlags) bool { return r.summaryMode == "full" }},
		{"no summary", []string{"--no-summary"}, options{NoSummary: b(true)}, func(r *runFlags) bool { return r.noSummary }},
		{"quiet", []string{"-q"}, options{}, func(r *runFlags) bool { return r.quiet }},
		{"no color", []string{"--no-color"}, options{NoColor: b(true)}, func(r *runFlags) bool { return r.noColor }},
		{"system env default on", nil, options{}, func(r *runFlags) bool { return r.includeSystemEnv }},
		{"system env off", []string{"--include-system-env-vars=false"}, options{IncludeSystemEnv: b(false)}, func(r *runFlags) bool { return !r.includeSystemEnv }},
		{"log output", []string{"--log-output", "none"}, options{LogOutput: s("none")}, func(r *runFlags) bool { return r.logOutput == "none" }},
		{"verbose", []string{"-v"}, options{}, func(r *runFlags) bool { return r.verbose }},
		{"no setup, no teardown", []string{"--no-setup", "--no-teardown"}, options{NoSetup: b(true), NoTeardown: b(true)}, nil},
		{"system tags", []string{"--system-tags", "status, method"}, options{SystemTags: []string{"status", "method"}}, nil},
		{"no system tags", []string{"--system-tags", ""}, options{SystemTags: []string{}}, nil},
		{"console output", []string{"--console-output", "c.log"}, options{ConsoleOutput: s("c.log")}, nil},
		{"log format", []string{"--log-format", "json"}, options{LogFormat: s("json")}, nil},
		{"log format, deprecated spelling", []string{"--logformat", "raw"}, options{LogFormat: s("raw")}, nil},
		{"compatibility mode and type", []string{"--compatibility-mode", "base", "-t", "js"}, options{CompatibilityMode: s("base"), Type: s("js")}, nil},
		{"min iteration duration", []string{"--min-iteration-duration", "1s"}, options{MinIterationDuration: d(time.Second)}, nil},
		{"config", []string{"-c", "k6.json"}, options{}, func(r *runFlags) bool { return r.config == "k6.json" }},
		{"no usage report", []string{"--no-usage-report"}, options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rf, err := parseFlags(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options -want +got:\n%s", diff)
			}
			if tt.rf != nil && !tt.rf(rf) {
				t.Errorf("flags not parsed: %+v", rf)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"bad duration", []string{"-d", "10x"}, `unknown unit "x"`},
		{"bad stage", []string{"-s", "10s"}, `invalid stage "10s"`},
		{"bad tag", []string{"--tag", "novalue"}, `invalid --tag "novalue"`},
		{"negative vus", []string{"-u", "-1"}, "invalid --vus -1"},
		{"not a number", []string{"-u", "x"}, `"x"`},
		{"bad min iteration duration", []string{"--min-iteration-duration", "soon"}, "invalid --min-iteration-duration"},
		{"refused flag", []string{"--exit-on-running"}, "--exit-on-running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseFlags(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want containing %q", err, tt.err)
			}
		})
	}
}

// fakeRunner is a tiny loaded script and engine runner: options from JSON, each iteration
// runs iter (nil: emits an iterations sample); handleSummary returns summary when set.
type fakeRunner struct {
	opts    string
	env     map[string]string
	exports map[string]bool
	reg     *metrics.Registry
	builtin *metrics.Builtin
	iter    func(ctx context.Context, v *fakeVU) error
	// summary is handleSummary's result; summaryData what it got.
	summary     map[string]string
	summaryData json.RawMessage
	modOpts     modules.Options
	// setups and teardowns count the calls; blockSummary makes handleSummary run until its
	// context ends; load are the options the script was loaded with.
	setups, teardowns int
	blockSummary      bool
	load              js.LoadOptions
}

var _ script = (*fakeRunner)(nil)

func (f *fakeRunner) Options() json.RawMessage { return json.RawMessage(f.opts) }
func (f *fakeRunner) Runner(o modules.Options) script {
	f.modOpts = o
	return f
}
func (f *fakeRunner) HasExport(name string) bool {
	if f.exports == nil {
		return name == "default"
	}
	return f.exports[name]
}
func (f *fakeRunner) NewVU(_ context.Context, spec engine.VUSpec) (engine.VU, error) {
	return &fakeVU{f: f, spec: spec}, nil
}
func (f *fakeRunner) Setup(context.Context, engine.VUSpec) (json.RawMessage, error) {
	f.setups++
	return nil, nil
}
func (f *fakeRunner) Teardown(context.Context, engine.VUSpec, json.RawMessage) error {
	f.teardowns++
	return nil
}
func (f *fakeRunner) HandleSummary(ctx context.Context, _ engine.VUSpec, data json.RawMessage) (map[string]string, bool, error) {
	if f.blockSummary {
		<-ctx.Done()
		return nil, true, ctx.Err()
	}
	if f.summary == nil {
		return nil, false, nil
	}
	f.summaryData = data
	return f.summary, true, nil
}

type fakeVU struct {
	f    *fakeRunner
	spec engine.VUSpec
	it   engine.Iteration
}

func (v *fakeVU) Close() {}
func (v *fakeVU) RunIteration(ctx context.Context, it engine.Iteration) error {
	v.it = it
	if v.f.iter != nil {
		return v.f.iter(ctx, v)
	}
	v.spec.Samples.Push(ctx, []metrics.Sample{{Metric: v.f.builtin.Iterations, Tags: metrics.NewTagSet(v.spec.Tags), Time: time.Now(), Value: 1}})
	return nil
}

type fakeOut struct {
	samples []metrics.Sample
	stopped bool
}

func (o *fakeOut) Start() error                  { return nil }
func (o *fakeOut) AddSamples(s []metrics.Sample) { o.samples = append(o.samples, s...) }
func (o *fakeOut) Stop() error                   { o.stopped = true; return nil }

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		opts    string
		environ []string
		loadErr error
		code    int
		stdout  []string
		stderr  []string
		check   func(t *testing.T, fr *fakeRunner, outs map[string]*fakeOut, params output.Params)
	}{
		{name: "version", args: []string{"version"}, stdout: []string{"pixelk6 v" + Version}},
		{name: "help", args: []string{"--help"}, stdout: []string{"run", "version"}},
		{name: "run help", args: []string{"run", "--help"}, stdout: []string{"--summary-export", "--insecure-skip-tls-verify"}},
		// k6 exits with 255 on a command line that does not parse.
		{name: "no script", args: []string{"run"}, code: 255, stderr: []string{"accepts 1 arg"}},
		{name: "unknown flag", args: []string{"run", "--bogus", "x.js"}, code: 255, stderr: []string{"bogus"}},
		{name: "flag value of the wrong type", args: []string{"run", "-u", "many", "x.js"}, code: 255, stderr: []string{"many"}},
		{name: "unknown command", args: []string{"bogus"}, code: 255, stderr: []string{"unknown command"}},
		{name: "load error", args: []string{"run", "x.js"}, loadErr: errors.New("script error: SyntaxError: x.js:3:4 unexpected token"), code: 107, stderr: []string{"x.js:3:4"}},
		{name: "bad duration flag", args: []string{"run", "-d", "3q", "x.js"}, code: 104, stderr: []string{`\"3q\"`}},
		{name: "bad env option", args: []string{"run", "x.js"}, environ: []string{"K6_VUS=lots"}, code: 104, stderr: []string{`K6_VUS=\"lots\"`}},
		{name: "bad threshold", args: []string{"run", "x.js"}, opts: `{"thresholds":{"iterations":["count>>1"]}}`, code: 104, stderr: []string{"count>>1"}},
		{name: "bad out", args: []string{"run", "-o", "influx=x", "x.js"}, code: 104, stderr: []string{"influx"}},
		{name: "bad summary mode", args: []string{"run", "--summary-mode", "legacy", "x.js"}, code: 104, stderr: []string{`\"legacy\"`}},
		{
			name:    "runs with env, tags and outputs",
			args:    []string{"run", "-i", "3", "-e", "A=from-flag", "--tag", "t=1", "-o", "json=a.json", "-o", "csv=b.csv", "x.js"},
			opts:    `{"vus":1,"duration":"10m","thresholds":{"http_req_duration{name:b}":["p(95)<1"],"http_req_duration":["p(99)<5"],"http_req_duration{name:a}":["avg<1"]}}`,
			environ: []string{"A=from-env", "B=2"},
			stdout:  []string{"output: json (a.json), csv (b.csv)", "3 iterations shared among 1 VUs", "TOTAL RESULTS"},
			check: func(t *testing.T, fr *fakeRunner, outs map[string]*fakeOut, params output.Params) {
				if fr.env["A"] != "from-flag" || fr.env["B"] != "2" {
					t.Errorf("script env %v", fr.env)
				}
				if len(outs) != 2 || !outs["json=a.json"].stopped {
					t.Fatalf("outputs %v", outs)
				}
				n := 0
				for _, s := range outs["csv=b.csv"].samples {
					if s.Metric.Name == "iterations" {
						n++
						if v, _ := s.Tags.Get("t"); v != "1" {
							t.Errorf("sample tags %s", s.Tags)
						}
					}
				}
				if n != 3 {
					t.Errorf("%d iterations samples", n)
				}
				info := params.Metrics["http_req_duration"]
				var names []string
				for _, s := range info.Submetrics {
					names = append(names, s.Name)
				}
				want := []string{"http_req_duration{name:b}", "http_req_duration{name:a}", "http_req_duration{expected_response:true}"}
				if !cmp.Equal(names, want) || len(info.Thresholds) != 1 || string(info.Thresholds[0]) != `"p(99)<5"` {
					t.Errorf("metric info %+v", info)
				}
			},
		},
		{name: "thresholds crossed", args: []string{"run", "-q", "x.js"}, opts: `{"iterations":2,"thresholds":{"iterations":["count>5"]}}`, code: 99,
			stderr: []string{`level=error msg="thresholds on metrics 'iterations' have been crossed"`}},
		{name: "no thresholds flag", args: []string{"run", "-q", "--no-thresholds", "x.js"}, opts: `{"iterations":2,"thresholds":{"iterations":["count>5"]}}`},
		{name: "include system env off", args: []string{"run", "-q", "--include-system-env-vars=false", "x.js"}, environ: []string{"SECRET=1"},
			check: func(t *testing.T, fr *fakeRunner, _ map[string]*fakeOut, _ output.Params) {
				if _, ok := fr.env["SECRET"]; ok {
					t.Error("system env passed to the script")
				}
			}},
		{name: "quiet no summary", args: []string{"run", "-q", "--no-summary", "x.js"}, check: func(*testing.T, *fakeRunner, map[string]*fakeOut, output.Params) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			fr := &fakeRunner{opts: tt.opts}
			outs := map[string]*fakeOut{}
			var params output.Params
			d := deps{
				load: func(_ context.Context, _ string, o js.LoadOptions) (loaded, error) {
					fr.env = o.Env
					fr.reg, fr.builtin = o.Registry, metrics.RegisterBuiltin(o.Registry)
					if tt.loadErr != nil {
						return nil, tt.loadErr
					}
					return fr, nil
				},
				newOutput: func(spec string, p output.Params) (engine.Output, error) {
					if !strings.HasPrefix(spec, "json") && !strings.HasPrefix(spec, "csv") {
						return nil, errors.New("unsupported output type in " + spec)
					}
					params = p
					o := &fakeOut{}
					outs[spec] = o
					return o, nil
				},
				environ: func() []string { return tt.environ },
				isTTY:   func(io.Writer) bool { return false },
			}
			code := run(context.Background(), tt.args, &stdout, &stderr, d)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tt.name == "quiet no summary" && stdout.Len() != 0 {
				t.Errorf("stdout not empty:\n%s", stdout.String())
			}
			if tt.check != nil {
				tt.check(t, fr, outs, params)
			}
		})
	}
}

func TestLogOutputFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log.txt")
	l, closeFn, err := newLogger("file="+p, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l.Log("warn", "hello")
	closeFn()
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), `level=warning msg="hello"`) {
		t.Fatalf("log file: %q", b)
	}
	if _, _, err := newLogger("syslog", io.Discard, io.Discard); err == nil {
		t.Fatal("bad --log-output accepted")
	}
}
