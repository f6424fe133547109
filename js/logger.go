package js

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TextLogger writes log lines in k6's logfmt shape:
//
//	time="2026-01-02T15:04:05Z" level=info msg="hello" source=console
//
// It is safe for concurrent use (every VU logs through it).
type TextLogger struct {
	mu     sync.Mutex
	w      io.Writer
	source string
	now    func() time.Time
}

var _ modules.Logger = (*TextLogger)(nil)

// NewTextLogger returns a logger writing to w; source is the value of the source field
// ("console" for script output, "" to omit it).
func NewTextLogger(w io.Writer, source string) *TextLogger {
	return &TextLogger{w: w, source: source, now: time.Now}
}

// Log implements modules.Logger. Write errors are dropped: logging must not fail a VU.
func (l *TextLogger) Log(level, msg string) {
	line := fmt.Sprintf("time=%q level=%s msg=%s", l.now().UTC().Format(time.RFC3339), level, strconv.Quote(msg))
	if l.source != "" {
		line += " source=" + l.source
	}
	l.mu.Lock()
	_, _ = io.WriteString(l.w, line+"\n")
	l.mu.Unlock()
}
