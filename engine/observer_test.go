package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// kinds summarises events: phases by name, "progress", "progress(final)",
// "thresholds", "thresholds(final)", "abort(code)"; repeated periodic events collapse.
func kinds(events []Event) []string {
	var out []string
	for _, e := range events {
		var k string
		switch e := e.(type) {
		case PhaseEvent:
			k = e.Phase.String()
		case ProgressEvent:
			k = "progress"
			if e.Final {
				k += "(final)"
			}
		case ThresholdsEvent:
			k = "thresholds"
			if e.Final {
				k += "(final)"
			}
		case AbortEvent:
			k = "abort(" + strconv.Itoa(e.Code) + ")"
		}
		if len(out) > 0 && out[len(out)-1] == k && (k == "progress" || k == "thresholds") {
			continue
		}
		out = append(out, k)
	}
	return out
}

// periodic drops the periodic progress and thresholds events, whose number and
// interleaving depend on timing.
func periodic(ks []string) []string {
	var out []string
	for _, k := range ks {
		if k != "progress" && k != "thresholds" {
			out = append(out, k)
		}
	}
	return out
}

func TestObserverEventOrder(t *testing.T) {
	fr := &fakeRunner{iter: sleepIter(20 * time.Millisecond), exports: map[string]bool{"default": true, "setup": true, "teardown": true}}
	res := runTest(t, context.Background(), fr, `{"vus":2,"duration":"300ms","thresholds":{"iterations":["count>0"],"vus_max":["value<1"]}}`, nil)
	if res.ExitCode() != 99 {
		t.Fatalf("exit %d: %v", res.ExitCode(), res.Err)
	}
	ks := kinds(res.events)
	want := []string{"init", "setup", "running", "teardown", "thresholds(final)", "progress(final)", "done"}
	if diff := cmp.Diff(want, periodic(ks)); diff != "" {
		t.Errorf("events -want +got:\n%s\nall: %v", diff, ks)
	}
	// With 50 ms periods over 300 ms, periodic events come while running.
	var progress, thresholds int
	for _, e := range res.events {
		switch e := e.(type) {
		case ProgressEvent:
			if !e.Final {
				progress++
				if len(e.Scenarios) != 1 || e.Scenarios[0].Name != "default" || e.InitializedVUs != 2 {
					t.Errorf("progress %+v", e.Progress)
				}
			}
		case ThresholdsEvent:
			if !e.Final {
				thresholds++
			}
		}
	}
	if progress == 0 || thresholds == 0 {
		t.Errorf("%d periodic progress and %d thresholds events", progress, thresholds)
	}
	var final ThresholdsEvent
	for _, e := range res.events {
		if th, ok := e.(ThresholdsEvent); ok && th.Final {
			final = th
		}
	}
	if len(final.Thresholds) != 2 {
		t.Fatalf("final thresholds %+v", final)
	}
	pass, fail := final.Thresholds[0], final.Thresholds[1]
	if pass.Key != "iterations" || !pass.OK || pass.Source != "count>0" || pass.Agg != "count" || pass.Observed <= 0 {
		t.Errorf("iterations threshold %+v", pass)
	}
	if fail.Key != "vus_max" || fail.OK || fail.Observed != 2 {
		t.Errorf("vus_max threshold %+v", fail)
	}
	fin := res.final()
	if fin == nil || !fin.Final || len(fin.Scenarios) != 1 || !fin.Scenarios[0].Ended || fin.Scenarios[0].Fraction() != 1 {
		t.Errorf("final progress %+v", fin)
	}
}

func TestObserverAbort(t *testing.T) {
	tests := []struct {
		name   string
		fr     *fakeRunner
		script string
		want   []string
		code   int
		reason string
	}{
		{"test.abort in an iteration", &fakeRunner{iter: func(context.Context, *fakeVU) error { return abortErr("stop now") }}, `{"vus":2,"duration":"10s"}`,
			[]string{"init", "setup", "running", "abort(108)", "teardown", "thresholds(final)", "progress(final)", "done"}, 108, "test aborted: stop now"},
		{"setup error", &fakeRunner{exports: map[string]bool{"default": true, "setup": true}, setupErr: errors.New("Error: no token")}, `{"iterations":1}`,
			[]string{"init", "setup", "abort(107)", "thresholds(final)", "progress(final)", "done"}, 107, "setup: Error: no token"},
		{"init error", &fakeRunner{initErr: errors.New("script error: boom")}, `{"vus":2,"iterations":2}`,
			[]string{"init", "abort(107)", "done"}, 107, "initialising VU 2: script error: boom"},
		{"invalid threshold", &fakeRunner{}, `{"thresholds":{"nope":["count>0"]}}`,
			[]string{"abort(104)", "done"}, 104, `no metric named "nope"`},
		{"abortOnFail", &fakeRunner{iter: sleepIter(5 * time.Millisecond)}, `{"vus":1,"duration":"1m","thresholds":{"iterations":[{"threshold":"count<2","abortOnFail":true}]}}`,
			[]string{"init", "setup", "running", "abort(99)", "teardown", "thresholds(final)", "progress(final)", "done"}, 99, "abortOnFail enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTest(t, context.Background(), tt.fr, tt.script, nil)
			if res.ExitCode() != tt.code {
				t.Fatalf("exit %d, want %d: %v", res.ExitCode(), tt.code, res.Err)
			}
			if diff := cmp.Diff(tt.want, periodic(kinds(res.events))); diff != "" {
				t.Errorf("events -want +got:\n%s", diff)
			}
			var aborts []AbortEvent
			for _, e := range res.events {
				if a, ok := e.(AbortEvent); ok {
					aborts = append(aborts, a)
				}
			}
			if len(aborts) != 1 || aborts[0].Code != tt.code || !strings.Contains(aborts[0].Reason, tt.reason) {
				t.Errorf("aborts %+v, want one with code %d and %q", aborts, tt.code, tt.reason)
			}
		})
	}
}

