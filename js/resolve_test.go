package js

import "testing"

func TestResolvePath(t *testing.T) {
	files := map[string]bool{"/s/lib/a.js": true, "/s/lib/b.ts": true, "/s/pkg/index.js": true}
	exists := func(p string) bool { return files[p] }
	tests := []struct{ from, spec, want string }{
		{"/s", "./lib/a.js", "/s/lib/a.js"},
		{"/s/lib", "./a", "/s/lib/a.js"},
		{"/s/lib", "./b", "/s/lib/b.ts"},
		{"/s/x", "../pkg", "/s/pkg/index.js"},
		{"/s", "./missing.js", ""},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := resolvePath(tc.from, tc.spec, exists)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("resolvePath(%q, %q) = %q, %v; want %q", tc.from, tc.spec, got, err, tc.want)
			}
		})
	}
}
