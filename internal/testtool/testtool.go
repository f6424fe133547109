// Package testtool gives tests the real programs they run against (influxd,
// prometheus, chromium, ...): it finds a program on PATH or installs its
// Debian package with apt-get, once per machine, and fails the test, never
// skips it, when that is impossible. It also hands out free loopback ports.
//
// Installs from several test binaries running at once are serialised by
// an flock on one lock file, and apt's own dpkg lock is waited for.
package testtool

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// lockPath serialises apt-get runs of concurrent test binaries.
const lockPath = "/tmp/pixelk6-testtool.lock"

// Require returns the path of program, installing Debian package pkg when
// the program is not on PATH. It fails t when the program cannot be had.
func Require(t testing.TB, program, pkg string) string {
	t.Helper()
	path, err := Find(program, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Find is Require without a test: it returns the program's path, or an
// error that says what was tried.
func Find(program, pkg string) (string, error) {
	if p, err := exec.LookPath(program); err == nil {
		return p, nil
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return "", fmt.Errorf("testtool: %s: %w", program, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("testtool: lock %s: %w", lockPath, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if p, err := exec.LookPath(program); err == nil { // installed while we waited
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("testtool: %s is not on PATH and there is no apt-get to install Debian's %s package: install it and run the tests again", program, pkg)
	}
	install := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	if _, err := install(); err != nil { // the package lists may be missing or stale on a fresh machine
		upd, uerr := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=600", "update").CombinedOutput()
		if uerr != nil {
			return "", fmt.Errorf("testtool: apt-get update for %s: %v\n%s", pkg, uerr, tail(upd))
		}
		if out, err := install(); err != nil {
			return "", fmt.Errorf("testtool: apt-get install %s: %v\n%s", pkg, err, tail(out))
		}
	}
	p, err := exec.LookPath(program)
	if err != nil {
		return "", fmt.Errorf("testtool: Debian's %s package installed, but %s is still not on PATH", pkg, program)
	}
	return p, nil
}

// FreePort returns a loopback TCP port free at the time of the call, for
// a server that must be told its port on the command line.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}
