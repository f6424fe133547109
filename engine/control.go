package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// k6's exit codes of its REST API.
const (
	ExitStoppedFromAPI = 103 // the run was stopped through the REST API (Control.Stop)
	ExitCannotStartAPI = 106 // the REST API server cannot listen on its address
)

// ExecutionStatus is a run's execution status, numbered as k6's (lib.ExecutionStatus):
// the REST API's status attribute.
type ExecutionStatus uint32

// The execution statuses, in k6's order and numbering.
const (
	ExecCreated         ExecutionStatus = iota // 0: the run has not begun
	ExecInitVUs                                // 1: the VUs are being initialised
	ExecInitExecutors                          // 2: (k6 only; never reported by pixelk6)
	ExecInitDone                               // 3: the VUs are initialised
	ExecPausedBeforeRun                        // 4: --paused: waiting to be resumed
	ExecStarted                                // 5: resumed, before setup (with noSetup, until running)
	ExecSetup                                  // 6: setup() runs
	ExecRunning                                // 7: the scenarios run
	ExecTeardown                               // 8: teardown() runs
	ExecEnded                                  // 9: the run reached its end
	ExecInterrupted                            // 10: the run was aborted
	ExecMarkedAsFailed                         // 11: the script called test.fail()
)

// Status is a snapshot of a run as k6's REST API reports it (GET /v1/status).
type Status struct {
	Execution ExecutionStatus
	// Paused is set while a --paused run waits to be resumed.
	Paused bool
	// Running is set from the end of the pause (or the start) until the run ended.
	Running bool
	// Stopped is set once the run was aborted (from the API, a signal, test.abort(), an
	// abortOnFail threshold, ...).
	Stopped bool
	// Tainted is set when a threshold failed at its last evaluation.
	Tainted bool
	// VUs are the VUs running an iteration now; VUsMax the VUs initialised.
	VUs, VUsMax int64
}

// ErrNotStarted is the error of a Control call that needs the run while it has not begun.
var ErrNotStarted = errors.New("the test run has not been initialised yet")

// Control is a run's control surface: what k6's REST API reads and drives (status,
// pause and resume, stop, live metrics and groups, setup data, setup() and teardown()).
// It is an Observer fed by the run's own events, plus a handle on the run's counters and
// aggregator once Run has attached it (Config.Control). Its methods are safe for
// concurrent use and may be called before, during and after the run; every method that
// waits takes a context.
//
// Pausing follows k6: a run created paused (--paused) initialises its VUs and waits
// before setup() until SetPaused(false); none of the executors can be paused or resumed
// after the start, so SetPaused then fails naming the first scenario, as k6's does.
type Control struct {
	test *Test

	mu      sync.Mutex
	r       *run // nil before Run attaches, kept after
	exec    ExecutionStatus
	paused  bool
	resumed chan struct{} // closed by a resume (nil when not created paused)
	started bool
	done    bool
	stopped bool
	// stopReq is a Stop before Run attached: the run stops as soon as it is attached.
	stopReq bool
	tainted bool
	// setupData is the setup data: setup()'s result, or set with SetSetupData.
	setupData json.RawMessage
	// final is the metrics snapshot taken when the aggregator stopped; finalReady is
	// closed then.
	final        []MetricResult
	finalElapsed time.Duration
	finalGrp     GroupsSnapshot
	finalReady   chan struct{}
}

// NewControl returns the control surface of a run of test; with paused, the run waits
// after initialising its VUs until it is resumed.
func NewControl(test *Test, paused bool) *Control {
	c := &Control{test: test, paused: paused, finalReady: make(chan struct{})}
	if paused {
		c.resumed = make(chan struct{})
	}
	return c
}

var _ Observer = (*Control)(nil)

// Observe implements Observer: the run's phases, aborts and threshold outcomes.
func (c *Control) Observe(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e := e.(type) {
	case PhaseEvent:
		switch e.Phase {
		case PhaseInit:
			c.exec = ExecInitVUs
		case PhaseSetup:
			c.exec = ExecSetup
			if c.test != nil && c.test.NoSetup {
				c.exec = ExecStarted
			}
		case PhaseRunning:
			c.exec = ExecRunning
		case PhaseTeardown:
			c.exec = ExecTeardown
		case PhaseDone:
			c.done = true
			switch {
			case c.exec == ExecMarkedAsFailed:
			case c.stopped:
				c.exec = ExecInterrupted
			default:
				c.exec = ExecEnded
			}
		}
	case AbortEvent:
		c.stopped = true
	case ThresholdsEvent:
		c.tainted = false
		for _, t := range e.Thresholds {
			if !t.OK {
				c.tainted = true
			}
		}
	}
}

// setExec sets a status no event carries (init done, paused, started, marked as failed).
func (c *Control) setExec(s ExecutionStatus) {
	c.mu.Lock()
	c.exec = s
	if s == ExecStarted {
		c.started = true
	}
	c.mu.Unlock()
}

// Status returns the run's status now.
func (c *Control) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{Execution: c.exec, Paused: c.paused, Running: c.started && !c.done, Stopped: c.stopped, Tainted: c.tainted}
	if c.r != nil {
		st.VUs, st.VUsMax = c.r.active.Load(), c.r.inited.Load()
	}
	return st
}

