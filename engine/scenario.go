package engine

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/executor"
)

// scenario walks one executor's plan with its own VUs.
type scenario struct {
	cfg   executor.Config
	plan  executor.Plan
	name  string
	exec  string
	slots []*slot
	// minIter is options.minIterationDuration: a VU whose iteration completed sooner
	// waits out the rest before its next one (0: no minimum).
	minIter time.Duration

	// counters read by progress and the vus gauge
	active       atomic.Int64
	complete     atomic.Int64
	interrupted  atomic.Int64
	sharedLeft   atomic.Int64
	startedAt    atomic.Int64 // unix ns when the scenario started; 0 before
	endedAt      atomic.Int64 // unix ns when it ended; 0 while running
	stoppedEarly atomic.Bool

	// hooks into the engine
	engineActive *atomic.Int64
	onError      func(err error, sc *scenario)
	onAbort      func(err error)
	setupData    json.RawMessage
	// info is what the scenario's VUs see of it; set when it starts.
	info *ScenarioInfo
	// iterations counts the iterations started by all VUs of the scenario.
	iterations atomic.Int64
	// onDropped receives the iterations an iteration-based executor did not start before
	// its maxDuration (k6's dropped_iterations).
	onDropped func(n int64)

	// arrival-rate executors only (see arrival.go)
	arrival arrivalState
}

// dropped returns the iterations of the budget that were never started.
func (sc *scenario) dropped() int64 {
	switch {
	case sc.plan.SharedIterations > 0:
		return max(sc.sharedLeft.Load(), 0)
	case sc.plan.PerVUIterations > 0:
		var n int64
		for _, s := range sc.slots {
			s.mu.Lock()
			n += max(sc.plan.PerVUIterations-s.iter, 0)
			s.mu.Unlock()
		}
		return n
	}
	return 0
}

// progress is the scenario's progress in [0, 1]: iterations done of the budget for
// iteration-based executors, time elapsed of the duration otherwise.
func (sc *scenario) progress() float64 {
	s := sc.startedAt.Load()
	if s == 0 {
		return 0
	}
	if sc.endedAt.Load() != 0 {
		return 1
	}
	done := float64(sc.complete.Load() + sc.interrupted.Load())
	var f float64
	switch {
	case sc.plan.PerVUIterations > 0:
		f = done / float64(sc.plan.PerVUIterations*int64(sc.plan.MaxVUs))
	case sc.plan.SharedIterations > 0:
		f = done / float64(sc.plan.SharedIterations)
	case sc.plan.Duration > 0:
		f = float64(time.Since(time.Unix(0, s))) / float64(sc.plan.Duration)
	}
	return min(max(f, 0), 1)
}

// slot is one VU of a scenario with its ramping state.
type slot struct {
	vu   VU
	wake chan struct{} // cap 1: the wanted state changed

	want atomic.Bool

	mu      sync.Mutex
	cancel  context.CancelFunc // of the running iteration, nil between iterations
	downGen uint64             // bumped at each ramp-down of this slot
	timer   *time.Timer        // the pending ramp-down interruption
	iter    int64              // iterations started by this VU in this scenario

	// scheduled is when the start handed to this VU was due (arrival-rate executors; set
	// before the VU is woken).
	scheduled time.Time
	// dispatched is when the scheduler handed it (only while tracing).
	dispatched time.Time
}

func (s *slot) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func newScenario(cfg executor.Config, vus []VU) *scenario {
	sc := &scenario{cfg: cfg, plan: cfg.Plan(), name: cfg.Base().Name, exec: cfg.Base().ExecOrDefault()}
	sc.sharedLeft.Store(sc.plan.SharedIterations)
	for _, v := range vus {
		sc.slots = append(sc.slots, &slot{vu: v, wake: make(chan struct{}, 1)})
	}
	return sc
}

// setTarget makes the first n slots wanted. Slots beyond n finish their iteration, which
// is interrupted after the plan's gracefulRampDown.
func (sc *scenario) setTarget(n int) {
	for i, s := range sc.slots {
		want := i < n
		if s.want.Load() == want {
			continue
		}
		s.want.Store(want)
		s.mu.Lock()
		s.downGen++
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
		if !want {
			gen := s.downGen
			s.timer = time.AfterFunc(sc.plan.GracefulRampDown, func() {
				s.mu.Lock()
				if s.downGen == gen && !s.want.Load() && s.cancel != nil {
					s.cancel()
				}
				s.mu.Unlock()
			})
		}
		s.mu.Unlock()
		s.signal()
	}
}

