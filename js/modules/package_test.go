package modules

import "testing"

func TestPackageOf(t *testing.T) {
	for _, tt := range []struct{ fn, want string }{
		{"github.com/acme/xk6-foo.init.0", "github.com/acme/xk6-foo"},
		{"github.com/acme/xk6-foo/v2.(*Root).register", "github.com/acme/xk6-foo/v2"},
		{"example.com/a.b/pkg.init", "example.com/a.b/pkg"},
		{"main.init.0", "main"},
		{"gopkg.in/yaml%2ev3.init", "gopkg.in/yaml.v3"},
	} {
		if got := packageOf(tt.fn); got != tt.want {
			t.Errorf("packageOf(%q) = %q, want %q", tt.fn, got, tt.want)
		}
	}
}
