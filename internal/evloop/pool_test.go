package evloop

import "testing"

// TestPool: a loop takes PoolFill connections before the next one starts, the least busy
// takes them after that, release gives a place back (once), and Close stops the loops.
func TestPool(t *testing.T) {
	p := NewPool(2)
	var releases []func()
	get := func() *Loop {
		t.Helper()
		l, release, err := p.Get()
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
		return l
	}
	first := get()
	for range PoolFill - 1 {
		if get() != first {
			t.Fatal("a second loop before the first was full")
		}
	}
	second := get()
	if second == first {
		t.Fatal("the full first loop took one more while the second was free")
	}
	releases[0]()
	releases[0]() // once only
	if got := p.active[0].Load(); got != PoolFill-1 {
		t.Fatalf("first loop counts %d, want %d", got, PoolFill-1)
	}
	if get() != first {
		t.Error("the first loop, with room again, did not take the next")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Get(); err == nil {
		t.Error("Get after Close succeeded")
	}
}
