package js

import (
	"context"
	"sync"
)

// eventLoop is a VU's event loop. JavaScript runs only on the VU goroutine; other
// goroutines hand it work through callbacks reserved with register. One run call drives one
// iteration (or the init context, setup, ...): it returns when nothing is queued and no
// reserved callback is outstanding, or when ctx is done.
type eventLoop struct {
	wakeup chan struct{}

	mu      sync.Mutex
	queue   []func() error
	pending int    // reserved callbacks not yet run
	epoch   uint64 // bumped when a run is abandoned, so late callbacks are dropped
}

func newEventLoop() *eventLoop { return &eventLoop{wakeup: make(chan struct{}, 1)} }

// register reserves a slot: the loop does not finish until the returned function has been
// called (from any goroutine) and f has run. Calling it more than once is ignored.
func (l *eventLoop) register() func(f func() error) {
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

// run calls first and then runs queued callbacks until none is pending. The first error (from
// first or a callback) ends the run; so does ctx. Callbacks still pending at the end are
// dropped.
func (l *eventLoop) run(ctx context.Context, first func() error) (err error) {
	defer l.reset()
	if err := first(); err != nil {
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
				return err // reset drops the rest
			}
		}
		if len(q) > 0 {
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

// reset drops everything pending and makes outstanding enqueue functions no-ops.
func (l *eventLoop) reset() {
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
