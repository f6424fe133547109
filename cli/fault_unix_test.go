//go:build unix

package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalDuringBlockedOpen: open() of a FIFO that a writer holds open but never writes
// to blocks in the kernel, out of reach of goja's interrupt; a signal used to leave pixelk6
// hanging there. It now exits 105 at once.
func TestSignalDuringBlockedOpen(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := defaultDeps()
	d.environ = func() []string { return nil }
	stderr := &markWriter{}
	args := []string{"run", "-q", "-e", "FIFO=" + fifo, filepath.Join("testdata", "init_fifo.js")}
	codeCh := make(chan int, 1)
	go func() { codeCh <- run(ctx, args, &lockedBuffer{}, stderr, d) }()

	// A non-blocking open for writing succeeds once the script has the FIFO open for
	// reading; the write end then stays open, so the script's read waits for data.
	var w *os.File
	for deadline := time.Now().Add(time.Minute); w == nil; {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		switch {
		case err == nil:
			w = f
		case !errors.Is(err, syscall.ENXIO):
			t.Fatal(err)
		case time.Now().After(deadline):
			t.Fatalf("the script never opened the FIFO\nstderr:\n%s", stderr.String())
		default:
			time.Sleep(10 * time.Millisecond)
		}
	}
	defer w.Close()
	cancel()
	select {
	case code := <-codeCh:
		if code != 105 {
			t.Fatalf("exit %d, want 105\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute): // only a hang breaks this bound
		t.Fatalf("still running a minute after the cancel\nstderr:\n%s", stderr.String())
	}
}
