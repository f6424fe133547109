//go:build unix

package http

import (
	"net"
	"syscall"
)

// idleConnBroken reports whether an idle keep-alive connection can no longer carry a
// request: the server closed it (a peek reads end of file), reset it, or sent bytes nobody
// asked for. It does not block (one non-blocking peek).
func idleConnBroken(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	broken := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, perr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		broken = perr != syscall.EAGAIN && perr != syscall.EWOULDBLOCK // data, EOF or an error
		return true
	})
	return broken || err != nil
}
