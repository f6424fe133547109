package http

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
)

// lockedTrace is t.trace() with every hook run under mu. net/http may call a request's
// hooks from a dial it started for the request after the request went out on another
// connection (a connection freed by another request of an http.batch): the hooks then run
// while, or after, the request's result is completed, which reads t under mu. (The mutex
// is not a field of tracer: the fast path's tracer, which no other goroutine sees, would
// escape to the heap with it.)
func (t *tracer) lockedTrace(mu *sync.Mutex) *httptrace.ClientTrace {
	in := t.trace()
	lock := func() func() { mu.Lock(); return mu.Unlock }
	return &httptrace.ClientTrace{
		GetConn:              func(h string) { defer lock()(); in.GetConn(h) },
		GotConn:              func(i httptrace.GotConnInfo) { defer lock()(); in.GotConn(i) },
		DNSStart:             func(i httptrace.DNSStartInfo) { defer lock()(); in.DNSStart(i) },
		ConnectStart:         func(n, a string) { defer lock()(); in.ConnectStart(n, a) },
		ConnectDone:          func(n, a string, err error) { defer lock()(); in.ConnectDone(n, a, err) },
		TLSHandshakeStart:    func() { defer lock()(); in.TLSHandshakeStart() },
		TLSHandshakeDone:     func(s tls.ConnectionState, err error) { defer lock()(); in.TLSHandshakeDone(s, err) },
		WroteRequest:         func(i httptrace.WroteRequestInfo) { defer lock()(); in.WroteRequest(i) },
		GotFirstResponseByte: func() { defer lock()(); in.GotFirstResponseByte() },
	}
}
