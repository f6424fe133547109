package eventloop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoop(t *testing.T) {
	tests := []struct {
		name    string
		first   func(l *Loop, log *[]string) error
		want    string
		wantErr bool
	}{
		{
			name:  "no callbacks ends at once",
			first: func(l *Loop, log *[]string) error { *log = append(*log, "first"); return nil },
			want:  "first",
		},
		{
			name: "waits for a callback from another goroutine, then its follow-up",
			first: func(l *Loop, log *[]string) error {
				enq := l.Register()
				go enq(func() error {
					*log = append(*log, "cb1")
					enq2 := l.Register()
					enq2(func() error { *log = append(*log, "cb2"); return nil })
					return nil
				})
				return nil
			},
			want: "cb1,cb2",
		},
		{
			name: "callback error ends the run",
			first: func(l *Loop, log *[]string) error {
				l.Register()(func() error { return errors.New("cb failed") })
				l.Register() // never called: the error must not wait for it
				return nil
			},
			wantErr: true,
		},
		{
			name: "first's error ends the run",
			first: func(l *Loop, log *[]string) error {
				l.Register() // never called
				return errors.New("first failed")
			},
			wantErr: true,
		},
		{
			name: "enqueue twice runs once",
			first: func(l *Loop, log *[]string) error {
				enq := l.Register()
				enq(func() error { *log = append(*log, "once"); return nil })
				enq(func() error { *log = append(*log, "twice"); return nil })
				return nil
			},
			want: "once",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			var log []string
			err := l.Run(context.Background(), func() error { return tc.first(l, &log) })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got := strings.Join(log, ","); !tc.wantErr && got != tc.want {
				t.Errorf("log %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaleCallbackDropped(t *testing.T) {
	l := New()
	var stale func(func() error)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := l.Run(ctx, func() error { stale = l.Register(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	ran := false
	stale(func() error { ran = true; return nil })
	if err := l.Run(context.Background(), func() error { return nil }); err != nil || ran {
		t.Errorf("stale callback ran=%v err=%v", ran, err)
	}
}

// TestCheck: SetCheck's function runs after first and after each batch of callbacks; its
// error ends the run before the callbacks still pending.
func TestCheck(t *testing.T) {
	l := New()
	var log []string
	l.SetCheck(func() error {
		log = append(log, "check")
		if len(log) > 0 && strings.Contains(strings.Join(log, ","), "cb1") {
			return errors.New("stop")
		}
		return nil
	})
	err := l.Run(context.Background(), func() error {
		log = append(log, "first")
		enq := l.Register()
		enq(func() error {
			log = append(log, "cb1")
			enq2 := l.Register()
			enq2(func() error { log = append(log, "cb2"); return nil })
			return nil
		})
		return nil
	})
	if err == nil || err.Error() != "stop" {
		t.Fatalf("err = %v, want the check's", err)
	}
	if got := strings.Join(log, ","); got != "first,check,cb1,check" {
		t.Errorf("order %s", got)
	}
}

// TestTimers: timers run in due order (ties in scheduling order), keep the run going,
// can be stopped and rescheduled, interleave with callbacks, and an error ends the run.
func TestTimers(t *testing.T) {
	tests := []struct {
		name    string
		first   func(l *Loop, log *[]string) error
		want    string
		wantErr string
	}{
		{
			name: "due order, ties in scheduling order",
			first: func(l *Loop, log *[]string) error {
				add := func(s string) func() error { return func() error { *log = append(*log, s); return nil } }
				// Due times from one instant, so that the order does not depend on how fast
				// these lines run.
				base := time.Now()
				at := func(d time.Duration, s string) { l.AfterFunc(time.Hour, add(s)).ResetAt(base.Add(d)) }
				at(3*time.Millisecond, "c")
				at(0, "a1")
				at(0, "a2")
				at(time.Millisecond, "b")
				at(0, "a3")
				l.AfterFunc(-time.Second, add("d")).ResetAt(base.Add(5 * time.Millisecond))
				return nil
			},
			want: "a1,a2,a3,b,c,d",
		},
		{
			name: "a negative delay is no delay",
			first: func(l *Loop, log *[]string) error {
				l.AfterFunc(-time.Second, func() error { *log = append(*log, "ran"); return nil })
				return nil
			},
			want: "ran",
		},
		{
			name: "a stopped timer never runs and does not hold the run",
			first: func(l *Loop, log *[]string) error {
				tm := l.AfterFunc(time.Hour, func() error { *log = append(*log, "late"); return nil })
				l.AfterFunc(0, func() error {
					*log = append(*log, fmt.Sprint("stop ", tm.Stop(), " ", tm.Stop()))
					return nil
				})
				return nil
			},
			want: "stop true false",
		},
		{
			name: "an interval reschedules itself",
			first: func(l *Loop, log *[]string) error {
				n := 0
				var tm *Timer
				tm = l.AfterFunc(0, func() error {
					n++
					*log = append(*log, fmt.Sprint("tick", n))
					if n < 3 {
						tm.ResetAt(time.Now().Add(time.Millisecond))
					}
					return nil
				})
				return nil
			},
			want: "tick1,tick2,tick3",
		},
		{
			name: "a callback from another goroutine runs while a timer waits",
			first: func(l *Loop, log *[]string) error {
				enq := l.Register()
				tm := l.AfterFunc(time.Hour, func() error { *log = append(*log, "late"); return nil })
				go enq(func() error { *log = append(*log, "cb"); tm.Stop(); return nil })
				return nil
			},
			want: "cb",
		},
		{
			name: "a timer's error ends the run and drops the rest",
			first: func(l *Loop, log *[]string) error {
				l.AfterFunc(0, func() error { return errors.New("timer failed") })
				l.AfterFunc(time.Millisecond, func() error { *log = append(*log, "after"); return nil })
				l.Register() // never called
				return nil
			},
			wantErr: "timer failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New()
			var log []string
			err := l.Run(context.Background(), func() error { return tt.first(l, &log) })
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(log, ","); got != tt.want {
				t.Errorf("ran %q, want %q", got, tt.want)
			}
			if len(l.timers) != 0 {
				t.Errorf("%d timers left after the run", len(l.timers))
			}
		})
	}
}

// TestTimerContext: a run waiting for a timer ends with its context.
func TestTimerContext(t *testing.T) {
	l := New()
	ctx, cancel := context.WithCancel(context.Background())
	err := l.Run(ctx, func() error {
		l.AfterFunc(time.Hour, func() error { return errors.New("ran") })
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The next run starts clean.
	if err := l.Run(context.Background(), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestSlot: a held slot keeps the run going; its wake-ups coalesce while one is queued, run
// again when woken during its run, and stop with Release; a slot of an ended run is dead.
func TestSlot(t *testing.T) {
	l := New()
	var log []string
	var s *Slot
	n := 0
	err := l.Run(context.Background(), func() error {
		s = l.Hold(func() error {
			n++
			log = append(log, fmt.Sprint("run", n))
			switch n {
			case 1:
				s.Wake() // during the run: runs again
			case 2:
				s.Release()
				s.Wake() // after Release: ignored
			}
			return nil
		})
		go func() { s.Wake(); s.Wake() }() // the second coalesces with the first (or runs it again: both are fine below)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, ","); got != "run1,run2" {
		t.Errorf("ran %q, want run1,run2", got)
	}
	// The slot belonged to that run: a wake-up now does nothing, and a new run ends at once.
	s.Wake()
	if err := l.Run(context.Background(), func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("ran %d times, want 2", n)
	}
}

// TestSlotContext: a held slot that is never released keeps the run until its context ends.
func TestSlotContext(t *testing.T) {
	l := New()
	ctx, cancel := context.WithCancel(context.Background())
	err := l.Run(ctx, func() error {
		l.Hold(func() error { return nil })
		go cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
