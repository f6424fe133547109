//go:build unix

package wsconn

import "syscall"

// canTry: a socket's descriptor can be written without waiting (Outbox.try).
const canTry = true

// tryWrite is try's function on the socket.
func (o *Outbox) tryWrite(fd uintptr) bool {
	for len(o.tryB) > 0 {
		w, err := syscall.Write(int(fd), o.tryB)
		if err == syscall.EINTR {
			continue
		}
		if w > 0 {
			o.tryN += w
			o.tryB = o.tryB[w:]
		}
		switch {
		case err == syscall.EAGAIN || (err == nil && w <= 0):
			o.tryErr = errAgain
			return true
		case err != nil:
			o.tryErr = err
			return true
		}
	}
	return true // never wait for the poller: the flusher does
}
