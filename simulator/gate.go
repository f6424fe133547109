package simulator

import (
	"context"
	"errors"
	"sync/atomic"
)

// errOverloaded is returned by gate.acquire when the queue is full.
var errOverloaded = errors.New("server overloaded: worker queue is full")

// gate models the service's capacity: at most cap(slots) requests are processed at once,
// at most queueLimit more wait for a worker, and anything beyond that is refused at once.
// A nil *gate admits everything (unlimited capacity).
type gate struct {
	slots      chan struct{}
	waiting    atomic.Int64
	queueLimit int64
}

func newGate(capacity, queueLimit int) *gate {
	if capacity <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, capacity), queueLimit: int64(max(queueLimit, 0))}
}

// acquire takes a worker, waiting in the queue if all are busy. It returns errOverloaded
// when the queue is full, or the context's error (or errClosed when quit closes) while
// waiting. Each successful acquire must be paired with one release.
func (g *gate) acquire(ctx context.Context, quit <-chan struct{}) error {
	if g == nil {
		return nil
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.waiting.Add(1) > g.queueLimit {
		g.waiting.Add(-1)
		return errOverloaded
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-quit:
		return errClosed
	}
}

// tryAcquire takes a worker when one is free and nobody queues for one; it never waits.
// Each true return must be paired with one release.
func (g *gate) tryAcquire() bool {
	if g == nil {
		return true
	}
	if g.waiting.Load() > 0 {
		return false
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release frees a worker taken by acquire or tryAcquire.
func (g *gate) release() {
	if g != nil {
		<-g.slots
	}
}

// busy returns the number of workers in use and of requests queued.
func (g *gate) busy() (running, queued int64) {
	if g == nil {
		return 0, 0
	}
	return int64(len(g.slots)), g.waiting.Load()
}
