package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// waitStatus polls c until ok holds for its status (the run moves on its own goroutine).
func waitStatus(t *testing.T, c *Control, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := c.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("never %s; last status %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const pausedScript = `{"scenarios":{"a":{"executor":"shared-iterations","vus":2,"iterations":4}}}`

// TestControlPausedRun: a run created paused initialises its VUs, reports
// PausedBeforeRun and waits — setup() has not run — until it is resumed; then it runs to
// its end as usual. Pausing again, or resuming after the start, fails with k6's messages.
func TestControlPausedRun(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(time.Millisecond), exports: map[string]bool{"default": true, "setup": true}}
	test := testFromJSON(t, pausedScript)
	ctl := NewControl(test, true)
	done := make(chan result, 1)
	go func() {
		done <- runTest(t, context.Background(), fr, pausedScript, func(c *Config) { c.Test = test; c.Control = ctl })
	}()
	st := waitStatus(t, ctl, "paused before run", func(s Status) bool { return s.Execution == ExecPausedBeforeRun })
	if !st.Paused || st.Running || st.Stopped || st.VUsMax != 2 || st.VUs != 0 {
		t.Fatalf("paused status %+v", st)
	}
	if fr.setups.Load() != 0 {
		t.Fatal("setup() ran while paused")
	}
	if err := ctl.SetPaused(true); err == nil || err.Error() != "execution is already paused" {
		t.Fatalf("pausing a paused run: %v", err)
	}
	if err := ctl.SetPaused(false); err != nil {
		t.Fatalf("resume: %v", err)
	}
	res := <-done
	if res.ExitCode() != 0 || res.out.sum("iterations") != 4 || fr.setups.Load() != 1 {
		t.Fatalf("exit %d, iterations %v, setups %d\n%s", res.ExitCode(), res.out.sum("iterations"), fr.setups.Load(), res.stderr)
	}
	st = ctl.Status()
	if st.Execution != ExecEnded || st.Paused || st.Running || st.Stopped {
		t.Fatalf("final status %+v", st)
	}
	err := ctl.SetPaused(true)
	if err == nil || err.Error() != "shared-iterations executor 'a' doesn't support pause and resume operations after its start" {
		t.Fatalf("pausing after the start: %v", err)
	}
	if err := ctl.SetPaused(false); err == nil {
		t.Fatal("resuming after the start: no error")
	}
	// The final metrics stay readable after the run.
	var count uint64
	err = ctl.Metrics(context.Background(), func(ms []MetricResult, _ time.Duration) {
		for _, m := range ms {
			if m.Key == "iterations" && m.Sink != nil {
				count = m.Sink.Count()
			}
		}
	})
	if err != nil || count != 4 {
		t.Fatalf("iterations after the run: %d samples, %v", count, err)
	}
}

// TestControlStop: Stop on a paused run ends it without starting it, with k6's exit code
// 103; a Stop before the run began takes effect when it begins.
func TestControlStop(t *testing.T) {
	for _, early := range []bool{false, true} {
		name := map[bool]string{false: "while paused", true: "before the run"}[early]
		t.Run(name, func(t *testing.T) {
			fr := &fakeRunner{exports: map[string]bool{"default": true, "setup": true}}
			test := testFromJSON(t, pausedScript)
			ctl := NewControl(test, true)
			if early {
				ctl.Stop()
			}
			done := make(chan result, 1)
			go func() {
				done <- runTest(t, context.Background(), fr, pausedScript, func(c *Config) { c.Test = test; c.Control = ctl })
			}()
			if !early {
				waitStatus(t, ctl, "paused before run", func(s Status) bool { return s.Execution == ExecPausedBeforeRun })
				ctl.Stop()
			}
			res := <-done
			if res.ExitCode() != ExitStoppedFromAPI || fr.setups.Load() != 0 || res.out.sum("iterations") != 0 {
				t.Fatalf("exit %d, setups %d\n%s", res.ExitCode(), fr.setups.Load(), res.stderr)
			}
			if !strings.Contains(res.stderr, "test run stopped from REST API") {
				t.Errorf("stderr lacks the reason:\n%s", res.stderr)
			}
			if st := ctl.Status(); !st.Stopped || st.Execution != ExecInterrupted {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

// TestControlStopRunning: Stop during the scenarios aborts them (exit 103).
func TestControlStopRunning(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(time.Millisecond)}
	script := `{"vus":2,"duration":"1h"}`
	test := testFromJSON(t, script)
	ctl := NewControl(test, false)
	done := make(chan result, 1)
	go func() {
		done <- runTest(t, context.Background(), fr, script, func(c *Config) { c.Test = test; c.Control = ctl })
	}()
	st := waitStatus(t, ctl, "running", func(s Status) bool { return s.Execution == ExecRunning })
	if !st.Running || st.Paused || st.VUsMax != 2 {
		t.Fatalf("running status %+v", st)
	}
	ctl.Stop()
	if res := <-done; res.ExitCode() != ExitStoppedFromAPI || !res.Ran {
		t.Fatalf("exit %d ran=%v\n%s", res.ExitCode(), res.Ran, res.stderr)
	}
}

// TestControlSetupData: with noSetup the scenarios get the data set through the control
// (the k6-operator runs setup() once and gives its data to every runner); RunSetup runs
// setup() on demand and keeps its result.
func TestControlSetupData(t *testing.T) {
	fr := &fakeRunner{exports: map[string]bool{"default": true, "setup": true, "teardown": true}}
	test := testFromJSON(t, pausedScript)
	test.NoSetup = true
	ctl := NewControl(test, true)
	done := make(chan result, 1)
	go func() {
		done <- runTest(t, context.Background(), fr, pausedScript, func(c *Config) { c.Test = test; c.Control = ctl })
	}()
	waitStatus(t, ctl, "paused before run", func(s Status) bool { return s.Execution == ExecPausedBeforeRun })
	data, err := ctl.RunSetup(context.Background())
	if err != nil || string(data) != `{"token":"x"}` || string(ctl.SetupData()) != `{"token":"x"}` {
		t.Fatalf("RunSetup: %s, %v", data, err)
	}
	ctl.SetSetupData(json.RawMessage(`{"from":"operator"}`))
	if err := ctl.SetPaused(false); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d\n%s", res.ExitCode(), res.stderr)
	}
	if got, _ := fr.gotData.Load().(json.RawMessage); string(got) != `{"from":"operator"}` {
		t.Fatalf("iterations got setup data %s", got)
	}
	if fr.setups.Load() != 1 {
		t.Fatalf("setup ran %d times, want once (through the control)", fr.setups.Load())
	}
	if err := ctl.RunTeardown(context.Background()); err != nil || fr.teardown.Load() != 2 {
		t.Fatalf("RunTeardown: %v, teardowns %d", err, fr.teardown.Load())
	}
}
