//go:build linux

package evloop

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epoller is the Linux waiter: one epoll instance, level-triggered, for the loop's sockets
// and an eventfd that Do uses to wake it.
type epoller struct {
	ep, ev int
	events []unix.EpollEvent
	conns  map[int32]*Conn
	buf    []byte // the read buffer every connection shares
	oob    []byte // the control-message buffer of readStamped
	// shared: the epoll instance waits in Go's poller (see newSharedWaiter); nil: in
	// epoll_wait on a thread of the loop's own.
	shared *os.File
	rc     syscall.RawConn
}

// newSharedWaiter returns an epoller that waits in Go's own poller rather than blocking a
// thread in epoll_wait: its epoll descriptor is itself pollable, so the loop's goroutine
// parks like any other and holds no P while it waits. A loop that shares the Ps with
// many busy goroutines (VUs) uses it: a thread blocked in epoll_wait keeps its P until the
// runtime's monitor takes it back, which left VUs waiting for a P while a core idled.
func newSharedWaiter() (waiter, error) {
	wt, err := newWaiter()
	if err != nil {
		return nil, err
	}
	w := wt.(*epoller)
	if err := unix.SetNonblock(w.ep, true); err != nil {
		_ = w.close()
		return nil, fmt.Errorf("evloop: %w", err)
	}
	f := os.NewFile(uintptr(w.ep), "evloop")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		_ = unix.Close(w.ev)
		return nil, fmt.Errorf("evloop: %w", err)
	}
	w.shared, w.rc = f, rc
	return w, nil
}

func newWaiter() (waiter, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("evloop: epoll_create1: %w", err)
	}
	ev, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(ep)
		return nil, fmt.Errorf("evloop: eventfd: %w", err)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, ev, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(ev)}); err != nil {
		_ = unix.Close(ep)
		_ = unix.Close(ev)
		return nil, fmt.Errorf("evloop: epoll_ctl: %w", err)
	}
	return &epoller{ep: ep, ev: ev, events: make([]unix.EpollEvent, 256), conns: map[int32]*Conn{},
		buf: make([]byte, 64<<10), oob: make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))*2)}, nil
}

// take duplicates the socket of a TCP or Unix connection and closes nc, which takes the
// original descriptor out of Go's poller; the duplicate is the loop's.
func (w *epoller) take(nc net.Conn) (int, bool) {
	var rc interface {
		Control(func(fd uintptr)) error
	}
	switch c := nc.(type) {
	case *net.TCPConn:
		r, err := c.SyscallConn()
		if err != nil {
			return -1, false
		}
		rc = r
	case *net.UnixConn:
		r, err := c.SyscallConn()
		if err != nil {
			return -1, false
		}
		rc = r
	default:
		return -1, false
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || derr != nil {
		return -1, false
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, false
	}
	_ = nc.Close()
	return fd, true
}

// interest is the epoll events c asks for: reads unless paused, writes while output waits.
func interest(c *Conn) uint32 {
	var e uint32
	if !c.paused {
		e |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if len(c.out) > 0 {
		e |= unix.EPOLLOUT
	}
	return e
}

func (w *epoller) register(c *Conn) error {
	c.events = interest(c)
	if err := unix.EpollCtl(w.ep, unix.EPOLL_CTL_ADD, c.fd, &unix.EpollEvent{Events: c.events, Fd: int32(c.fd)}); err != nil {
		return fmt.Errorf("evloop: epoll_ctl add: %w", err)
	}
	w.conns[int32(c.fd)] = c
	return nil
}

// update changes c's registration to its interest. A connection that asks for nothing is
// taken out of the epoll set, since epoll reports a hang-up even to an empty interest
// (level-triggered, it would do so on every wait).
func (w *epoller) update(c *Conn) {
	want := interest(c)
	if want == c.events {
		return
	}
	op := unix.EPOLL_CTL_MOD
	switch {
	case want == 0:
		op = unix.EPOLL_CTL_DEL
	case c.events == 0:
		op = unix.EPOLL_CTL_ADD
	}
	if err := unix.EpollCtl(w.ep, op, c.fd, &unix.EpollEvent{Events: want, Fd: int32(c.fd)}); err != nil {
		c.fail(fmt.Errorf("evloop: epoll_ctl: %w", err))
		return
	}
	c.events = want
}

func (w *epoller) unregister(c *Conn) {
	w.unregisterQuiet(c)
	delete(w.conns, int32(c.fd))
}

func (w *epoller) closeFD(fd int) { _ = unix.Close(fd) }

func (w *epoller) read(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}

func (w *epoller) stamp(fd int) bool {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
}

// readStamped reads with recvmsg and returns the SCM_TIMESTAMPNS receive time, converted
// to a time with a monotonic reading (so that it subtracts from time.Now readings).
func (w *epoller) readStamped(fd int, b []byte) (int, time.Time, error) {
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &w.oob[0]}
	msg.SetControllen(len(w.oob))
	for {
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, time.Time{}, e
		}
		return int(n), receiveTime(w.oob[:msg.Controllen]), nil
	}
}

