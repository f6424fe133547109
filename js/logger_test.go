package js

import (
	"strings"
	"testing"
	"time"
)

func TestTextLogger(t *testing.T) {
	var b strings.Builder
	l := NewTextLogger(&b, "console")
	l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	l.Log("info", `say "hi"`)
	want := `time="2026-01-02T03:04:05Z" level=info msg="say \"hi\"" source=console` + "\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
