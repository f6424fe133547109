package pixel

import (
	"errors"
	"testing"

	"github.com/pixelk6/pixelk6/extension/pixel/stream"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/modulestest"
)

// loopRun is in the stack of every event-loop goroutine of a stream Driver (and of any other
// internal/evloop user).
const loopRun = "evloop.(*Loop).run("

// runDriver returns the Driver a run holds, failing if it holds none.
func runDriver(t *testing.T, run *modules.Run) *stream.Driver {
	t.Helper()
	d, err := modules.RunValue(run, driverKey{}, func() (*stream.Driver, error) {
		return nil, errors.New("the run has no driver")
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDriverPerRun: each test run gets its own stream Driver, made by its first session and
// shared by the run's VUs; ending the run closes it and its loop goroutines exit.
func TestDriverPerRun(t *testing.T) {
	url := pixelServer(t, 0, false)
	base := modulestest.CountGoroutines(loopRun) // loops of other tests' runs, if any

	a := newHarness(t) // run A, VU 1
	a2 := &harness{Runtime: a.AnotherVU()}
	a2.Instantiate(New(), "pixel")
	a2.MoveToVUContext()
	b := newHarness(t) // run B
	const session = `var r = pixel.stream("%s", {text: "a b c", textChunkSize: 2, interval: 1}); r.ok`
	for _, h := range []*harness{a, a2, b} {
		if !h.run(t, sprintf(session, url)).ToBoolean() {
			t.Fatalf("session failed: %v", h.run(t, `JSON.stringify(r)`))
		}
	}
	da, db := runDriver(t, a.Run), runDriver(t, b.Run)
	if da == db {
		t.Fatal("two test runs share one stream driver")
	}
	if n := modulestest.CountGoroutines(loopRun); n != base+2 {
		t.Fatalf("%d driver loops running, want %d (one per run: the two VUs of run A share theirs)", n-base, 2)
	}

	if err := a.EndRun(); err != nil {
		t.Fatal(err)
	}
	if n := modulestest.WaitGoroutines(loopRun, base+1); n != base+1 {
		t.Fatalf("after run A ended, %d driver loops remain, want 1 (run B's)", n-base)
	}
	// Run B still streams on its driver; run A's VUs cannot start a session any more.
	if !b.run(t, sprintf(session, url)).ToBoolean() {
		t.Fatal("run B's session failed after run A ended")
	}
	if _, err := a.RunString(sprintf(session, url)); err == nil {
		t.Fatal("a session started after its run ended")
	}
	if err := b.EndRun(); err != nil {
		t.Fatal(err)
	}
	if n := modulestest.WaitGoroutines(loopRun, base); n != base {
		t.Fatalf("after both runs ended, %d driver loops remain", n-base)
	}
}

// TestDriverWithoutRun: a State built by hand (no Run) gets a driver per session, closed when
// the session ends.
func TestDriverWithoutRun(t *testing.T) {
	url := pixelServer(t, 0, false)
	base := modulestest.CountGoroutines(loopRun)
	h := newHarness(t)
	h.State.Run = nil
	if !h.run(t, sprintf(`pixel.stream("%s", {text: "a b", textChunkSize: 1, interval: 1}).ok`, url)).ToBoolean() {
		t.Fatal("session failed")
	}
	if n := modulestest.WaitGoroutines(loopRun, base); n != base {
		t.Fatalf("%d driver loops remain after a run-less session", n-base)
	}
}
