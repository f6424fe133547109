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
