package evloop

import (
	"errors"
	"net"
	"time"
)

// chanWaiter is the portable waiter: it drives no socket itself (every connection gets a
// goConn) and waits on a channel and a timer.
type chanWaiter struct {
	ch chan struct{}
	t  *time.Timer
}

func newChanWaiter() *chanWaiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &chanWaiter{ch: make(chan struct{}, 1), t: t}
}

var errNoFD = errors.New("evloop: the portable waiter drives no socket")

func (w *chanWaiter) take(net.Conn) (int, bool)     { return -1, false }
func (w *chanWaiter) register(*Conn) error          { return errNoFD }
func (w *chanWaiter) update(*Conn)                  {}
func (w *chanWaiter) unregister(*Conn)              {}
func (w *chanWaiter) closeFD(int)                   {}
func (w *chanWaiter) read(int, []byte) (int, error) { return 0, errNoFD }
func (w *chanWaiter) write(int, []byte) (int, error) {
	return 0, errNoFD
}
func (w *chanWaiter) readStamped(int, []byte) (int, time.Time, error) {
	return 0, time.Time{}, errNoFD
}
func (w *chanWaiter) stamp(int) bool { return false }
func (w *chanWaiter) lockThread()    {}
func (w *chanWaiter) close() error   { return nil }

func (w *chanWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

func (w *chanWaiter) wait(l *Loop, d time.Duration) {
	if d < 0 {
		<-w.ch
	} else {
		w.t.Reset(d)
		select {
		case <-w.ch:
		case <-w.t.C:
		}
		w.t.Stop()
	}
	l.woken.Store(false)
}
