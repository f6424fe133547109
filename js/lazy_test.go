package js

import (
	"context"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// TestSlimInteropApplies guards the textual replacement of esbuild's interop helpers: if a
// new esbuild emits them differently, the replacement silently stops (correct, but every
// VU pays for the copies again) and this test says so.
func TestSlimInteropApplies(t *testing.T) {
	src := "import http from 'k6/http';\nimport * as k6 from 'k6';\nexport const options = {};\nexport default function () { http.get; k6.sleep; }\n"
	code, srcMap, err := transform("s.js", src)
	if err != nil {
		t.Fatal(err)
	}
	unmapped, err := unmappedLines(srcMap)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, esbuild, slim string }{
		{"__toESM", esbuildToESM, slimToESM},
		{"__toCommonJS", esbuildToCJS, slimToCommonJS},
		{"__export", esbuildExport, slimExport},
	}
	slim := slimInterop(code, unmapped)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(code, tc.esbuild) {
				t.Fatalf("esbuild's output no longer has %q:\n%s", tc.esbuild, code)
			}
			if !strings.Contains(slim, tc.slim) || strings.Contains(slim, tc.esbuild) {
				t.Errorf("helper not replaced:\n%s", slim)
			}
		})
	}
	if strings.Count(slim, "\n") != strings.Count(code, "\n") {
		t.Error("slimInterop changed the line count (the source map would be off)")
	}
	for _, a := range inlinedAliases {
		if strings.Contains(slim, "var "+a.name+" =") {
			t.Errorf("alias %s still declared:\n%s", a.name, slim)
		}
	}
}

