//go:build unix

package http

import (
	"net"
	"syscall"
)

// idlePeek looks at an idle keep-alive connection without blocking (one peek). Its state is
// made on first use and kept with the connection, so a check allocates nothing after that.
type idlePeek struct {
	raw    syscall.RawConn
	peek   func(fd uintptr) bool
	broken bool
	buf    [1]byte
}

// closed reports whether the idle connection c can no longer carry a request: the server
// closed it (the peek reads end of file), reset it, or sent bytes nobody asked for.
func (p *idlePeek) closed(c net.Conn) bool {
	if p.raw == nil {
		sc, ok := c.(syscall.Conn)
		if !ok {
			return false
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return true
		}
		p.raw = raw
		p.peek = func(fd uintptr) bool {
			_, _, err := syscall.Recvfrom(int(fd), p.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			p.broken = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK // data, end of file or an error
			return true
		}
	}
	p.broken = false
	if err := p.raw.Read(p.peek); err != nil {
		return true
	}
	return p.broken
}
