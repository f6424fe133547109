package engine

import (
	"syscall"
	"time"
)

// sleepShort blocks the calling goroutine's thread for d (at most a few ms) with the
// kernel's high-resolution timer: the runtime's timers wake at best on the next
// millisecond when the process is otherwise idle, too coarse for an arrival schedule at
// thousands of starts per second.
func sleepShort(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}
