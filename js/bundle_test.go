package js

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

func TestLoadErrorsPointAtUserSource(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		main  string
		want  []string // substrings of the error
	}{
		{
			name: "typescript throw in init reports the ts line",
			files: map[string]string{"s.ts": `interface P { a: number }
const p: P = { a: 1 };
type X = string;

throw new Error("boom " + p.a);
export default function () {}
`},
			main: "s.ts",
			want: []string{"boom 1", "s.ts:5:"},
		},
		{
			name:  "syntax error",
			files: map[string]string{"s.js": "export default function () {\n  let x = ;\n}\n"},
			main:  "s.js",
			want:  []string{"s.js:2:", "SyntaxError"},
		},
		{
			name:  "unknown module",
			files: map[string]string{"s.js": "import x from 'k6/nope';\nexport default function () {}\n"},
			main:  "s.js",
			want:  []string{`unknown module "k6/nope"`},
		},
		{
			name:  "missing local file",
			files: map[string]string{"s.js": "import x from './lib.js';\nexport default function () {}\n"},
			main:  "s.js",
			want:  []string{`cannot find module "./lib.js"`},
		},
		{
			name: "throw in imported file reports that file",
			files: map[string]string{
				"s.js":        "import { f } from './lib/util.js';\nexport default function () { f(); }\n",
				"lib/util.js": "export function f() {}\n\nthrow new Error('lib failed');\n",
			},
			main: "s.js",
			want: []string{"lib failed", "util.js:3:"},
		},
		{
			name:  "http in init context",
			files: map[string]string{"s.js": "import http from 'k6/http';\nhttp.get('http://127.0.0.1:1/');\nexport default function () {}\n"},
			main:  "s.js",
			want:  []string{"making HTTP requests in the init context is not supported"},
		},
		{
			name:  "check in init context",
			files: map[string]string{"s.js": "import { check } from 'k6';\ncheck(1, {a: true});\nexport default function () {}\n"},
			main:  "s.js",
			want:  []string{"check() is not supported in the init context"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.files, tc.main, nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			t.Logf("error: %v", err)
			var ie *InitError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InitError: %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestIterationExceptionHasUserLine(t *testing.T) {
	h, err := load(t, map[string]string{"s.ts": `const n: number = 1;

export default function (): void {
  // comment
  throw new Error("iter " + n);
}
`}, "s.ts", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := h.vu(t, 1)
	err = v.RunIteration(context.Background(), "default", nil)
	var se *ScriptException
	if !errors.As(err, &se) {
		t.Fatalf("got %T %v, want *ScriptException", err, err)
	}
	t.Logf("exception: %v", se)
	if !strings.Contains(se.Error(), "iter 1") || !strings.Contains(se.Error(), "s.ts:5:") {
		t.Errorf("exception %q lacks message or s.ts:5", se.Error())
	}
	// k6 still counts an iteration that threw.
	if got := len(h.cap.Metric("iterations")); got != 1 {
		t.Errorf("iterations samples = %d, want 1", got)
	}
}

func TestImportResolution(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name: "relative, nested and extensionless",
			files: map[string]string{
				"main.js":      "import { a } from './lib/a.js';\nimport b from './lib/sub/b';\nexport const options = { v: a() + b };\nexport default function () {}\n",
				"lib/a.js":     "import { c } from './sub/c.ts';\nexport function a() { return c * 10; }\n",
				"lib/sub/c.ts": "export const c: number = 4;\n",
				"lib/sub/b.js": "import { c } from '../sub/c.ts';\nexport default c + 1;\n",
			},
			want: `{"v":45}`,
		},
		{
			name: "cycle returns partial exports",
			files: map[string]string{
				"main.js":    "import { getY } from './cycle/x.js';\nexport const options = { v: getY() };\nexport default function () {}\n",
				"cycle/x.js": "import { y, getX } from './y.js';\nexport const x = 1;\nexport function getY() { return y + getX(); }\n",
				"cycle/y.js": "import { x } from './x.js';\nexport const y = 2;\nexport function getX() { return x; }\n",
			},
			want: `{"v":3}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := load(t, tc.files, "main.js", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(h.b.Options()); got != tc.want {
				t.Errorf("options = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestGlobals(t *testing.T) {
	h, err := load(t, map[string]string{
		"s.js": `
const text = open('./data.txt');
const bin = open('data.txt', 'b');
export const options = { env: __ENV.API_URL, text: text, binLen: bin.byteLength, initVU: __VU };
export default function () {
  console.log('iter', __ITER, 'vu', __VU, { a: 1 });
  console.warn('careful');
  console.log('bytes:', new Uint8Array([1, 2, 250]), new Float64Array([0.5]));
  const t0 = performance.now();
  if (typeof t0 !== 'number' || t0 < 0) throw new Error('bad performance.now ' + t0);
}
`,
		"data.txt": "hello",
	}, "s.js", map[string]string{"API_URL": "http://x"})
	if err != nil {
		t.Fatal(err)
	}
	var opts map[string]any
	if err := json.Unmarshal(h.b.Options(), &opts); err != nil {
		t.Fatal(err)
	}
	if opts["env"] != "http://x" || opts["text"] != "hello" || opts["binLen"] != float64(5) {
		t.Errorf("options = %v", opts)
	}
	v := h.vu(t, 7)
	st := v.State()
	st.Iteration = 3
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	logs := h.log.all()
	for _, w := range []string{`info: iter 3 vu 7 {"a":1}`, "warn: careful", "info: bytes: 1,2,250 0.5"} {
		if !strings.Contains(logs, w) {
			t.Errorf("logs %q lack %q", logs, w)
		}
	}
}

func TestOpenOutsideInitFails(t *testing.T) {
	h := mustLoad(t, "export default function () { open('x'); }\n")
	err := h.vu(t, 1).RunIteration(context.Background(), "default", nil)
	if err == nil || !strings.Contains(err.Error(), "only in the init context") {
		t.Errorf("err = %v, want open() init-only error", err)
	}
}

func TestAsyncAndTimers(t *testing.T) {
	h := mustLoad(t, `
import { Counter } from 'k6/metrics';
const c = new Counter('steps');
export default async function () {
  await new Promise((r) => setTimeout(r, 5));
  c.add(1);
  let n = 0;
  await new Promise((r) => { const id = setInterval(() => { n++; c.add(1); if (n === 3) { clearInterval(id); r(); } }, 1); });
  const never = setTimeout(() => { throw new Error('cleared timer ran'); }, 1);
  clearTimeout(never);
  setTimeout(() => c.add(1), 2); // not awaited: the iteration still waits for it
}
`)
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if got := len(h.cap.Metric("steps")); got != 5 {
		t.Errorf("steps samples = %d, want 5", got)
	}
}

func TestAsyncRejection(t *testing.T) {
	h := mustLoad(t, "export default async function () {\n  await null;\n  throw new Error('async boom');\n}\n")
	err := h.vu(t, 1).RunIteration(context.Background(), "default", nil)
	if err == nil || !strings.Contains(err.Error(), "async boom") {
		t.Errorf("err = %v, want async boom", err)
	}
}

func TestCancelInterrupts(t *testing.T) {
	tests := []struct{ name, src string }{
		{"infinite loop", "export default function () { for (;;) {} }\n"},
		{"sleep", "import { sleep } from 'k6';\nexport default function () { sleep(3600); }\n"},
		{"pending timer", "export default function () { setTimeout(() => {}, 3600000); }\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mustLoad(t, tc.src)
			v := h.vu(t, 1)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- v.RunIteration(ctx, "default", nil) }()
			time.Sleep(20 * time.Millisecond)
			cancel()
			err := <-done
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if got := len(h.cap.Metric("iterations")); got != 0 {
				t.Errorf("interrupted iteration emitted %d iterations samples", got)
			}
		})
	}
}

func TestIterationSamples(t *testing.T) {
	h := mustLoad(t, "export default function () {}\n")
	v := h.vu(t, 1)
	v.State().Tags.Set("suite", "pixel")
	v.State().Scenario = "pixel_rest"
	v.State().Bytes.Sent.Add(10)
	v.State().Bytes.Received.Add(20)
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if len(h.cap.Batches()) != 1 {
		t.Fatalf("got %d batches, want 1", len(h.cap.Batches()))
	}
	got := h.cap.Names()
	want := []string{"data_sent", "data_received", "iteration_duration", "iterations"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("metrics %v, want %v", got, want)
	}
	b := h.cap.Batches()[0]
	for _, s := range b {
		if metricstest.TagKeys(s.Tags) != "group,scenario,suite" {
			t.Errorf("%s tags %v", s.Metric.Name, s.Tags)
		}
		if s.Time != b[0].Time {
			t.Errorf("%s time differs", s.Metric.Name)
		}
	}
	if b[0].Value != 10 || b[1].Value != 20 || b[3].Value != 1 {
		t.Errorf("values %v %v %v", b[0].Value, b[1].Value, b[3].Value)
	}
}

func TestLifecycleData(t *testing.T) {
	h := mustLoad(t, `
import { Counter } from 'k6/metrics';
const c = new Counter('phase');
export function setup() { c.add(1); return { token: 'abc', n: [1, 2] }; }
export default function (data) { if (data.token !== 'abc' || data.n[1] !== 2) throw new Error('bad data ' + JSON.stringify(data)); }
export function teardown(data) { if (data.token !== 'abc') throw new Error('bad teardown data'); }
export function handleSummary(data) {
  return { stdout: 'iters=' + data.metrics.iterations.values.count, 'out.bin': new Uint8Array([104, 105]).buffer };
}
`)
	for _, name := range []string{"default", "setup", "teardown", "handleSummary"} {
		if !h.b.HasExport(name) {
			t.Errorf("HasExport(%q) = false", name)
		}
	}
	ctx := context.Background()
	data, err := h.b.Setup(ctx, h.state(0))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"token":"abc","n":[1,2]}` {
		t.Errorf("setup data %s", data)
	}
	if s := h.cap.Metric("phase"); len(s) != 1 {
		t.Errorf("%d setup samples", len(s))
	} else if g, _ := s[0].Tags.Get("group"); g != "::setup" {
		t.Errorf("setup sample group %q, want ::setup", g)
	}
	if err := h.vu(t, 1).RunIteration(ctx, "default", data); err != nil {
		t.Fatal(err)
	}
	if err := h.b.Teardown(ctx, h.state(0), data); err != nil {
		t.Fatal(err)
	}
	out, ok, err := h.b.HandleSummary(ctx, h.state(0), json.RawMessage(`{"metrics":{"iterations":{"values":{"count":42}}}}`))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if out["stdout"] != "iters=42" || out["out.bin"] != "hi" {
		t.Errorf("handleSummary = %q", out)
	}
}

func TestAbort(t *testing.T) {
	tests := []struct{ name, src string }{
		{"caught in try", `
import exec from 'k6/execution';
export default function () {
  try { exec.test.abort('enough'); } catch (e) { /* cannot be swallowed */ }
  throw new Error('not reached');
}
`},
		{"in an async function", `
import exec from 'k6/execution';
export default async function () {
  await new Promise((r) => setTimeout(r, 1));
  exec.test.abort('enough');
}
`},
		{"in setTimeout", `
import exec from 'k6/execution';
export default function () { setTimeout(() => exec.test.abort('enough'), 1); }
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mustLoad(t, tc.src)
			v := h.vu(t, 1)
			err := v.RunIteration(context.Background(), "default", nil)
			var ae *AbortError
			if !errors.As(err, &ae) || ae.Reason != "enough" {
				t.Fatalf("err = %T %v, want AbortError(enough)", err, err)
			}
		})
	}
}

// BenchmarkNewVU measures creating one VU (runtime, globals, init context, module
// instances, HTTP client) for a script like the user guide's: B/op approximates the memory
// a VU costs.
func BenchmarkNewVU(b *testing.B) {
	dir := b.TempDir()
	p := dir + "/s.js"
	src := "import http from 'k6/http';\nimport { check, sleep } from 'k6';\nimport { Trend } from 'k6/metrics';\nconst t = new Trend('t', true);\n" +
		"export default function () { const r = http.get('http://127.0.0.1:1/'); check(r, { ok: (x) => x.status === 200 }); t.add(1); sleep(1); }\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	bundle, err := Load(context.Background(), p, LoadOptions{Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := bundle.NewVU(context.Background(), &modules.State{VUID: uint64(i + 1), Registry: reg})
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

func TestScenarioEnvOverridesLoadEnv(t *testing.T) {
	h, err := load(t, map[string]string{"s.js": "export default function () { if (__ENV.A !== 'scenario' || __ENV.B !== 'cli') throw new Error(JSON.stringify(__ENV)); }\n"},
		"s.js", map[string]string{"A": "cli", "B": "cli"})
	if err != nil {
		t.Fatal(err)
	}
	st := h.state(1)
	st.Env = map[string]string{"A": "scenario"}
	v, err := h.b.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}
