package eventloop

import (
	"context"
	"errors"
	"strings"
	"testing"
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
