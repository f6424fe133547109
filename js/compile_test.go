package js

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

func TestCompileSource(t *testing.T) {
	tests := []struct {
		name, file, src string
		wantErr         string
	}{
		{"esm", "a.js", "export default function () {}\nexport const options = {};\n", ""},
		{"typescript", "a.ts", "enum E { A }\nexport default function (x: E): void {}\n", ""},
		{"async generator is lowered", "a.js", "export async function* g() { yield 1; }\nexport default async function () { for await (const x of g()) {} }\n", ""},
		{"syntax error has position", "a.js", "let = ;", "a.js:1:"},
		// top-level await was refused before tla.go; it now compiles, and errors keep positions
		{"top-level await compiles", "a.js", "await 1;\nexport default function () {}\n", ""},
		{"top-level await with a syntax error", "a.js", "await 1;\nlet = ;\n", "a.js:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileSource(tc.file, tc.src)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzCompileSource(f *testing.F) {
	for _, s := range []string{"export default function () {}", "import x from './y';", "let a = `${b}`;", "class A { #p = 1 }", "}{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = compileSource("fuzz.js", src) // errors are fine; panics are not
		checkSlimInterop(t, src)
	})
}

func TestDefaultFrameName(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"anonymous default export", "\tat thresholds_default (/s/thresholds.js:13:26(24))", "\tat default (/s/thresholds.js:13:26(24))"},
		{"dashes in the file name", "\tat k6_rest_inference_load_default (/s/k6-rest-inference-load.js:5:3(9))", "\tat default (/s/k6-rest-inference-load.js:5:3(9))"},
		{"typescript file", "\tat err_default (/tmp/err.ts:5:8(3))", "\tat default (/tmp/err.ts:5:8(3))"},
		{"leading digit", "\tat st_default (/s/1st.ts:3:8(3))", "\tat default (/s/1st.ts:3:8(3))"},
		{"named function", "\tat helper (/s/lib.js:2:1(4))", "\tat helper (/s/lib.js:2:1(4))"},
		{"other file's default", "\tat lib_default (/s/script.js:2:1(4))", "\tat lib_default (/s/script.js:2:1(4))"},
		{"not a frame", "Error: boom", "Error: boom"},
	}
	for _, c := range cases {
		if got := defaultFrameName(c.in); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// rewrittenNames are the names slimInterop rewrites or whose definitions it replaces: a
// script's own uses of them must reach the VU unchanged.
var rewrittenNames = func() []string {
	names := []string{"__defProp", "__export", "__toESM", "__toCommonJS", "__copyProps", "__reExport",
		"__spreadValues", "__spreadProps", "__objRest", "__publicField", "__defNormalProp", "__pixelk6Builtin"}
	for _, a := range inlinedAliases {
		names = append(names, a.name)
	}
	return names
}()

// helperBait is a script that makes esbuild emit most of its helpers (imports, exports,
// re-exports, object spread and rest, class fields) and uses every rewritten name in the
// places a textual rewrite would hit: quoted strings, template literals, the exact text of
// the replaced helpers, comments, legal comments, regular expressions, object keys,
// property names, exported names and identifiers. __ENV holds the expected values (they come
// from Go, not through esbuild). Its last line throws; the error must point at it.
func helperBait() (files map[string]string, env map[string]string, lastLine string) {
	all := strings.Join(rewrittenNames, " ")
	alt := strings.Join(rewrittenNames, "|")
	exact := esbuildToESM + "\n" + esbuildExport + "\n" + esbuildToCJS
	main := `import http from 'k6/http';
import * as k6 from 'k6';
import lib, { __hasOwnProp as libHas, __toESM } from './lib.js';
export * from './lib.js';
/*! legal: ` + all + ` */
// plain: ` + all + `
export const __getProtoOf = '` + all + `';
let __create = "` + all + `";
const tmpl = ` + "`" + all + "`" + `;
const subst = ` + "`${1} " + all + " ${'x'}`" + `;
const exact = ` + "`" + exact + "`" + `;
const re = /` + alt + `/;
const keys = { __getProtoOf: 1, __hasOwnProp: 2, __defProp: 3, __toESM: 4 };
keys.__create = 5;
const spread = { ...keys, __export: 6 };
const { __getProtoOf: g, ...others } = spread;
class C { static __defProp = 'static'; __hasOwnProp = 'field'; }
function nested() { const __hasOwnProp = 'inner', __getOwnPropNames = 'names'; return __hasOwnProp + ' ' + __getOwnPropNames; }
export default function () {
  const want = __ENV.ALL;
  for (const [name, got] of Object.entries({ __getProtoOf, __create, tmpl })) if (got !== want) throw new Error(name + ' = ' + got);
  if (subst !== '1 ' + want + ' x') throw new Error('subst = ' + subst);
  if (exact !== __ENV.EXACT) throw new Error('exact = ' + exact);
  if (re.source !== __ENV.ALT || !re.test(__ENV.ALT.split('|')[3])) throw new Error('re = ' + re.source);
  if (JSON.stringify(Object.keys(spread)) !== '["__getProtoOf","__hasOwnProp","__defProp","__toESM","__create","__export"]') throw new Error('keys ' + JSON.stringify(spread));
  if (g !== 1 || others.__export !== 6 || others.__getProtoOf !== undefined) throw new Error('rest ' + JSON.stringify(others));
  if (C.__defProp !== 'static' || new C().__hasOwnProp !== 'field') throw new Error('class fields');
  if (nested() !== 'inner names') throw new Error('nested = ' + nested());
  if (lib.__getOwnPropDesc !== 'default' || libHas !== 'lib' || __toESM(1) !== 2) throw new Error('local imports');
  if (typeof http.get !== 'function' || typeof k6.sleep !== 'function') throw new Error('built-in imports');
  const last = '` + all + `'; throw new Error('thrown ' + last.length);
}
`
	lib := "export default { __getOwnPropDesc: 'default' };\nexport const __hasOwnProp = 'lib';\nexport function __toESM(x) { return x + 1; }\n"
	lines := strings.Split(main, "\n")
	return map[string]string{"main.js": main, "lib.js": lib},
		map[string]string{"ALL": all, "ALT": alt, "EXACT": exact},
		lines[len(lines)-3] // the line before the closing brace
}

// TestHelperNamesInUserCode is the regression test of a rewrite that also changed the
// script's own strings ('__getProtoOf' reached the VU as "Object.getPrototypeOf") and
// exported names: every use must keep its value, and the error the script throws must still
// be mapped to its line and column (the column of the same line thrown from a script
// without helpers).
func TestHelperNamesInUserCode(t *testing.T) {
	files, env, last := helperBait()
	run := func(files map[string]string) string {
		t.Helper()
		h, err := load(t, files, "main.js", env)
		if err != nil {
			t.Fatal(err)
		}
		err = h.vu(t, 1).RunIteration(context.Background(), "default", nil)
		if err == nil || !strings.Contains(err.Error(), "thrown "+strconv.Itoa(len(env["ALL"]))) {
			t.Fatalf("err = %v, want the script's own error", err)
		}
		_, pos, _ := strings.Cut(err.Error(), "main.js:")
		pos, _, _ = strings.Cut(pos, "(")
		return pos
	}
	got := run(files)
	control := run(map[string]string{"main.js": "export default function () {\n" + last + "\n}\n"})
	line := strconv.Itoa(strings.Count(files["main.js"], "\n") - 1)
	_, col, _ := strings.Cut(control, ":")
	if want := line + ":" + col; got != want {
		t.Errorf("error at main.js:%s, want main.js:%s", got, want)
	}
}

// TestSlimInteropLeavesUserCode checks that slimInterop changes nothing but esbuild's
// helper block: every generated line the source map maps to the user's file is the same
// byte for byte, and the line count holds.
func TestSlimInteropLeavesUserCode(t *testing.T) {
	files, _, _ := helperBait()
	tests := []struct{ name, src string }{
		{"bait", files["main.js"]},
		{"bait library", files["lib.js"]},
		{"helper-like declarations of the script's own", "var __hasOwnProp = Object.prototype.hasOwnProperty;\nvar __getProtoOf = Object.getPrototypeOf;\nexport default function () { return __hasOwnProp.call({}, '__getProtoOf') || __getProtoOf; }\n"},
		{"no helpers", "var __create = Object.create;\nconsole.log('__create');\n"},
		{"hashbang and directive", "#!/usr/bin/env pixelk6\n'use strict';\nexport const o = { ...{ a: '__hasOwnProp' } };\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkSlimInterop(t, tc.src)
		})
	}
}