// run walks the plan: it waits for startTime, follows the steps until the plan's
// duration (or until an iteration-based executor's iterations are done), then stops
// starting iterations and interrupts those still running after gracefulStop. It returns
// when every slot goroutine has exited. ctx cancellation interrupts everything at once.
func (sc *scenario) run(ctx context.Context) {
	if !sleepCtx(ctx, sc.cfg.Base().StartTime.D()) {
		sc.stoppedEarly.Store(true)
		return
	}
	start := time.Now()
	sc.startedAt.Store(start.UnixNano())
	defer func() { sc.endedAt.Store(time.Now().UnixNano()) }()

	hard, hardCancel := context.WithCancel(ctx)
	defer hardCancel()
	soft, softCancel := context.WithCancel(hard)
	defer softCancel()

	sc.info = &ScenarioInfo{Name: sc.name, Executor: sc.cfg.Base().Executor, Start: start, Progress: sc.progress}
	if sc.plan.Arrival != nil {
		sc.runArrival(ctx, soft, hard, softCancel, hardCancel, start)
		return
	}
	var wg sync.WaitGroup
	slotsDone := make(chan struct{})
	for _, s := range sc.slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.loop(soft, hard, s)
		}()
	}
	go func() { wg.Wait(); close(slotsDone) }()

	// Walk the steps until the duration ends or every slot has finished its iterations.
	end := time.NewTimer(sc.plan.Duration)
	defer end.Stop()
	// Only iteration-based executors end when their VUs are done; time-based ones keep
	// their schedule even with no VU running (a ramping-vus at 0 VUs).
	var allDone <-chan struct{}
	if sc.plan.PerVUIterations > 0 || sc.plan.SharedIterations > 0 {
		allDone = slotsDone
	}
	steps := sc.plan.Steps
	stepT := time.NewTimer(0)
	defer stepT.Stop()
	<-stepT.C
walk:
	for {
		var stepC <-chan time.Time
		if len(steps) > 0 {
			if d := steps[0].Offset - time.Since(start); d <= 0 {
				sc.setTarget(steps[0].VUs)
				steps = steps[1:]
				continue
			} else {
				stepT.Reset(d)
				stepC = stepT.C
			}
		}
		select {
		case <-stepC:
		case <-end.C:
			break walk
		case <-allDone:
			break walk
		case <-ctx.Done():
			sc.stoppedEarly.Store(true)
			break walk
		}
	}
	softCancel()
	if sc.onDropped != nil {
		if n := sc.dropped(); n > 0 {
			sc.onDropped(n)
		}
	}
	grace := time.NewTimer(sc.plan.GracefulStop)
	defer grace.Stop()
	select {
	case <-slotsDone:
	case <-grace.C:
		hardCancel()
		<-slotsDone
	case <-ctx.Done():
		<-slotsDone
	}
	for _, s := range sc.slots {
		s.mu.Lock()
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
	}
}

// loop is a slot's goroutine: while wanted, it runs iterations; it exits when soft is done
// or its iteration budget is spent.
func (sc *scenario) loop(soft, hard context.Context, s *slot) {
	for {
		for !s.want.Load() {
			select {
			case <-s.wake:
			case <-soft.Done():
				return
			}
		}
		sc.active.Add(1)
		sc.engineActive.Add(1)
		more := sc.iterate(soft, hard, s)
		sc.active.Add(-1)
		sc.engineActive.Add(-1)
		if !more {
			return
		}
	}
}

// iterate runs iterations while the slot is wanted. It returns false when the slot must
// exit (soft done, budget spent).
func (sc *scenario) iterate(soft, hard context.Context, s *slot) bool {
	for s.want.Load() {
		if soft.Err() != nil {
			return false
		}
		if sc.plan.PerVUIterations > 0 && s.iter >= sc.plan.PerVUIterations {
			return false
		}
		if sc.plan.SharedIterations > 0 && sc.sharedLeft.Add(-1) < 0 {
			return false
		}
		if !sc.runOne(hard, s) {
			return false
		}
	}
	return true
}

// runOne runs one iteration on slot s, interrupted when hard ends. It returns false when
// the iteration aborted the test.
func (sc *scenario) runOne(hard context.Context, s *slot) bool {
	ictx, cancel := context.WithCancel(hard)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	n := sc.iterations.Add(1) - 1
	it := Iteration{Exec: sc.exec, Data: sc.setupData, Scenario: sc.info, VUIteration: s.iter,
		ScenarioIteration: n, TestIteration: sc.plan.IterationStripe.Global(n)}
	s.mu.Lock()
	s.iter++
	s.mu.Unlock()
	began := time.Now()
	err := s.vu.RunIteration(ictx, it)
	interrupted := ictx.Err() != nil
	s.mu.Lock()
	s.cancel = nil
	s.mu.Unlock()
	cancel()
	switch {
	case err == nil && !interrupted:
		sc.complete.Add(1)
		// As k6: after a full iteration only, outside iteration_duration, bounded by the
		// scenario's hard end.
		if sc.minIter > 0 {
			sleepCtx(hard, sc.minIter-time.Since(began))
		}
	case err != nil && IsAbort(err):
		sc.interrupted.Add(1)
		sc.onAbort(err)
		return false
	default:
		sc.interrupted.Add(1)
		if err != nil && !interrupted && !errors.Is(err, context.Canceled) {
			sc.onError(err, sc)
		}
	}
	return true
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
