package js

import (
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
		{"top-level await is refused", "a.js", "await 1;\nexport default function () {}\n", "a.js:1:"},
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
