package evloop

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is up to a fixed number of shared loops (NewShared), started when connections first need them, that
// share connections out: a loop takes PoolFill connections before the next one gets any
// (a loop that wakes for many connections at once costs less per message than two that
// wake for half as many), then the least busy takes the next. Close stops them.
type Pool struct {
	active []atomic.Int32 // connections per loop (one per loop the Pool may start)

	mu     sync.Mutex
	loops  []*Loop
	closed bool
}

// PoolFill is how many connections a Pool's loop takes before the next loop gets any.
const PoolFill = 256

// NewPool returns a Pool of up to n loops (0: one per GOMAXPROCS); none has started yet.
func NewPool(n int) *Pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Pool{active: make([]atomic.Int32, n)}
}

// Get returns the loop for a new connection and the function to call once the connection
// has ended (Closed was called).
func (p *Pool) Get() (*Loop, func(), error) {
	i, best := 0, int32(1<<30)
	for j := range p.active {
		n := p.active[j].Load()
		if n < PoolFill {
			i = j
			break
		}
		if n < best {
			i, best = j, n
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, errors.New("evloop: pool closed")
	}
	for len(p.loops) <= i {
		l, err := NewShared()
		if err != nil {
			return nil, nil, err
		}
		p.loops = append(p.loops, l)
	}
	p.active[i].Add(1)
	var once sync.Once
	return p.loops[i], func() { once.Do(func() { p.active[i].Add(-1) }) }, nil
}

// Close stops the loops (their connections get ErrLoopClosed) and waits for them.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	loops := p.loops
	p.mu.Unlock()
	var first error
	for _, l := range loops {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
