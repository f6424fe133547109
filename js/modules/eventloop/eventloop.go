// Package eventloop owns a VU's event loop: JavaScript runs only on the VU's goroutine, and
// other goroutines hand it work through callbacks reserved with Register. The runner (package
// js) drives one Loop per VU; package modulestest drives the same Loop under its fake VU, so
// an extension's asynchronous code is tested on the loop it will run on.
package eventloop

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Loop is a VU's event loop. One Run call drives one iteration (or the init context, setup,
// ...): it returns when nothing is queued and no reserved callback is outstanding, or when
// its ctx is done. Run must be called from one goroutine at a time (the VU's); the function
// Register returns may be called from any goroutine.
type Loop struct {
	wakeup chan struct{}
	check  func() error // SetCheck's function, nil: none

	// Owned by the loop's goroutine: the timers of AfterFunc, earliest first, and the one
	// runtime timer Run waits on for the earliest of them (made on first use).
	timers timerHeap
	clock  *time.Timer
	seq    uint64 // scheduling order, which breaks ties between timers due together

	mu      sync.Mutex
	queue   []func() error
	pending int    // reserved callbacks not yet run (a slot's queued run counts as one)
	slots   int    // slots held (Hold) and not released
	epoch   uint64 // bumped when a run is abandoned, so late callbacks are dropped
}

// New returns an idle loop.
func New() *Loop { return &Loop{wakeup: make(chan struct{}, 1)} }

// Register reserves a slot: the running (or next) Run does not finish until the returned
// function has been called (from any goroutine) and f has run on the loop's goroutine.
// Calling the returned function more than once is ignored; calling it after the Run that
// reserved it ended (by error or ctx) is ignored too.
func (l *Loop) Register() (enqueue func(f func() error)) {
	l.mu.Lock()
	l.pending++
	epoch := l.epoch
	l.mu.Unlock()
	var once sync.Once
	return func(f func() error) {
		once.Do(func() {
			l.mu.Lock()
			if l.epoch != epoch {
				l.mu.Unlock()
				return
			}
			l.queue = append(l.queue, f)
			l.mu.Unlock()
			select {
			case l.wakeup <- struct{}{}:
			default:
			}
		})
	}
}

// Slot is a lasting reservation on a loop for something woken many times (a socket): the
// run does not finish while it is held, and each Wake queues its function once. It saves a
// Register per wake-up.
type Slot struct {
	l      *Loop
	run    func() error // queued by Wake: clears queued, then calls f
	epoch  uint64
	queued atomic.Bool // a run is queued and has not started
	done   bool        // released; guarded by l.mu
}

// Hold reserves a slot whose wake-ups run f on the loop's goroutine, until Release. Loop
// goroutine only (as Register).
func (l *Loop) Hold(f func() error) *Slot {
	l.mu.Lock()
	l.slots++
	s := &Slot{l: l, epoch: l.epoch}
	l.mu.Unlock()
	s.run = func() error {
		s.queued.Store(false)
		return f()
	}
	return s
}

// Wake queues the slot's function unless it is queued already; it may be called from any
// goroutine. It is ignored after Release and after the run that held the slot ended. A
// wake-up while the function runs queues it again.
func (s *Slot) Wake() {
	if !s.queued.CompareAndSwap(false, true) {
		return
	}
	l := s.l
	l.mu.Lock()
	if s.done || l.epoch != s.epoch {
		l.mu.Unlock()
		return
	}
	l.pending++
	l.queue = append(l.queue, s.run)
	l.mu.Unlock()
	select {
	case l.wakeup <- struct{}{}:
	default:
	}
}

// Release gives the slot up: the run may finish without it, and later wake-ups are
// ignored (one already queued still runs). It is idempotent; any goroutine.
func (s *Slot) Release() {
	l := s.l
	l.mu.Lock()
	if !s.done && l.epoch == s.epoch {
		l.slots--
	}
	s.done = true
	l.mu.Unlock()
	select {
	case l.wakeup <- struct{}{}:
	default:
	}
}

// SetCheck makes Run call check after first and after each batch of callbacks; an error it
// returns ends the run as a callback's would (the runner reports a Promise rejected with no
// handler this way, as k6's event loop does). Call it before Run, from the loop's goroutine.
func (l *Loop) SetCheck(check func() error) { l.check = check }

