package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// The schedule's count is exact: every scheduled start is either run or dropped.
func TestArrivalRateIterationsMatchSchedule(t *testing.T) {
	tests := []struct {
		name, script string
		scheduled    float64
	}{
		{"constant-arrival-rate", `{"scenarios":{"c":{"executor":"constant-arrival-rate","rate":50,"duration":"1s","preAllocatedVUs":2,"maxVUs":5}}}`, 50},
		{"constant-arrival-rate per 500ms", `{"scenarios":{"c":{"executor":"constant-arrival-rate","rate":7,"timeUnit":"500ms","duration":"700ms","preAllocatedVUs":2}}}`, 10},
		// 0→40/s over 0.5s (10) then 40/s for 0.5s (20).
		{"after startTime", `{"scenarios":{"c":{"executor":"constant-arrival-rate","rate":20,"duration":"500ms","startTime":"200ms","preAllocatedVUs":2}}}`, 10},
		{"ramping-arrival-rate", `{"scenarios":{"r":{"executor":"ramping-arrival-rate","startRate":0,"preAllocatedVUs":1,"maxVUs":4,"stages":[{"duration":"500ms","target":40},{"duration":"500ms","target":40}]}}}`, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{iter: sleepIter(time.Millisecond)}
			res := runTest(t, context.Background(), fr, tt.script, nil)
			if res.ExitCode() != 0 || !res.Ran {
				t.Fatalf("Run: %d %v\nstderr: %s", res.ExitCode(), res.Err, res.stderr)
			}
			done, dropped := res.out.sum("iterations"), res.out.sum("dropped_iterations")
			if done+dropped != tt.scheduled || done == 0 {
				t.Fatalf("iterations %v + dropped %v, want %v scheduled", done, dropped, tt.scheduled)
			}
			fp := res.final()
			if fp == nil || fp.Scenarios[0].Complete != int64(done) || fp.Scenarios[0].Dropped != int64(dropped) {
				t.Fatalf("final progress %+v", fp)
			}
		})
	}
}

// With every VU busy, starts are dropped and counted; VUs up to maxVUs are initialised
// during the run; k6's warning is logged once the pool is full.
func TestArrivalRateDropsWhenVUsAreBusy(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(400 * time.Millisecond)}
	script := `{"scenarios":{"slow":{"executor":"constant-arrival-rate","rate":20,"duration":"1s","preAllocatedVUs":1,"maxVUs":3,"gracefulStop":"1s",
		"tags":{"t":"x"},"env":{"E":"1"}}}}`
	res := runTest(t, context.Background(), fr, script, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
	}
	done, dropped := res.out.sum("iterations"), res.out.sum("dropped_iterations")
	if done+dropped != 20 || dropped < 10 {
		t.Fatalf("iterations %v + dropped %v, want 20 with most dropped", done, dropped)
	}
	want := `level=warning msg="Insufficient VUs, reached 3 active VUs and cannot initialize more" executor=constant-arrival-rate scenario=slow`
	if strings.Count(res.stderr, "Insufficient VUs") != 1 || !strings.Contains(res.stderr, want) {
		t.Fatalf("stderr, want once %s:\n%s", want, res.stderr)
	}
	fr.vusMu.Lock()
	n := len(fr.vus)
	fr.vusMu.Unlock()
	if n != 3 || res.out.sum("vus_max") == 0 {
		t.Fatalf("%d VUs initialised, want 3 (1 pre-allocated + 2 during the run)", n)
	}
	if fp := res.final(); fp.Scenarios[0].Allocated != 3 || fp.InitializedVUs != 3 {
		t.Fatalf("final progress %+v", fp)
	}
	// IDs are unique across the run; VUs added during the run have the scenario's tags and
	// env as the pre-allocated one has.
	fr.vusMu.Lock()
	for id, v := range fr.vus {
		if id < 1 || id > 3 || v.spec.Tags["t"] != "x" || v.spec.Env["E"] != "1" || v.spec.Instance == nil {
			t.Errorf("VU %d: tags %v env %v", id, v.spec.Tags, v.spec.Env)
		}
	}
	fr.vusMu.Unlock()
}

