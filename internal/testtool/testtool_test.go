package testtool

import (
	"os/exec"
	"testing"
)

func TestFindOnPath(t *testing.T) {
	want, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if got := Require(t, "sh", "dash"); got != want {
		t.Fatalf("Require(sh) = %q, want %q", got, want)
	}
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d", p)
	}
}
