package js

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestTopLevelAwait: a script (JS or TypeScript) that awaits at its top level, as k6's fs and
// csv examples do: its imports (built-in, local, local with their own top-level await,
// re-exports) run first and in order, its exports are read once the awaits have settled,
// and its iterations see what the awaits produced.
func TestTopLevelAwait(t *testing.T) {
	files := map[string]string{
		"script.js": `import { check } from 'k6';
import * as lib from './lib.js';
import slow, { order, late } from './slow.js';
export * from './reexp.js';
import def, { named as renamed } from './plain.js';
order.push('main');
const v = await Promise.resolve(41);
const w = await new Promise((resolve) => setTimeout(() => resolve(v + 1), 5));
export const options = { vus: 1, iterations: 1 };
export let seen = w;
export default async function () {
  const got = [seen, lib.twice(2), slow, late, order.join(','), def, renamed, typeof check].join(' ');
  if (got !== '42 4 slow-default ready lib,plain,slow,main plain-default named function') throw new Error(got);
}
export function teardown() {}`,
		"lib.js":   `import { order } from './order.js'; order.push('lib'); export function twice(x) { return 2 * x; }`,
		"order.js": `export const order = [];`,
		"plain.js": `import { order } from './order.js'; order.push('plain'); export default 'plain-default'; export const named = 'named';`,
		"slow.js": `import { order } from './order.js';
export { order };
await new Promise((r) => setTimeout(r, 10));
order.push('slow');
export let late = 'ready';
export default 'slow-default';`,
		"reexp.js": `export const extra = 'x';`,
	}
	h, err := load(t, files, "script.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h.b.Options()), `"iterations":1`) {
		t.Errorf("options = %s", h.b.Options())
	}
	for _, name := range []string{"default", "teardown"} {
		if !h.b.HasExport(name) {
			t.Errorf("export %s not seen; exports: %v", name, h.b.Exports())
		}
	}
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}

// TestTopLevelAwaitTS: TypeScript with top-level await.
func TestTopLevelAwaitTS(t *testing.T) {
	h, err := load(t, map[string]string{"script.ts": `const n: number = await Promise.resolve(3);
export default function (): void { if (n !== 3) throw new Error('n=' + n); }`}, "script.ts", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}

// TestTopLevelAwaitHashbang: a script with a hashbang line and top-level await runs, and its
// error positions still point at its own lines.
func TestTopLevelAwaitHashbang(t *testing.T) {
	_, err := load(t, map[string]string{"script.js": "#!/usr/bin/env pixelk6 run\nawait null;\n\nthrow new Error('line four');\nexport default function () {}"}, "script.js", nil)
	if err == nil || !strings.Contains(err.Error(), "line four") || !strings.Contains(err.Error(), "script.js:4") {
		t.Fatalf("err = %v", err)
	}
}

// TestTopLevelAwaitErrors: a rejected top-level await fails the init context with the
// user's file:line, one that never settles fails it too, and a module without top-level
// await that imports a module still awaiting fails loudly.
func TestTopLevelAwaitErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"rejected", map[string]string{"script.js": "const x = 1;\nawait Promise.reject(new Error('no data'));\nexport default function () {}"},
			[]string{"no data", "script.js:2"}},
		{"thrown after await", map[string]string{"script.js": "await null;\nthrow new Error('boom');\nexport default function () {}"},
			[]string{"boom", "script.js:2"}},
		{"in an import", map[string]string{"script.js": "import './bad.js';\nawait null;\nexport default function () {}",
			"bad.js": "await null;\nundefinedThing();"}, []string{"undefinedThing is not defined", "bad.js:2"}},
		{"never settles", map[string]string{"script.js": "await new Promise(() => {});\nexport default function () {}"},
			[]string{"top-level await never settled"}},
		{"computed require of a module still awaiting", map[string]string{"script.js": "const name = './tla.js';\nconst { v } = require(name);\nexport default function () {}",
			"tla.js": "export const v = await Promise.resolve(1);"}, []string{"tla.js has a top-level await that has not settled"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.files, "script.js", nil)
			var ie *InitError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InitError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestImportsThatAwait: a module without top-level await that imports (directly or through
// another module, local or in a subdirectory) one that has it waits for it, as in ES modules:
// the script sees the awaited data, and open() after an await stays relative to its module.
// Other modules keep the CommonJS road.
func TestImportsThatAwait(t *testing.T) {
	files := map[string]string{
		"script.js": `import { users, text } from './lib/data.js';
import { twice } from './plain.js';
export const options = { iterations: 1 };
export default function () {
  if (users.join(',') !== 'ada,grace' || twice(2) !== 4 || text !== 'beside data.js') throw new Error(users.join(',') + text);
}`,
		"lib/data.js": `import { load } from './load.js'; export const users = load(); export { text } from './load.js';`,
		"lib/load.js": `const names = await new Promise((r) => setTimeout(() => r(['ada', 'grace']), 2)); export function load() { return names; }
export const text = open('./data.txt'); // after the await: still relative to lib/`,
		"lib/data.txt": "beside data.js",
		"plain.js":     `export function twice(x) { return 2 * x; }`,
	}
	h, err := load(t, files, "script.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h.b.Options()), `"iterations":1`) {
		t.Errorf("options = %s", h.b.Options())
	}
	for _, p := range []string{"script.js", "lib/data.js"} {
		c, _ := h.b.comp.load(context.Background(), filepath.Join(filepath.Dir(h.b.Path()), p))
		if c == nil || !c.depsAsync {
			t.Errorf("%s is not run as an async module", p)
		}
	}
	c, _ := h.b.comp.load(context.Background(), filepath.Join(filepath.Dir(h.b.Path()), "plain.js"))
	if c == nil || c.depsAsync || c.tlaProg != nil {
		t.Errorf("plain.js was made async")
	}
}

// TestTopLevelAwaitShapes: esbuild's output shapes tlaModule rewrites: a long import list
// (several lines), a module ending in an object literal and no exports, `export * as`
// and `export { x as y } from`.
func TestTopLevelAwaitShapes(t *testing.T) {
	files := map[string]string{
		"script.js": `import { alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel, india, juliett, kilo, lima } from './many.js';
import * as ns from './shapes.js';
import './noexports.js';
const all = [alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel, india, juliett, kilo, lima].join('');
await null;
export default function () {
  const got = all + ' ' + ns.inner.v + ' ' + ns.renamed + ' ' + globalThis.noExports.ok;
  if (got !== 'abcdefghijkl 1 2 true') throw new Error(got);
}`,
		"many.js": `export const alpha = 'a', bravo = 'b', charlie = 'c', delta = 'd', echo = 'e', foxtrot = 'f';
export const golf = 'g', hotel = 'h', india = 'i', juliett = 'j', kilo = 'k', lima = 'l';`,
		"shapes.js": `export * as inner from './inner.js';
export { w as renamed } from './inner.js';
await null;`,
		"inner.js": `export const v = 1; export const w = 2;`,
		"noexports.js": `await null;
globalThis.noExports = {
  ok: true
};`,
	}
	h, err := load(t, files, "script.js", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
}