// Iterations running at the end of the duration get gracefulStop to finish.
func TestArrivalRateGracefulStop(t *testing.T) {
	for _, tt := range []struct {
		grace                 string
		complete, interrupted int64
	}{{"1m", 2, 0}, {"0s", 1, 1}} {
		t.Run(tt.grace, func(t *testing.T) {
			// Starts at 0 (instant) and at 500ms (600ms long, so still running when the 1s
			// duration ends).
			fr := &fakeRunner{iter: func(ctx context.Context, v *fakeVU) error {
				if v.it.ScenarioIteration == 0 {
					return nil
				}
				return sleepIter(600*time.Millisecond)(ctx, v)
			}}
			script := `{"scenarios":{"g":{"executor":"constant-arrival-rate","rate":2,"duration":"1s","preAllocatedVUs":2,"gracefulStop":"` + tt.grace + `"}}}`
			res := runTest(t, context.Background(), fr, script, nil)
			if res.ExitCode() != 0 {
				t.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
			}
			st := res.final().Scenarios[0]
			if st.Complete != tt.complete || st.Interrupted != tt.interrupted {
				t.Fatalf("complete %d interrupted %d, want %d and %d", st.Complete, st.Interrupted, tt.complete, tt.interrupted)
			}
		})
	}
}

// An open model: an unfinished iteration does not delay the next start. Each iteration
// waits until all five have started, which only an open model reaches; starts are never
// before their scheduled time.
func TestArrivalRateStartsOnSchedule(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Duration
	all := make(chan struct{})
	fr := &fakeRunner{iter: func(ctx context.Context, v *fakeVU) error {
		mu.Lock()
		starts = append(starts, time.Since(v.it.Scenario.Start))
		if len(starts) == 5 {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	script := `{"scenarios":{"o":{"executor":"constant-arrival-rate","rate":10,"duration":"500ms","preAllocatedVUs":5,"gracefulStop":"1m"}}}`
	res := runTest(t, context.Background(), fr, script, nil)
	if res.ExitCode() != 0 {
		t.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if st := res.final().Scenarios[0]; len(starts) != 5 || st.Complete != 5 || st.Interrupted != 0 {
		t.Fatalf("%d starts, %d complete, %d interrupted; want 5 complete", len(starts), st.Complete, st.Interrupted)
	}
	for i, s := range starts {
		if s < time.Duration(i)*100*time.Millisecond {
			t.Errorf("start %d at %v, before its schedule", i, s)
		}
	}
}

// A VU that cannot be initialised during the test stops the run as an init error would.
func TestArrivalRateInitErrorMidRun(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(300 * time.Millisecond), initErr: errBoom}
	script := `{"scenarios":{"c":{"executor":"constant-arrival-rate","rate":20,"duration":"1s","preAllocatedVUs":1,"maxVUs":3}}}`
	res := runTest(t, context.Background(), fr, script, nil)
	if res.ExitCode() != ExitScriptError || !strings.Contains(res.stderr, "initialising VU 2") {
		t.Fatalf("Run: %d %v\nstderr: %s", res.ExitCode(), res.Err, res.stderr)
	}
}

// Cancelling the run stops the schedule at once: an external abort, not a wait for the
// duration.
func TestArrivalRateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fr := &fakeRunner{iter: func(ctx context.Context, v *fakeVU) error {
		if v.it.ScenarioIteration == 3 {
			cancel()
		}
		return nil
	}}
	script := `{"scenarios":{"c":{"executor":"constant-arrival-rate","rate":10,"duration":"1m","preAllocatedVUs":2}}}`
	res := runTest(t, ctx, fr, script, nil)
	if res.ExitCode() != ExitExternalAbort {
		t.Fatalf("Run: %d %v", res.ExitCode(), res.Err)
	}
	if fp := res.final(); fp == nil || !fp.Scenarios[0].Aborted || fp.Complete > 10 {
		t.Fatalf("final progress %+v", fp)
	}
}
