// Package eventloop owns a VU's event loop: JavaScript runs only on the VU's goroutine, and
// other goroutines hand it work through callbacks reserved with Register. The runner (package
// js) drives one Loop per VU; package modulestest drives the same Loop under its fake VU, so
// an extension's asynchronous code is tested on the loop it will run on.
package eventloop

import (
	"context"
	"sync"
)

// Loop is a VU's event loop. One Run call drives one iteration (or the init context, setup,
// ...): it returns when nothing is queued and no reserved callback is outstanding, or when
// its ctx is done. Run must be called from one goroutine at a time (the VU's); the function
// Register returns may be called from any goroutine.
type Loop struct {
	wakeup chan struct{}
	check  func() error // SetCheck's function, nil: none

	mu      sync.Mutex
	queue   []func() error
	pending int    // reserved callbacks not yet run
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

// SetCheck makes Run call check after first and after each batch of callbacks; an error it
// returns ends the run as a callback's would (the runner reports a Promise rejected with no
// handler this way, as k6's event loop does). Call it before Run, from the loop's goroutine.
func (l *Loop) SetCheck(check func() error) { l.check = check }

// Run calls first and then runs queued callbacks until none is pending. The first error (from
// first, a callback or the SetCheck function) ends the run; so does ctx (its error is
// returned). Callbacks still pending at the end are dropped.
func (l *Loop) Run(ctx context.Context, first func() error) (err error) {
	defer l.Reset()
	if err := first(); err != nil {
		return err
	}
	if err := l.runCheck(); err != nil {
		return err
	}
	for {
		l.mu.Lock()
		q := l.queue
		l.queue = nil
		l.pending -= len(q)
		pending := l.pending
		l.mu.Unlock()
		for _, f := range q {
			if err := f(); err != nil {
				return err // Reset drops the rest
			}
		}
		if len(q) > 0 {
			if err := l.runCheck(); err != nil {
				return err
			}
			continue // callbacks may have queued or reserved more
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-l.wakeup:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *Loop) runCheck() error {
	if l.check == nil {
		return nil
	}
	return l.check()
}

// Reset drops everything pending and makes outstanding enqueue functions no-ops.
func (l *Loop) Reset() {
	l.mu.Lock()
	l.queue = nil
	l.pending = 0
	l.epoch++
	l.mu.Unlock()
	select {
	case <-l.wakeup:
	default:
	}
}
