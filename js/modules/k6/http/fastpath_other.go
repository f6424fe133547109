//go:build !unix

package http

import "net"

// idlePeek cannot look at a connection without blocking here.
type idlePeek struct{}

// closed takes an idle connection as alive: a request that cannot be replayed fails if the
// server closed it.
func (*idlePeek) closed(net.Conn) bool { return false }
