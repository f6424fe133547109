//go:build !unix

package http

import "net"

// idleConnBroken cannot peek without blocking here: an idle connection is taken as alive,
// and a request that cannot be replayed fails if the server closed it.
func idleConnBroken(net.Conn) bool { return false }
