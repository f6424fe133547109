//go:build !unix

package wsconn

// canTry is false: Outbox queues every write for its goroutine here.
const canTry = false

// tryWrite is never called where canTry is false.
func (o *Outbox) tryWrite(uintptr) bool { return true }
