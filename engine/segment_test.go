package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/executor"
)

// TestSegmentNumbering runs a shared-iterations scenario on each third of a test: together
// the instances run every iteration of the whole test once (scenario.iterationInTest
// 0..30) with VUs numbered 1..5 in the whole test (vu.idInTest), none twice.
func TestSegmentNumbering(t *testing.T) {
	seq, err := executor.ParseSequence("0,1/3,2/3,1")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	iters := map[int64]int{}
	vus := map[uint64]int{}
	for _, g := range seq {
		tu, err := executor.NewTuple(g, seq)
		if err != nil {
			t.Fatal(err)
		}
		fr := &fakeRunner{iter: func(_ context.Context, v *fakeVU) error {
			mu.Lock()
			defer mu.Unlock()
			iters[v.it.TestIteration]++
			return nil
		}}
		res := runTest(t, context.Background(), fr, `{"scenarios":{"s":{"executor":"shared-iterations","vus":5,"iterations":31}}}`, func(c *Config) {
			c.Test.Segment = tu
			executor.SetSegment(c.Test.Scenarios, tu)
		})
		if res.ExitCode() != 0 {
			t.Fatalf("%s: exit %d %v\n%s", g, res.ExitCode(), res.Err, res.stderr)
		}
		for _, v := range fr.vus {
			vus[v.spec.IDInTest]++
		}
	}
	for n := range int64(31) {
		if iters[n] != 1 {
			t.Errorf("iteration %d of the whole test ran %d times", n, iters[n])
		}
	}
	if len(iters) != 31 {
		t.Errorf("%d distinct iterations, want 31", len(iters))
	}
	var ids []uint64
	for id, n := range vus {
		ids = append(ids, id)
		if n != 1 {
			t.Errorf("VU %d of the whole test ran in %d instances", id, n)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("the instances' VUs are %v in the whole test, want 1..5", ids)
	}
}

// TestSegmentIdle: a scenario the segment leaves without work does not run; the others do.
func TestSegmentIdle(t *testing.T) {
	seq, err := executor.ParseSequence("0,1/3,2/3,1")
	if err != nil {
		t.Fatal(err)
	}
	tu, err := executor.NewTuple(seq[2], seq)
	if err != nil {
		t.Fatal(err)
	}
	fr := &fakeRunner{iter: sleepIter(time.Millisecond)}
	res := runTest(t, context.Background(), fr, `{"scenarios":{"one":{"executor":"constant-vus","vus":1,"duration":"10s"},"three":{"executor":"per-vu-iterations","vus":3,"iterations":2}}}`, func(c *Config) {
		c.Test.Segment = tu
		executor.SetSegment(c.Test.Scenarios, tu)
	})
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d %v\n%s", res.ExitCode(), res.Err, res.stderr)
	}
	if got := res.out.sum("iterations"); got != 2 {
		t.Errorf("%v iterations, want 2 (the third's VU of \"three\"; \"one\" has no VU there)", got)
	}
	if len(fr.vus) != 1 {
		t.Errorf("%d VUs initialised, want 1", len(fr.vus))
	}
}