func TestObserverExternalAbort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	fr := &fakeRunner{iter: func(ictx context.Context, v *fakeVU) error {
		once.Do(cancel)
		return sleepIter(time.Millisecond)(ictx, v)
	}}
	res := runTest(t, ctx, fr, `{"vus":1,"duration":"1m"}`, nil)
	want := []string{"init", "setup", "running", "teardown", "abort(105)", "thresholds(final)", "progress(final)", "done"}
	if diff := cmp.Diff(want, periodic(kinds(res.events))); diff != "" {
		t.Errorf("events -want +got:\n%s", diff)
	}
}

// TestObserversFanOut checks that every observer gets every event, in order.
func TestObserversFanOut(t *testing.T) {
	var a, b recorder
	obs := Observers{&a, &b}
	evs := []Event{PhaseEvent{Phase: PhaseInit}, AbortEvent{Code: 105}, PhaseEvent{Phase: PhaseDone}}
	for _, e := range evs {
		obs.Observe(e)
	}
	if !cmp.Equal(evs, a.all()) || !cmp.Equal(evs, b.all()) {
		t.Errorf("fan-out: %v %v", a.all(), b.all())
	}
	// Through a run, too: both observers get the same events.
	a, b = recorder{}, recorder{}
	res := runTest(t, context.Background(), &fakeRunner{}, `{"iterations":2}`, func(c *Config) { c.Observer = Observers{&a, &b} })
	if res.ExitCode() != 0 || len(a.all()) == 0 || !cmp.Equal(kinds(a.all()), kinds(b.all())) {
		t.Errorf("run fan-out: %v / %v", kinds(a.all()), kinds(b.all()))
	}
}

func TestScenarioProgressFraction(t *testing.T) {
	tests := []struct {
		name string
		st   ScenarioProgress
		want float64
	}{
		{"time-based", ScenarioProgress{Started: true, Elapsed: time.Second, Duration: 10 * time.Second}, 0.1},
		{"ended", ScenarioProgress{Started: true, Ended: true, Elapsed: 3 * time.Second, Duration: 10 * time.Second}, 1},
		{"aborted keeps its progress", ScenarioProgress{Started: true, Ended: true, Aborted: true, Elapsed: 3 * time.Second, Duration: 10 * time.Second}, 0.3},
		{"shared", ScenarioProgress{Started: true, Complete: 4, Interrupted: 1, Shared: 10, Duration: time.Minute}, 0.5},
		{"per VU", ScenarioProgress{Started: true, Complete: 3, MaxVUs: 2, PerVU: 3, Duration: time.Minute}, 0.5},
		{"clamped", ScenarioProgress{Started: true, Elapsed: time.Minute, Duration: time.Second}, 1},
		{"not started", ScenarioProgress{PerVU: 3, MaxVUs: 2}, 0},
	}
	for _, tt := range tests {
		if got := tt.st.Fraction(); got != tt.want {
			t.Errorf("%s: Fraction() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAbortError(t *testing.T) {
	base := errors.New("test aborted: enough")
	err := Abort(base)
	if !IsAbort(err) || !errors.Is(err, base) || err.Error() != base.Error() {
		t.Errorf("Abort(%v) = %v (IsAbort %v)", base, err, IsAbort(err))
	}
	if IsAbort(base) || IsAbort(nil) || Abort(nil) != nil {
		t.Error("IsAbort of a plain error")
	}
	if wrapped := errors.Join(errors.New("x"), err); !IsAbort(wrapped) {
		t.Error("a wrapped abort is not an abort")
	}
}