// checkSlimInterop transforms src and fails when slimInterop touches a mapped line or
// changes the line count.
func checkSlimInterop(t *testing.T, src string) {
	t.Helper()
	code, srcMap, err := transform("s.js", src)
	if err != nil {
		return // not valid JavaScript: nothing to check
	}
	unmapped, err := unmappedLines(srcMap)
	if err != nil {
		t.Fatal(err)
	}
	slim := slimInterop(code, unmapped)
	before, after := strings.Split(code, "\n"), strings.Split(slim, "\n")
	if len(before) != len(after) {
		t.Fatalf("line count %d → %d", len(before), len(after))
	}
	for i := unmapped; i < len(before); i++ {
		if before[i] != after[i] {
			t.Fatalf("mapped line %d changed:\n%q\n→ %q", i+1, before[i], after[i])
		}
	}
}

// TestHelperNameStringsKeepTheirValue is the example: with an import (so esbuild
// emits __toESM and the aliases it uses), strings naming the helpers keep their value.
func TestHelperNameStringsKeepTheirValue(t *testing.T) {
	const want = "__getProtoOf and __hasOwnProp"
	tests := []struct{ name, expr string }{
		{"single quotes", "'" + want + "'"},
		{"double quotes", `"` + want + `"`},
		{"template literal", "`" + want + "`"},
		{"template literal with substitutions", "`${'__getProtoOf'} and ${`__hasOwnProp`}`"},
		{"regular expression source", "/__getProtoOf and __hasOwnProp/.source"},
		{"property names", "Object.keys({ __getProtoOf: 1, and: 2, __hasOwnProp: 3 }).join(' ')"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "import http from 'k6/http';\nexport default function () {\n  const s = " + tc.expr +
				";\n  if (s !== __ENV.WANT) throw new Error('got ' + s);\n}\n"
			h, err := load(t, map[string]string{"main.js": src}, "main.js", map[string]string{"WANT": want})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestHashbang: a script that starts with a hashbang line (so it can be made executable)
// loads and runs, and an error's position still names the user's line.
func TestHashbang(t *testing.T) {
	src := "#!/usr/bin/env pixelk6\nimport http from 'k6/http';\nexport default function () {\n  throw new Error('boom');\n}\n"
	h, err := load(t, map[string]string{"main.js": src}, "main.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = h.vu(t, 1).RunIteration(context.Background(), "default", nil)
	if err == nil || !strings.Contains(err.Error(), "main.js:4:") {
		t.Fatalf("error %v, want the throw at main.js:4", err)
	}
}
