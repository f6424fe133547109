package engine

import (
	"fmt"
	"sync"
	"time"
)

// rateLimiter lets at most perSecond events through in each one-second window and counts
// the rest. It is pure: the caller passes the time.
type rateLimiter struct {
	mu         sync.Mutex
	perSecond  int
	window     time.Time
	n          int
	suppressed int
}

// allow reports whether an event at now may be logged, and how many events were
// suppressed in the previous windows (reported once, by the first allowed event after them).
func (r *rateLimiter) allow(now time.Time) (ok bool, suppressedBefore int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.window) >= time.Second {
		r.window = now
		r.n = 0
	}
	if r.n >= r.perSecond {
		r.suppressed++
		return false, 0
	}
	r.n++
	s := r.suppressed
	r.suppressed = 0
	return true, s
}

// errorLog logs iteration errors, rate-limited.
type errorLog struct {
	log Logger
	rl  rateLimiter
	now func() time.Time
}

func newErrorLog(l Logger, perSecond int) *errorLog {
	return &errorLog{log: l, rl: rateLimiter{perSecond: perSecond}, now: time.Now}
}

func (e *errorLog) iterationError(err error, executor, scenario string) {
	ok, sup := e.rl.allow(e.now())
	if !ok {
		return
	}
	if sup > 0 {
		e.log.LogFields("warning", fmt.Sprintf("%d more iteration errors were not logged (at most %d are logged per second)", sup, e.rl.perSecond))
	}
	e.log.LogFields("error", err.Error(), "executor", executor, "scenario", scenario, "source", "stacktrace")
}

// flush reports errors suppressed at the end of the run.
func (e *errorLog) flush() {
	e.rl.mu.Lock()
	sup := e.rl.suppressed
	e.rl.suppressed = 0
	e.rl.mu.Unlock()
	if sup > 0 {
		e.log.LogFields("warning", fmt.Sprintf("%d more iteration errors were not logged (at most %d are logged per second)", sup, e.rl.perSecond))
	}
}
