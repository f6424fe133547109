package modules_test

import (
	"slices"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TestRegisterRecordsPackage: a registration remembers the Go package that made it, and a
// second registration of the name panics naming both packages (the message `pixelk6 build`
// shows for two extensions that claim one name).
func TestRegisterRecordsPackage(t *testing.T) {
	const name = "k6/x/modules-test-register"
	modules.Register(name, struct{}{})
	const self = "github.com/pixelk6/pixelk6/js/modules_test"
	var found bool
	for _, r := range modules.Registrations() {
		if r.Name == name {
			found = true
			if r.Package != self {
				t.Errorf("registered by %q, want %q", r.Package, self)
			}
		}
	}
	if !found {
		t.Fatalf("%s missing from Registrations()", name)
	}
	if !slices.Contains(modules.Names(), name) {
		t.Errorf("%s missing from Names()", name)
	}
	msg := func() (msg string) {
		defer func() { msg, _ = recover().(string) }()
		modules.Register(name, struct{}{})
		return ""
	}()
	want := `modules.Register("k6/x/modules-test-register") in ` + self + `: module already registered by ` + self
	if msg != want {
		t.Errorf("duplicate registration panicked with\n%q\nwant\n%q", msg, want)
	}
}
