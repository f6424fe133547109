package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// arrivalState is an arrival-rate scenario's VU pool and hooks. The engine sets the hooks
// when it creates the scenario.
type arrivalState struct {
	// newVU initialises one more VU of the scenario (beyond preAllocatedVUs).
	newVU func(ctx context.Context) (VU, error)
	// onDropped records one dropped iteration, scheduled at t.
	onDropped func(t time.Time)
	// onInitError stops the run when a VU cannot be initialised during the test.
	onInitError func(err error)
	// warn logs a warning with the scenario's executor and name.
	warn func(msg string)
	// traceStart, when set (benchmarks), gets each start's lateness against the schedule:
	// when the scheduler handed it to a VU, and when the VU's goroutine woke with it.
	traceStart func(dispatch, wake time.Duration)

	// allocated counts the scenario's VUs: initialised before the start and since.
	allocated atomic.Int64
	dropped   atomic.Int64

	mu    sync.Mutex
	extra []VU // the VUs initialised during the run, closed when the scenario ends
}

// shortWait is the longest wait the scheduler sleeps precisely (sleepShort); longer
// ones take a timer until shortWait/2 before the start.
const shortWait = 2 * time.Millisecond

// insufficientVUs is k6's warning when an arrival-rate scenario drops iterations with all
// its maxVUs busy.
func insufficientVUs(maxVUs int) string {
	return fmt.Sprintf("Insufficient VUs, reached %d active VUs and cannot initialize more", maxVUs)
}

// runArrival walks an arrival-rate plan: the n-th iteration is handed to a free VU at
// start + Offset(n), each start computed from the origin so that timer lateness does not
// accumulate. Free VUs wait in the idle queue, so a start that finds none is dropped (dropped_iterations) at once and, while the pool is below maxVUs, one more VU is
// initialised in the background (one at a time, as k6 does); with the pool full, k6's
// "Insufficient VUs" warning is logged once. At the plan's duration no iteration starts
// any more, and those running get gracefulStop to finish.
func (sc *scenario) runArrival(ctx, soft, hard context.Context, softCancel, hardCancel context.CancelFunc, start time.Time) {
	a := &sc.arrival
	// idle holds the free VUs; a VU is handed a start on its wake channel.
	idle := make(chan *slot, sc.plan.MaxVUs)
	var wg sync.WaitGroup
	spawn := func(s *slot) {
		idle <- s
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.arrivalLoop(soft, hard, s, idle)
		}()
	}
	a.allocated.Store(int64(len(sc.slots)))
	for _, s := range sc.slots {
		spawn(s)
	}
	// The initialiser: one VU per request, while the scenario runs.
	remaining := sc.plan.MaxVUs - len(sc.slots)
	need := make(chan struct{})
	if remaining > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-need:
				case <-soft.Done():
					return
				}
				v, err := a.newVU(soft)
				if err != nil {
					if soft.Err() == nil {
						a.onInitError(err)
					}
					return
				}
				a.mu.Lock()
				a.extra = append(a.extra, v)
				a.mu.Unlock()
				if soft.Err() != nil {
					return
				}
				a.allocated.Add(1)
				spawn(&slot{vu: v, wake: make(chan struct{}, 1)})
			}
		}()
	}
	slotsDone := make(chan struct{})
	go func() { wg.Wait(); close(slotsDone) }()

	warned := false
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	total := sc.plan.Starts()
walk:
	for n := int64(0); n < total; n++ {
		off, _ := sc.plan.StartOffset(n)
		at := start.Add(off)
		// A timer for the bulk of a long wait, then a precise short sleep.
		if d := time.Until(at); d > shortWait {
			timer.Reset(d - shortWait/2)
			select {
			case <-timer.C:
			case <-ctx.Done():
				sc.stoppedEarly.Store(true)
				break walk
			}
		}
		if d := time.Until(at); d > 0 {
			sleepShort(d)
		}
		if ctx.Err() != nil {
			sc.stoppedEarly.Store(true)
			break
		}
		select {
		case s := <-idle:
			s.scheduled = at
			if a.traceStart != nil {
				s.dispatched = time.Now()
			}
			s.wake <- struct{}{} // never blocks: an idle VU's wake is empty
			continue
		default:
		}
		a.dropped.Add(1)
		a.onDropped(at)
		if remaining > 0 {
			select {
			case need <- struct{}{}:
				remaining--
			default: // a VU is already being initialised
			}
		} else if !warned {
			warned = true
			a.warn(insufficientVUs(sc.plan.MaxVUs))
		}
	}
	// The last start may be well before the end of the duration.
	if ctx.Err() == nil && !sleepCtx(ctx, time.Until(start.Add(sc.plan.Duration))) {
		sc.stoppedEarly.Store(true)
	}
	softCancel()
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
	a.mu.Lock()
	for _, v := range a.extra {
		v.Close()
	}
	a.extra = nil
	a.mu.Unlock()
}

// arrivalLoop is a VU's goroutine in an arrival-rate scenario: it runs one iteration per
// start it is handed on its wake channel, then queues itself as idle again; it exits when
// soft is done or an iteration aborted the test.
func (sc *scenario) arrivalLoop(soft, hard context.Context, s *slot, idle chan<- *slot) {
	for {
		select {
		case <-s.wake:
		case <-soft.Done():
			return
		}
		if t := sc.arrival.traceStart; t != nil {
			t(s.dispatched.Sub(s.scheduled), time.Since(s.scheduled))
		}
		sc.active.Add(1)
		sc.engineActive.Add(1)
		ok := sc.runOne(hard, s)
		sc.active.Add(-1)
		sc.engineActive.Add(-1)
		if !ok {
			return
		}
		idle <- s // never blocks: idle has room for every VU
	}
}
