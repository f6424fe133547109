package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/internal/logfmt"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/metrics"
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// versionLine is `pixelk6 version`'s and `pixelk6 --version`'s line.
func versionLine() string {
	return fmt.Sprintf("pixelk6 v%s (%s, %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// configTier reads the config file of -c, else of K6_CONFIG (none: an empty tier), and
// logs k6's warning for each key k6 does not know.
func configTier(flag string, env map[string]string, logger *logfmt.Logger) (options, error) {
	path := flag
	if path == "" {
		path = env["K6_CONFIG"]
	}
	if path == "" {
		return options{}, nil
	}
	o, unknown, err := readConfigFile(path)
	for _, k := range unknown {
		logger.LogFields("warning", "There were unknown fields in the config file", "error", fmt.Sprintf("json: unknown field %q", k))
	}
	return o, err
}

// warnUnknown logs k6's warning for each key of the script's options k6 does not know.
func warnUnknown(logger *logfmt.Logger, keys []string) {
	for _, k := range keys {
		logger.LogFields("warning", unknownFieldsWarning, "error", fmt.Sprintf("json: unknown field %q", k))
	}
}

// openInput reads the test to run, as k6 decides: --type js or archive, else an archive
// when the file is a tar with k6's metadata.json. It returns the archive (nil for a
// script).
func openInput(typ *string, path string, stdin io.Reader) (*archive, error) {
	switch t := deref(typ); t {
	case "js":
		return nil, nil
	case "archive":
	case "":
		if path == "-" || !isArchive(path) {
			return nil, nil
		}
	default:
		return nil, fmt.Errorf("invalid --type %q (want js or archive)", t)
	}
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	if r == nil {
		return nil, errors.New("no standard input")
	}
	a, err := readArchive(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// consoleLogger is the scripts' logger: console.* lines (source=console) go to the
// --console-output file when there is one, everything else to the run's logger.
type consoleLogger struct {
	*logfmt.Logger
	console *logfmt.Logger
}

// LogFields implements the js package's field logger.
func (c *consoleLogger) LogFields(level, msg string, kv ...string) {
	if c.console != nil && len(kv) >= 2 && kv[0] == "source" && kv[1] == "console" {
		c.console.LogFields(level, msg, kv...)
		return
	}
	c.Logger.LogFields(level, msg, kv...)
}

// stdinScript reads the script of `pixelk6 run -` from r: it is served to the loader as
// the file "-" of the working directory (relative imports resolve from there, as in k6).
func stdinScript(r io.Reader, lo js.LoadOptions) (string, js.LoadOptions, error) {
	if r == nil {
		return "", lo, errors.New("reading the script from standard input: no standard input")
	}
	src, err := io.ReadAll(r)
	if err != nil {
		return "", lo, fmt.Errorf("reading the script from standard input: %w", err)
	}
	cwd := lo.CWD
	if cwd == "" {
		if cwd, err = os.Getwd(); err != nil {
			return "", lo, err
		}
	}
	path := filepath.Join(cwd, "-")
	read := lo.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	lo.ReadFile = func(p string) ([]byte, error) {
		if p == path {
			return src, nil
		}
		return read(p)
	}
	return path, lo, nil
}

// inspectCmd is `pixelk6 inspect [--execution-requirements] script.js`: the options
// after consolidation (config file, script, K6_* variables) as k6 prints them.
func inspectCmd(ctx context.Context, code *int, stdout, stderr io.Writer, d deps) *cobra.Command {
	var execReq, includeEnv bool
	var config string
	var envs []string
	cmd := &cobra.Command{
		Use:   "inspect [flags] script.js|-",
		Short: "Print a script's consolidated options as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			*code = inspect(ctx, a[0], inspectArgs{execReq: execReq, includeEnv: includeEnv, config: config, env: envs}, stdout, stderr, d)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&execReq, "execution-requirements", false, "add the test's total duration and maximum VUs")
	fs.BoolVar(&includeEnv, "include-system-env-vars", false, "pass the process environment to the script's __ENV")
	fs.StringVarP(&config, "config", "c", "", "k6's JSON config file")
	fs.StringArrayVarP(&envs, "env", "e", nil, "add an environment variable KEY=VALUE for the script's __ENV")
	return cmd
}

type inspectArgs struct {
	execReq, includeEnv bool
	config              string
	env                 []string
}

func inspect(ctx context.Context, path string, a inspectArgs, stdout, stderr io.Writer, d deps) int {
	logger := logfmt.New(stderr)
	fail := func(code int, err error) int {
		logger.Log("error", err.Error())
		return code
	}
	procEnv := envMap(d.environ())
	envOpts, err := optionsFromEnv(procEnv)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	fileOpts, err := configTier(a.config, procEnv, logger)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	scriptEnv := map[string]string{}
	if a.includeEnv {
		for k, v := range procEnv {
			scriptEnv[k] = v
		}
	}
	for _, kv := range a.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fail(engine.ExitInvalidConfig, fmt.Errorf("invalid --env %q: want KEY=VALUE", kv))
		}
		scriptEnv[k] = v
	}
	arc, err := openInput(nil, path, d.stdin)
	if err != nil {
		return fail(engine.ExitScriptError, err)
	}
	var raw json.RawMessage
	if arc != nil { // an archive's options stand for its script's
		raw = arc.meta.Options
	} else {
		lo := js.LoadOptions{Env: scriptEnv, Logger: logger, Registry: metrics.NewRegistry()}
		if path == "-" {
			if path, lo, err = stdinScript(d.stdin, lo); err != nil {
				return fail(engine.ExitScriptError, err)
			}
		}
		ld, err := d.load(ctx, path, lo)
		if err != nil {
			return fail(engine.ExitScriptError, err)
		}
		if c, ok := ld.(io.Closer); ok {
			defer c.Close()
		}
		raw = ld.Options()
	}
	// inspect shows what the script asks for, refused settings included: only run refuses.
	scriptOpts, unknown, _ := decodeOptionsLenient(raw)
	warnUnknown(logger, unknown)
	o := consolidate(tiers{defaults: options{}, file: fileOpts, script: scriptOpts, env: envOpts})
	out, err := inspectJSON(o, a.execReq)
	if err != nil {
		return fail(engine.ExitInvalidConfig, err)
	}
	if _, err := stdout.Write(out); err != nil {
		return engine.ExitGeneric
	}
	return 0
}

// decodeOptionsLenient decodes a script's options without refusing k6 settings pixelk6
// does not honour (they are kept in Other).
func decodeOptionsLenient(raw json.RawMessage) (options, []string, error) {
	var o options
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return o, nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return o, nil, err
	}
	byKey := supportByKey()
	var unknown []string
	for k, v := range fields {
		s, known := byKey[k]
		switch {
		case !known || s.ConfigOnly:
			unknown = append(unknown, k)
		case !optionFields[k] && !unset(v):
			if o.Other == nil {
				o.Other = map[string]json.RawMessage{}
			}
			o.Other[k] = v
		}
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, unknown, err
	}
	o.clearNulls()
	return o, unknown, nil
}

// k6OptionsOrder are the keys of k6's options (its lib.Options) in k6's order: the shape
// of `k6 inspect` and of an archive's metadata.json.
var k6OptionsOrder = []string{
	"paused", "vus", "duration", "iterations", "stages", "scenarios", "executionSegment", "executionSegmentSequence",
	"noSetup", "setupTimeout", "noTeardown", "teardownTimeout", "handleSummaryTimeout", "rps", "dns", "maxRedirects",
	"userAgent", "batch", "batchPerHost", "httpDebug", "insecureSkipTLSVerify", "tlsCipherSuites", "tlsVersion",
	"tlsAuth", "tlsAIAFetch", "throw", "thresholds", "blacklistIPs", "blockHostnames", "hosts", "noConnectionReuse",
	"noVUConnectionReuse", "minIterationDuration", "cloud", "ext", "summaryTrendStats", "summaryTimeUnit", "systemTags",
	"tags", "metricSamplesBufferSize", "noCookiesReset", "discardResponseBodies", "features",
}

// inspectJSON renders options the way `k6 inspect` does: every k6 options key in k6's
// order (null when unset), indented; with execReq, the scenarios as they will run,
// totalDuration (the longest scenario's start + duration + gracefulStop) and maxVUs.
func inspectJSON(o options, execReq bool) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	for k, v := range o.Other {
		fields[k] = v
	}
	var total time.Duration
	var maxVUs int
	if execReq {
		rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: o}))
		if err != nil {
			return nil, err
		}
		scen := map[string]executor.Config{}
		for _, c := range rc.Test.Scenarios {
			scen[c.Base().Name] = c
			p := c.Plan()
			if end := c.Base().StartTime.D() + p.Duration + p.GracefulStop; end > total {
				total = end
			}
			maxVUs += p.MaxVUs
		}
		raw, err := json.Marshal(scen)
		if err != nil {
			return nil, err
		}
		fields["scenarios"] = raw
		fields["vus"], fields["duration"], fields["iterations"], fields["stages"] = nil, nil, nil, nil
	}
	var buf bytes.Buffer
	buf.WriteString("{")
	first := true
	put := func(k string, v json.RawMessage) {
		if !first {
			buf.WriteString(",")
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteString(":")
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		buf.Write(v)
	}
	for _, k := range k6OptionsOrder {
		put(k, fields[k])
	}
	if execReq {
		put("totalDuration", json.RawMessage(fmt.Sprintf("%q", executor.Duration(total).String())))
		put("maxVUs", json.RawMessage(fmt.Sprint(maxVUs)))
	}
	buf.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// starterScript is `pixelk6 new`'s template: a k6 script against pixelsim's REST API.
const starterScript = `// A pixelk6 (and k6) load test. Run it with:
//
//   pixelsim &              # the reference Pixelated Empathy API on 127.0.0.1:5173
//   pixelk6 run %[1]s
//   API_URL=https://staging.example.com pixelk6 run %[1]s
import http from 'k6/http';
import { check, sleep } from 'k6';

const API_URL = (__ENV.API_URL || 'http://127.0.0.1:5173').replace(/\/+$/, '');

export const options = {
  vus: 10,
  duration: '30s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<500'],
  },
};

export default function () {
  const res = http.post(` + "`${API_URL}/api/ai/pixel/infer`" + `,
    JSON.stringify({ prompt: 'I have been feeling a bit low lately' }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'infer' } });
  check(res, {
    'status is 200': (r) => r.status === 200,
  });
  sleep(1);
}
`

// newCmd is `pixelk6 new [file]`: it writes a starter script (default script.js) and
// refuses to overwrite an existing file unless --force, as k6 does.
func newCmd(code *int, stdout, stderr io.Writer) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "new [file]",
		Short: "Write a starter test script (against pixelsim by default)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			name := "script.js"
			if len(a) == 1 {
				name = a[0]
			}
			flags := os.O_CREATE | os.O_WRONLY | os.O_EXCL
			if force {
				flags = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
			}
			f, err := os.OpenFile(name, flags, 0o644)
			if errors.Is(err, os.ErrExist) {
				*code = engine.ExitGeneric
				fmt.Fprintf(stderr, "error: %s already exists, please use the `--force` flag to overwrite it\n", name)
				return nil
			}
			if err == nil {
				_, err = fmt.Fprintf(f, starterScript, name)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				*code = engine.ExitGeneric
				fmt.Fprintf(stderr, "error: writing %s: %v\n", name, err)
				return nil
			}
			fmt.Fprintf(stdout, "New script created: %s\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "overwrite an existing file")
	return cmd
}
