package http

import (
	"testing"
	"time"
)

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    time.Duration
		wantErr bool
	}{
		{"duration string", "10s", 10 * time.Second, false},
		{"ms string", "250ms", 250 * time.Millisecond, false},
		{"bare number string is ms", "1500", 1500 * time.Millisecond, false},
		{"int ms", int64(200), 200 * time.Millisecond, false},
		{"float ms", 0.5, 500 * time.Microsecond, false},
		{"garbage", "soon", 0, true},
		{"wrong type", true, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTimeout(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseTimeout(%v) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func FuzzParseTimeout(f *testing.F) {
	for _, s := range []string{"10s", "1500", "-1s", "1e3", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseTimeout(s) // must not panic
	})
}

func TestStatusSet(t *testing.T) {
	s := &statusSet{single: []int{418}, ranges: [][2]int{{200, 299}}}
	for code, want := range map[int]bool{200: true, 299: true, 300: false, 418: true, 500: false} {
		if got := s.contains(code); got != want {
			t.Errorf("contains(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestClassifyErrorFallback(t *testing.T) {
	code, msg := classifyError(errString("weird"))
	if code != codeGeneric || msg != "weird" {
		t.Errorf("got %d %q", code, msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