// SetPaused pauses or resumes the run, with k6's rules: only a run created paused can be
// resumed, once, before it starts; pausing it again then, or pausing or resuming after
// the start, is an error.
func (c *Control) SetPaused(pause bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started && c.paused {
		if pause {
			return errors.New("execution is already paused")
		}
		c.paused = false
		close(c.resumed)
		return nil
	}
	if c.test != nil && len(c.test.Scenarios) > 0 {
		b := c.test.Scenarios[0].Base()
		return fmt.Errorf("%s executor '%s' doesn't support pause and resume operations after its start", b.Executor, b.Name)
	}
	return errors.New("the test run cannot be paused or resumed")
}

// errStoppedFromAPI is the reason of a run stopped with Stop.
var errStoppedFromAPI = errors.New("test run stopped from REST API")

// Stop aborts the run (exit code 103, as k6's REST API stop); a paused run stops without
// starting. A Stop before the run began takes effect when it begins.
func (c *Control) Stop() {
	c.mu.Lock()
	r := c.r
	if r == nil {
		c.stopReq = true
		c.stopped = true
	}
	c.mu.Unlock()
	if r != nil {
		r.abort(ExitStoppedFromAPI, errStoppedFromAPI)
	}
}

// attach connects the control to r (Run calls it once r's pipeline exists).
func (c *Control) attach(r *run) {
	c.mu.Lock()
	c.r = r
	stop := c.stopReq
	c.mu.Unlock()
	if stop {
		r.abort(ExitStoppedFromAPI, errStoppedFromAPI)
	}
}

// waitResume waits, for a run created paused, until it is resumed or ctx ends (false).
func (c *Control) waitResume(ctx context.Context) bool {
	c.mu.Lock()
	ch := c.resumed
	paused := c.paused
	c.mu.Unlock()
	if paused {
		c.setExec(ExecPausedBeforeRun)
	}
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
	if ctx.Err() != nil {
		return false
	}
	c.setExec(ExecStarted)
	return true
}

// SetupData returns the setup data (nil for none).
func (c *Control) SetupData() json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setupData
}

// SetSetupData replaces the setup data the scenarios will get (nil for none): with
// noSetup, the data another instance's setup() returned (the k6-operator's way).
func (c *Control) SetSetupData(data json.RawMessage) {
	c.mu.Lock()
	c.setupData = data
	c.mu.Unlock()
}

// run returns the attached run.
func (c *Control) run() (*run, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r == nil {
		return nil, ErrNotStarted
	}
	return c.r, nil
}

// RunSetup runs the script's setup() now, keeps its result as the setup data and returns
// it. Its samples join the run's.
func (c *Control) RunSetup(ctx context.Context) (json.RawMessage, error) {
	r, err := c.run()
	if err != nil {
		return nil, err
	}
	data, err := r.cfg.Runner.Setup(ctx, r.spec(0, nil, nil))
	if err != nil {
		return nil, err
	}
	c.SetSetupData(data)
	return data, nil
}

// RunTeardown runs the script's teardown() now with the setup data.
func (c *Control) RunTeardown(ctx context.Context) error {
	r, err := c.run()
	if err != nil {
		return err
	}
	return r.cfg.Runner.Teardown(ctx, r.spec(0, nil, nil), c.SetupData())
}

// GroupsSnapshot are the groups the run has seen and its checks.
type GroupsSnapshot struct {
	// Paths are the group paths seen ("::a::b"), each after its parent, the root ("")
	// first.
	Paths []string
	// Checks are the checks in order of first appearance (per scenario, as in Result).
	Checks []CheckResult
}

// Metrics calls f with every metric and submetric key, its sink (nil when it got no
// samples yet) and its thresholds' last outcomes, and the time since the scenarios started
// (for counter rates). While the run goes, f runs on the aggregator goroutine with the live
// sinks: it must only read them, return fast and keep none of them. After the aggregator
// stopped, f gets a final copy. Before the aggregator starts, f is not called.
func (c *Control) Metrics(ctx context.Context, f func(ms []MetricResult, elapsed time.Duration)) error {
	return c.ask(ctx, func(r *run, final bool) {
		if final {
			f(c.final, c.finalElapsed)
			return
		}
		f(r.pipe.metricResults(r.cfg.Registry, false), r.elapsed())
	})
}

// Groups returns the groups seen so far and the checks' counts.
func (c *Control) Groups(ctx context.Context) (GroupsSnapshot, error) {
	var out GroupsSnapshot
	err := c.ask(ctx, func(r *run, final bool) {
		if final {
			out = c.finalGrp
		} else {
			out = r.pipe.groupsSnapshot()
		}
	})
	return out, err
}

// ask runs f on the aggregator's goroutine (final: false), or after it stopped on the
// final snapshot (final: true). Before the aggregator started it does nothing.
func (c *Control) ask(ctx context.Context, f func(r *run, final bool)) error {
	c.mu.Lock()
	r := c.r
	c.mu.Unlock()
	if r == nil || !r.pipeStarted.Load() {
		return nil
	}
	done := make(chan struct{})
	req := func() { f(r, false); close(done) }
	select {
	case r.pipe.asks <- req:
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			// The aggregator runs every request it took; done is closed then.
			return ctx.Err()
		}
	case <-r.pipe.stopped:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.finalReady:
		f(r, true)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// snapshotFinal keeps the final metrics and groups (Run calls it once the aggregator
// stopped, before the Result's sinks are handed out).
func (c *Control) snapshotFinal(r *run, elapsed time.Duration) {
	c.final = r.pipe.metricResults(r.cfg.Registry, true)
	c.finalElapsed = elapsed
	c.finalGrp = r.pipe.groupsSnapshot()
	close(c.finalReady)
}
