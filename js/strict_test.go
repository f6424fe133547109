package js

import (
	"context"
	"strings"
	"testing"
)

// TestStrictMode: as in k6, a file with import or export statements (or top-level await) is
// an ES module and runs as strict mode code; a file without them is a CommonJS module and
// runs sloppy unless it says "use strict".
func TestStrictMode(t *testing.T) {
	const probe = "globalThis.sloppy = (function () { return this !== undefined; })();\n" +
		"let thrown = '';\ntry { undeclaredName = 1; } catch (e) { thrown = e.name; }\nglobalThis.thrown = thrown;\n"
	tests := []struct {
		name   string
		files  map[string]string
		main   string
		strict bool
	}{
		{"export", map[string]string{"s.js": probe + "export default function () {}\n"}, "s.js", true},
		{"import only", map[string]string{"s.js": "import http from 'k6/http';\n" + probe + "export default function () {}\n"}, "s.js", true},
		{"side-effect import only", map[string]string{"s.js": "import './lib.js';\n" + probe, "lib.js": "module.exports = {};\n"}, "s.js", true},
		{"named import only", map[string]string{"s.js": "import { x } from './lib.js';\n" + probe, "lib.js": "export const x = 1;\n"}, "s.js", true},
		{"typescript", map[string]string{"s.ts": "import http from 'k6/http';\nconst n: number = 1;\nconst get = http.get;\n" + probe}, "s.ts", true},
		{"top-level await", map[string]string{"s.js": "await Promise.resolve();\n" + probe + "export default function () {}\n"}, "s.js", true},
		{"commonjs", map[string]string{"s.js": probe + "module.exports.default = function () {};\n"}, "s.js", false},
		{"commonjs use strict", map[string]string{"s.js": "'use strict';\n" + probe + "module.exports.default = function () {};\n"}, "s.js", true},
		{"commonjs module imported by an ES module", map[string]string{"s.js": "import './lib.js';\nexport default function () {}\n", "lib.js": probe}, "s.js", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := load(t, tc.files, tc.main, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := h.b.NewVU(context.Background(), h.state(1))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			rt := v.(*vu).rt
			sloppy, thrown := rt.Get("sloppy").ToBoolean(), rt.Get("thrown").String()
			if sloppy == tc.strict {
				t.Errorf("this in a plain call: sloppy = %v, want strict %v", sloppy, tc.strict)
			}
			if want := map[bool]string{true: "ReferenceError", false: ""}[tc.strict]; thrown != want {
				t.Errorf("assigning an undeclared name threw %q, want %q", thrown, want)
			}
		})
	}
}

// TestStrictReplacesGlobals: an ES module (strict code) may still replace a k6 global by
// assigning its bare name, as in k6, in the init context and in an iteration.
func TestStrictReplacesGlobals(t *testing.T) {
	h := mustLoad(t, "import http from 'k6/http';\nconsole = { log() {} };\nif (typeof console.warn !== 'undefined') throw new Error('console');\n"+
		"export default function () {\n  setTimeout = 42; clearTimeout += 1;\n"+
		"  if (setTimeout !== 42 || globalThis.setTimeout !== 42 || typeof clearTimeout !== 'string') throw new Error('assignment lost');\n}\n")
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if got := assignedGlobals("a.setTimeout = 1; x == console; const open = 1; __ENV ??= {}; global.x = 2;"); strings.Join(got, ",") != "open,__ENV" {
		t.Errorf("assignedGlobals = %q", got)
	}
}