// receiveTime finds the SCM_TIMESTAMPNS control message in oob; zero when there is none.
func receiveTime(oob []byte) time.Time {
	hdr := unix.CmsgLen(0)
	for len(oob) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if int(h.Len) < hdr || int(h.Len) > len(oob) {
			return time.Time{}
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && int(h.Len) >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdr]))
			now := time.Now()
			// now carries a monotonic reading; the stamp is on the wall clock.
			if d := now.Sub(time.Unix(ts.Sec, ts.Nsec)); d > 0 {
				return now.Add(-d)
			}
			return now
		}
		oob = oob[min(unix.CmsgSpace(int(h.Len)-hdr), len(oob)):]
	}
	return time.Time{}
}

// write writes what the socket takes now; a full socket is (0, nil).
func (w *epoller) write(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Write(fd, b)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, err
	}
}

func isAgain(err error) bool { return err == unix.EAGAIN }

// lockThread keeps the loop on one OS thread: it sleeps in epoll_wait, and a thread of its
// own spares the Go scheduler a hand-off on every wake-up.
func (w *epoller) lockThread() {
	if w.shared == nil {
		runtime.LockOSThread()
	}
}

func (w *epoller) wake() {
	var one = [8]byte{1}
	_, _ = unix.Write(w.ev, one[:])
}

// noPwait2 is set once epoll_pwait2 (Linux 5.11) turned out to be missing.
var noPwait2 atomic.Bool

// wait sleeps in epoll_pwait2 for at most d (epoll_wait with d rounded up to whole
// milliseconds on kernels without it: a timer never fires early), and handles what is
// ready.
func (w *epoller) wait(l *Loop, d time.Duration) {
	var n int
	var err error
	if w.shared == nil {
		n, err = w.epollWait(d)
	} else {
		n, err = w.sharedWait(d)
	}
	if err != nil {
		return // EINTR
	}
	for i := range n {
		ev := &w.events[i]
		if int(ev.Fd) == w.ev {
			var b [8]byte
			_, _ = unix.Read(w.ev, b[:])
			l.woken.Store(false)
			continue
		}
		c := w.conns[ev.Fd]
		if c == nil {
			continue // closed earlier in this batch
		}
		if ev.Events&unix.EPOLLOUT != 0 && len(c.out) > 0 {
			c.writable()
			l.flushDead()
			if c.closed {
				continue
			}
		}
		if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			if c.paused {
				// A hang-up or error reported while reads are paused: stop watching
				// the socket; resuming reads finds it.
				if c.events&unix.EPOLLOUT == 0 {
					w.unregisterQuiet(c)
				}
				continue
			}
			c.readable(w.buf)
			l.flushDead()
		}
	}
}

// sharedWait takes what is ready; when nothing is, it parks in Go's poller until the epoll
// descriptor is readable (something is ready) or d has passed.
func (w *epoller) sharedWait(d time.Duration) (int, error) {
	n, err := w.epollWait(0)
	if n > 0 || err != nil || d == 0 {
		return n, err
	}
	if d > 0 {
		_ = w.shared.SetReadDeadline(time.Now().Add(d))
	} else {
		_ = w.shared.SetReadDeadline(time.Time{})
	}
	rerr := w.rc.Read(func(uintptr) bool {
		n, err = w.epollWait(0)
		return n > 0 || (err != nil && err != unix.EINTR)
	})
	if rerr != nil && n == 0 {
		return 0, nil // the deadline: the caller fires its timers
	}
	return n, err
}

func (w *epoller) epollWait(d time.Duration) (int, error) {
	if d >= 0 && !noPwait2.Load() {
		ts := unix.NsecToTimespec(int64(d))
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(w.ep), uintptr(unsafe.Pointer(&w.events[0])),
			uintptr(len(w.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		if e != unix.ENOSYS {
			if e != 0 {
				return 0, e
			}
			return int(r), nil
		}
		noPwait2.Store(true)
	}
	ms := -1
	if d >= 0 {
		ms = int((d + time.Millisecond - 1) / time.Millisecond)
	}
	return unix.EpollWait(w.ep, w.events, ms)
}

// unregisterQuiet takes c out of the epoll set but keeps it known (it is re-added by update).
func (w *epoller) unregisterQuiet(c *Conn) {
	if c.events != 0 {
		_ = unix.EpollCtl(w.ep, unix.EPOLL_CTL_DEL, c.fd, nil)
		c.events = 0
	}
}

func (w *epoller) close() error {
	var err1 error
	if w.shared != nil {
		err1 = w.shared.Close()
	} else {
		err1 = unix.Close(w.ep)
	}
	err2 := unix.Close(w.ev)
	if err1 != nil {
		return err1
	}
	return err2
}
