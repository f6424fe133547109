package evloop

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestStampReads: with StampReads, ReadTime is when the bytes arrived, not when a busy loop
// got to them. The loop is held busy until the kernel has queued a byte on the socket; the
// check is an ordering of the run's own instants, not a wall-clock window:
// before the write ≤ ReadTime ≤ the end of the busy spell < Data.
//
// Linux turns on receive timestamps for the whole machine from a work queue when the first
// socket asks for them; until that has run, a byte is stamped when it is read. So the
// measurement is repeated (with the same ordering, whatever the machine's load) until a
// stamp shows the arrival; a ReadTime that always equals the read fails.
func TestStampReads(t *testing.T) {
	l := mustNew(t)
	defer l.Close()
	peer, mine := pair(t)
	type stamp struct{ read, data time.Time }
	got := make(chan stamp, 1)
	r := newRecorder()
	r.onData = func(r *recorder, b []byte) { got <- stamp{r.c.ReadTime(), time.Now()} }
	l.Add(mine, nil, r)
	r.next(t)
	l.Do(func() { r.c.StampReads() })
	const attempts = 200
	for i := range attempts {
		// Keep the loop busy until the written byte sits in the socket's receive queue.
		busy, written := make(chan struct{}), make(chan struct{})
		released := make(chan time.Time, 1)
		l.Do(func() {
			close(busy)
			<-written
			for {
				n, err := unix.IoctlGetInt(r.c.fd, unix.SIOCINQ)
				if err != nil {
					t.Errorf("SIOCINQ: %v", err)
					break
				}
				if n > 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			released <- time.Now()
		})
		<-busy
		sent := time.Now()
		if _, err := peer.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		close(written)
		s := <-got
		r.next(t) // the recorder's own data event
		end := <-released
		if !s.data.After(end) {
			t.Fatalf("Data ran at %v, not after the busy spell ended at %v", s.data, end)
		}
		if s.read.Before(sent) {
			t.Fatalf("ReadTime %v is before the write at %v", s.read, sent)
		}
		if !s.read.After(end) {
			t.Logf("ReadTime showed the arrival on attempt %d", i+1)
			return
		}
		time.Sleep(10 * time.Millisecond) // let the kernel's work queue run
	}
	t.Fatalf("in %d attempts ReadTime was always after the bytes were queued: it tells when the loop read them, not when they arrived", attempts)
}