func TestReplaceIdent(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"call", "x = __a(y);", "x = O.a(y);"},
		{"nested and adjacent", "__a(__a(z))", "O.a(O.a(z))"},
		{"method receiver", "__a.call(o, k)", "O.a.call(o, k)"},
		{"longer identifiers untouched", "__a2 + x__a + __ab + $__a + o.__a", "__a2 + x__a + __ab + $__a + o.__a"},
		{"after a longer one", "__a__a __a", "__a__a O.a"},
		{"at the ends", "__a", "O.a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := replaceIdent(tc.in, "__a", "O.a"); got != tc.want {
				t.Errorf("replaceIdent(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestModuleImportShapes runs every import form against built-in and local modules: the
// slimmed interop helpers must keep ES module semantics.
func TestModuleImportShapes(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{
			name: "built-in default, namespace and named",
			files: map[string]string{"main.js": `
import http from 'k6/http';
import * as k6 from 'k6';
import k6def, { sleep } from 'k6';
import * as metrics from 'k6/metrics';
const counter = new metrics.Counter('c');
export const options = {};
export default function () {
  if (typeof http.get !== 'function') throw new Error('default import: http.get is ' + typeof http.get);
  if (typeof k6.sleep !== 'function' || k6.sleep !== sleep || k6def.sleep !== sleep) throw new Error('namespace/default/named disagree');
  if (k6.default !== k6def) throw new Error('namespace.default is not the default export');
  const keys = Object.keys(k6);
  for (const k of ['check', 'group', 'sleep', 'default']) if (!keys.includes(k)) throw new Error('Object.keys(k6) lacks ' + k + ': ' + keys);
  if (typeof counter.add !== 'function') throw new Error('namespace class');
}
`},
		},
		{
			name: "local default, namespace and named",
			files: map[string]string{
				"main.js": `
import lib, { x } from './lib.js';
import * as ns from './lib.js';
import cjs from './cjs.js';
export default function () {
  if (lib !== 5 || ns.default !== 5 || x() !== 7 || ns.x !== x) throw new Error('local imports: ' + lib + ' ' + ns.default);
  if (cjs.k !== 'v') throw new Error('CommonJS default import: ' + JSON.stringify(cjs));
  if (!Object.keys(ns).includes('x')) throw new Error('Object.keys(ns) = ' + Object.keys(ns));
}
`,
				"lib.js": "export default 5;\nexport function x() { return 7; }\n",
				"cjs.js": "module.exports = { k: 'v' };\n",
			},
		},
		{
			name: "lowered object spread, rest and class fields (helpers using the inlined aliases)",
			files: map[string]string{"main.js": `
class A { static s = 1; f = 2; }
export default function () {
  const src = { a: 1, b: 2, [Symbol.for('s')]: 3 };
  const { a, ...rest } = src;
  const o = { ...rest, c: 4 };
  if (a !== 1 || JSON.stringify(o) !== '{"b":2,"c":4}' || o[Symbol.for('s')] !== 3) throw new Error('spread ' + JSON.stringify(o));
  if (A.s !== 1 || new A().f !== 2) throw new Error('class fields');
}
`},
		},
		{
			name: "live bindings through the exports",
			files: map[string]string{
				"main.js":    "import { n, inc } from './counter.js';\nexport default function () { inc(); if (n !== 1) throw new Error('n = ' + n); }\n",
				"counter.js": "export let n = 0;\nexport function inc() { n++; }\n",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := load(t, tc.files, "main.js", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLazyGlobals checks the globals made on first use behave as plain globals.
func TestLazyGlobals(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"types", `
for (const [k, t] of Object.entries({ setTimeout: 'function', setInterval: 'function', clearTimeout: 'function',
  clearInterval: 'function', open: 'function', require: 'function', console: 'object', performance: 'object',
  __ENV: 'object', __VU: 'number', __ITER: 'number' })) {
  if (typeof globalThis[k] !== t) throw new Error(k + ' is ' + typeof globalThis[k]);
  if (!(k in globalThis)) throw new Error(k + ' not in globalThis');
}
if (global !== globalThis) throw new Error('global');
if (typeof console.log !== 'function' || console.log !== console.log) throw new Error('console.log not stable');
if (console.nope !== undefined) throw new Error('console.nope');`},
		{"a script may replace a global", `
setTimeout = 42;
if (setTimeout !== 42 || globalThis.setTimeout !== 42) throw new Error('assignment lost');`},
		{"__ENV reads, writes and deletes", `
if (__ENV.A !== 'scenario' || __ENV.B !== 'cli' || __ENV.NOPE !== undefined) throw new Error('read ' + JSON.stringify(__ENV));
if (JSON.stringify(__ENV) !== '{"A":"scenario","B":"cli"}') throw new Error('stringify ' + JSON.stringify(__ENV));
__ENV.C = 'mine';
delete __ENV.B;
if (__ENV.C !== 'mine' || 'B' in __ENV || JSON.stringify(Object.keys(__ENV)) !== '["A","C"]') throw new Error('write ' + JSON.stringify(__ENV));`},
		{"timers", `
let fired = false;
const id = setTimeout(() => { fired = true; }, 0);
clearTimeout(id);
if (fired) throw new Error('cleared timer fired');`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := load(t, map[string]string{"s.js": "export default function () {\n" + tc.body + "\n}\n"},
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
		})
	}
}

func TestValueCache(t *testing.T) {
	var c valueCache
	rt := goja.New()
	c.set("a", rt.ToValue(1))
	c.set("b", rt.ToValue(2))
	c.set("a", rt.ToValue(3)) // overwrite keeps one entry
	c.del("b")
	c.del("missing")
	tests := []struct {
		key    string
		want   int64
		wantOK bool
	}{
		{"a", 3, true},
		{"b", 0, false},
		{"missing", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			v, ok := c.get(tc.key)
			if ok != tc.wantOK || (ok && v.ToInteger() != tc.want) {
				t.Errorf("get(%q) = %v, %v; want %d, %v", tc.key, v, ok, tc.want, tc.wantOK)
			}
		})
	}
	if len(c) != 1 {
		t.Errorf("%d entries, want 1", len(c))
	}
}
