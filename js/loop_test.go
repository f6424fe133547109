package js

import (
	"context"
	"errors"
	"testing"
)

func TestEventLoop(t *testing.T) {
	tests := []struct {
		name    string
		first   func(l *eventLoop, log *[]string) error
		want    string
		wantErr bool
	}{
		{
			name:  "no callbacks ends at once",
			first: func(l *eventLoop, log *[]string) error { *log = append(*log, "first"); return nil },
			want:  "first",
		},
		{
			name: "waits for a callback from another goroutine, then its follow-up",
			first: func(l *eventLoop, log *[]string) error {
				enq := l.register()
				go enq(func() error {
					*log = append(*log, "cb1")
					enq2 := l.register()
					enq2(func() error { *log = append(*log, "cb2"); return nil })
					return nil
				})
				return nil
			},
			want: "cb1,cb2",
		},
		{
			name: "callback error ends the run",
			first: func(l *eventLoop, log *[]string) error {
				l.register()(func() error { return errors.New("cb failed") })
				l.register() // never called: the error must not wait for it
				return nil
			},
			wantErr: true,
		},
		{
			name: "enqueue twice runs once",
			first: func(l *eventLoop, log *[]string) error {
				enq := l.register()
				enq(func() error { *log = append(*log, "once"); return nil })
				enq(func() error { *log = append(*log, "twice"); return nil })
				return nil
			},
			want: "once",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newEventLoop()
			var log []string
			err := l.run(context.Background(), func() error { return tc.first(l, &log) })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got := join(log); !tc.wantErr && got != tc.want {
				t.Errorf("log %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEventLoopStaleCallbackDropped(t *testing.T) {
	l := newEventLoop()
	var stale func(func() error)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := l.run(ctx, func() error { stale = l.register(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	ran := false
	stale(func() error { ran = true; return nil })
	if err := l.run(context.Background(), func() error { return nil }); err != nil || ran {
		t.Errorf("stale callback ran=%v err=%v", ran, err)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestResolvePath(t *testing.T) {
	files := map[string]bool{"/s/lib/a.js": true, "/s/lib/b.ts": true, "/s/pkg/index.js": true}
	exists := func(p string) bool { return files[p] }
	tests := []struct{ from, spec, want string }{
		{"/s", "./lib/a.js", "/s/lib/a.js"},
		{"/s/lib", "./a", "/s/lib/a.js"},
		{"/s/lib", "./b", "/s/lib/b.ts"},
		{"/s/x", "../pkg", "/s/pkg/index.js"},
		{"/s", "./missing.js", ""},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := resolvePath(tc.from, tc.spec, exists)
			if got != tc.want || (err != nil) != (tc.want == "") {
				t.Errorf("resolvePath(%q, %q) = %q, %v; want %q", tc.from, tc.spec, got, err, tc.want)
			}
		})
	}
}