// Run calls first and then runs queued callbacks and due timers until no callback is
// pending and no timer is scheduled. The first error (from first, a callback, a timer or the
// SetCheck function) ends the run; so does ctx (its error is returned). Callbacks still
// pending and timers still scheduled at the end are dropped.
func (l *Loop) Run(ctx context.Context, first func() error) (err error) {
	defer l.Reset()
	// The context's end wakes the loop like a callback (a select on ctx.Done() at every
	// wait would cost more than the wait itself).
	defer context.AfterFunc(ctx, l.wake)()
	if err := first(); err != nil {
		return err
	}
	if err := l.runCheck(); err != nil {
		return err
	}
	var spare []func() error // the last round's queue, emptied: the next round's (Run's own)
	for {
		l.mu.Lock()
		q := l.queue
		l.queue, spare = spare[:0], nil
		l.pending -= len(q)
		pending := l.pending + l.slots
		l.mu.Unlock()
		for i, f := range q {
			q[i] = nil
			if err := f(); err != nil {
				return err // Reset drops the rest
			}
		}
		spare = q
		fired, err := l.fireTimers()
		if err != nil {
			return err
		}
		if len(q) > 0 || fired {
			if err := l.runCheck(); err != nil {
				return err
			}
			continue // callbacks may have queued or reserved more
		}
		if pending == 0 && len(l.timers) == 0 {
			return nil
		}
		if len(l.timers) == 0 {
			<-l.wakeup
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		wait := time.Until(l.timers[0].when)
		if wait <= 0 {
			continue
		}
		if l.clock == nil {
			l.clock = time.NewTimer(wait)
		} else {
			l.clock.Reset(wait)
		}
		select {
		case <-l.wakeup:
			l.clock.Stop()
			if err := ctx.Err(); err != nil {
				return err
			}
		case <-l.clock.C:
		}
	}
}

// wake wakes Run if it waits.
func (l *Loop) wake() {
	select {
	case l.wakeup <- struct{}{}:
	default:
	}
}

// fireTimers runs the timers due now, in due order (those they schedule wait for the next
// round, so a zero-delay timer that reschedules itself cannot starve the callbacks).
func (l *Loop) fireTimers() (fired bool, err error) {
	if len(l.timers) == 0 {
		return false, nil
	}
	now := time.Now()
	for n := len(l.timers); n > 0 && len(l.timers) > 0 && !l.timers[0].when.After(now); n-- {
		t := heap.Pop(&l.timers).(*Timer)
		t.fired = now
		fired = true
		if err := t.f(); err != nil {
			return true, err
		}
	}
	return fired, nil
}

// Timer is a function scheduled on the loop by AfterFunc. Its methods may be called only
// from the loop's goroutine.
type Timer struct {
	l     *Loop
	when  time.Time
	fired time.Time // when the loop found it due, last time
	seq   uint64
	f     func() error
	index int // in the heap; -1 when not scheduled
}

// AfterFunc schedules f to run on the loop once d has passed (d <= 0: on the next round).
// A scheduled timer keeps Run going as a reserved callback does; an error f returns ends
// the run. Loop goroutine only; the timers of a run are dropped when it ends.
func (l *Loop) AfterFunc(d time.Duration, f func() error) *Timer {
	t := &Timer{l: l, f: f, index: -1}
	t.ResetAt(time.Now().Add(max(d, 0)))
	return t
}

// FiredAt is when the loop last found t due (the clock it read before running the timers
// due then): an interval can reschedule itself from it without reading the clock again.
func (t *Timer) FiredAt() time.Time { return t.fired }

// Stop cancels t; it reports whether t was scheduled.
func (t *Timer) Stop() bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.l.timers, t.index)
	return true
}

// ResetAt schedules t to run at when (or on the next round if when has passed), whether or
// not it was scheduled; an interval timer reschedules itself this way from inside f.
func (t *Timer) ResetAt(when time.Time) {
	t.when = when
	t.l.seq++
	t.seq = t.l.seq
	if t.index >= 0 {
		heap.Fix(&t.l.timers, t.index)
		return
	}
	heap.Push(&t.l.timers, t)
}

// timerHeap orders timers by due time.
type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }

// Less orders by due time, then by scheduling order: timers due at the same instant run in
// the order they were scheduled, as HTML's timers do.
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

func (l *Loop) runCheck() error {
	if l.check == nil {
		return nil
	}
	return l.check()
}

// Reset drops everything pending (callbacks and timers) and makes outstanding enqueue
// functions no-ops. Loop goroutine only.
func (l *Loop) Reset() {
	for _, t := range l.timers {
		t.index = -1
	}
	clear(l.timers)
	l.timers = l.timers[:0]
	l.mu.Lock()
	l.queue = nil
	l.pending = 0
	l.slots = 0
	l.epoch++
	l.mu.Unlock()
	select {
	case <-l.wakeup:
	default:
	}
}
