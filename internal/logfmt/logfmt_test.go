package logfmt

import (
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name  string
		debug bool
		level string
		msg   string
		kv    []string
		want  string
	}{
		{"fields, quoted as needed", false, "error", `say "hi"`, []string{"source", "console", "scenario", "a b", "empty", ""},
			`time="2026-01-02T03:04:05Z" level=error msg="say \"hi\"" source=console scenario="a b" empty=""` + "\n"},
		{"console line", false, "info", `say "hi"`, []string{"source", "console"},
			`time="2026-01-02T03:04:05Z" level=info msg="say \"hi\"" source=console` + "\n"},
		{"warn is warning", false, "warn", "w", nil, `time="2026-01-02T03:04:05Z" level=warning msg="w"` + "\n"},
		{"debug dropped", false, "debug", "d", nil, ""},
		{"debug with --verbose", true, "debug", "d", nil, `time="2026-01-02T03:04:05Z" level=debug msg="d"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			l := New(&b)
			l.Debug = tt.debug
			l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)).Add(time.Hour) }
			l.LogFields(tt.level, tt.msg, tt.kv...)
			if b.String() != tt.want {
				t.Errorf("got  %q\nwant %q", b.String(), tt.want)
			}
		})
	}
}

func TestAround(t *testing.T) {
	var b strings.Builder
	l := New(&b)
	l.SetAround(func(write func()) { b.WriteString("<"); write(); b.WriteString(">") })
	l.Log("info", "x")
	l.SetAround(nil)
	l.Log("info", "y")
	if got := b.String(); !strings.HasPrefix(got, "<time=") || !strings.Contains(got, "msg=\"x\"\n>time=") {
		t.Fatalf("around: %q", got)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ format, want string }{
		{"", `time="2026-01-02T03:04:05Z" level=info msg="hi there" source=console` + "\n"},
		{"text", `time="2026-01-02T03:04:05Z" level=info msg="hi there" source=console` + "\n"},
		{"json", `{"level":"info","msg":"hi there","source":"console","time":"2026-01-02T03:04:05Z"}` + "\n"},
		{"raw", "hi there\n"},
	}
	for _, tt := range tests {
		t.Run("format="+tt.format, func(t *testing.T) {
			var b strings.Builder
			l := New(&b)
			l.Format = tt.format
			l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
			l.LogFields("info", "hi there", "source", "console")
			if b.String() != tt.want {
				t.Errorf("got  %q\nwant %q", b.String(), tt.want)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		level string
		debug bool
		want  string // the levels written, of debug, info, warning, error
	}{
		{"", false, "info warning error"},
		{"", true, "debug info warning error"},
		{"debug", false, "debug info warning error"},
		{"warning", true, "warning error"},
		{"error", false, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var b strings.Builder
			l := New(&b)
			l.Level, l.Debug, l.Format = tt.level, tt.debug, "raw"
			for _, lv := range []string{"debug", "info", "warn", "error"} {
				l.Log(lv, lv)
			}
			if got := strings.Join(strings.Fields(strings.ReplaceAll(b.String(), "warn", "warning")), " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRedact: Redact rewrites the message and every field name and value, in every format,
// and leaves the caller's fields untouched.
func TestRedact(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"", `time="2026-01-02T03:04:05Z" level=info msg="token ***" source=console error="bad ***"` + "\n"},
		{"json", `{"error":"bad ***","level":"info","msg":"token ***","source":"console","time":"2026-01-02T03:04:05Z"}` + "\n"},
		{"raw", "token ***\n"},
	} {
		var b strings.Builder
		l := New(&b)
		l.Format = c.format
		l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
		l.Redact = func(s string) string { return strings.ReplaceAll(s, "s3cr3t", "***") }
		kv := []string{"source", "console", "error", "bad s3cr3t"}
		l.LogFields("info", "token s3cr3t", kv...)
		if b.String() != c.want {
			t.Errorf("format %q: got  %q\nwant %q", c.format, b.String(), c.want)
		}
		if kv[3] != "bad s3cr3t" {
			t.Errorf("the caller's fields were rewritten: %q", kv)
		}
	}
}
