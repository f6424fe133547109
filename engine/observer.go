package engine

import (
	"sync"
	"time"
)

// Observer receives a run's events: phase changes, progress snapshots, threshold
// evaluations and the abort. It is what the command line's progress display (and later a
// live dashboard or a REST status endpoint) hangs on.
//
// Contract: Observe is called synchronously from the engine's goroutines — the Run
// goroutine (phases, aborts, the final evaluation and the final progress), the progress
// goroutine (periodic progress), the aggregator (periodic threshold evaluations) and,
// for an abort, whichever goroutine aborted (a VU's). Calls may be concurrent, so an
// Observer must be safe for concurrent use. It must return fast and never block: the
// aggregator waits for it, and VUs wait for the aggregator. An Observer that needs to do
// slow work (network, disk) copies the event to its own goroutine with a non-blocking
// send. Events and the slices they hold are never modified after Observe returns; an
// Observer may keep them.
//
// Order within a run: PhaseInit, PhaseSetup, PhaseRunning, progress and threshold events,
// PhaseTeardown, the final ThresholdsEvent (Final), the final ProgressEvent (Final),
// PhaseDone. An AbortEvent precedes PhaseDone whenever the Result's Code is not 0; a run
// that fails before PhaseRunning skips to it.
type Observer interface {
	Observe(e Event)
}

// Observers fans every event out to each observer in turn.
type Observers []Observer

// Observe implements Observer.
func (obs Observers) Observe(e Event) {
	for _, o := range obs {
		o.Observe(e)
	}
}

// Event is one of PhaseEvent, ProgressEvent, ThresholdsEvent or AbortEvent.
type Event interface{ event() }

// Phase is a stage of a run.
type Phase uint8

// The phases of a run, in order.
const (
	PhaseInit     Phase = iota + 1 // the VUs are being initialised
	PhaseSetup                     // setup() runs (emitted whether or not it is exported)
	PhaseRunning                   // the scenarios run
	PhaseTeardown                  // teardown() runs (emitted whether or not it is exported)
	PhaseDone                      // the run ended; Run is returning its Result
)

var phaseNames = [...]string{PhaseInit: "init", PhaseSetup: "setup", PhaseRunning: "running", PhaseTeardown: "teardown", PhaseDone: "done"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) && phaseNames[p] != "" {
		return phaseNames[p]
	}
	return "unknown"
}

// PhaseEvent is a phase change.
type PhaseEvent struct {
	Phase Phase
	Time  time.Time
}

// ProgressEvent is a progress snapshot: every Config.ProgressEvery while the scenarios
// run (setup included), and once more (Final) after they ended.
type ProgressEvent struct{ Progress }

// ThresholdsEvent is one evaluation of every threshold: periodic during the run
// (Config.ThresholdsEvery) and once at the end (Final).
type ThresholdsEvent struct {
	// Elapsed is the run time at the evaluation.
	Elapsed time.Duration
	Final   bool
	// Thresholds are every threshold in definition order, with their outcome.
	Thresholds []ThresholdResult
}

// AbortEvent is the end of a run for a reason other than its natural end: test.abort()
// (108), an abortOnFail threshold (99), a signal (105), a script error in init, setup or
// teardown (107), invalid thresholds (104) or an output that cannot start (255). Only the
// first reason is reported.
type AbortEvent struct {
	Code   int
	Reason string
}

func (PhaseEvent) event()      {}
func (ProgressEvent) event()   {}
func (ThresholdsEvent) event() {}
func (AbortEvent) event()      {}

// Progress is a snapshot of a running test.
type Progress struct {
	// Elapsed is the time since the scenarios started.
	Elapsed time.Duration
	// ActiveVUs are running an iteration now; InitializedVUs is every VU of the run.
	ActiveVUs, InitializedVUs int64
	// Complete and Interrupted count the iterations of every scenario.
	Complete, Interrupted int64
	// Scenarios are in the order of the test's scenarios.
	Scenarios []ScenarioProgress
	// Final is set on the snapshot taken after the run ended.
	Final bool
}

// ScenarioProgress is one scenario in a Progress snapshot.
type ScenarioProgress struct {
	Name, Executor        string
	Active, MaxVUs        int64
	Complete, Interrupted int64
	// Elapsed is the scenario's run time (0 before it started, frozen when it ended);
	// Duration is its planned duration.
	Elapsed, Duration time.Duration
	// PerVU and Shared are the iteration budgets (0 for time-based executors).
	PerVU, Shared int64
	// Arrival-rate executors only: Rate is the schedule's rate now in iterations per
	// second (0 once it ended), Allocated the VUs initialised so far (Active of them are
	// busy) and Dropped the iterations dropped for want of a free VU.
	Rate      float64
	Allocated int64
	Dropped   int64
	// Started and Ended are set once the scenario started and ended; Aborted when it was
	// stopped before its natural end.
	Started, Ended, Aborted bool
}

// Fraction is the scenario's progress in [0, 1]: iterations done of the budget for
// iteration-based executors, time elapsed of the duration otherwise; 1 once it ended
// normally.
func (s ScenarioProgress) Fraction() float64 {
	var f float64
	switch {
	case s.PerVU > 0:
		f = float64(s.Complete+s.Interrupted) / float64(s.PerVU*s.MaxVUs)
	case s.Shared > 0:
		f = float64(s.Complete+s.Interrupted) / float64(s.Shared)
	case s.Duration > 0:
		f = float64(s.Elapsed) / float64(s.Duration)
	}
	if s.Ended && !s.Aborted {
		f = 1
	}
	return min(max(f, 0), 1)
}

// ThresholdResult is one threshold's outcome at an evaluation.
type ThresholdResult struct {
	// Key is the metric or submetric the threshold is on: "http_req_duration{name:infer}".
	Key string
	// Source is the threshold as written: "p(95)<500".
	Source string
	// Agg is the aggregation it checks: "p(95)".
	Agg string
	OK  bool
	// Observed is the aggregation's value (NaN when the metric has no samples).
	Observed    float64
	AbortOnFail bool
}

// observers is the run's observer with its first-abort latch.
type observers struct {
	o         Observer
	abortOnce sync.Once
}

func (ob *observers) emit(e Event) {
	if ob.o != nil {
		ob.o.Observe(e)
	}
}

func (ob *observers) phase(p Phase) { ob.emit(PhaseEvent{Phase: p, Time: time.Now()}) }

// abort reports the first abort of the run.
func (ob *observers) abort(code int, err error) {
	ob.abortOnce.Do(func() {
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		ob.emit(AbortEvent{Code: code, Reason: reason})
	})
}
