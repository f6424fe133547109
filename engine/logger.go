package engine

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// Logger writes k6-like logfmt lines: time="..." level=error msg="..." key=value.
// It is safe for concurrent use.
type Logger struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	// around, when set, wraps every write (the live progress display erases itself
	// around log lines on a terminal).
	around func(write func())
	// Debug enables level=debug lines (k6's --verbose).
	Debug bool
}

var _ modules.Logger = (*Logger)(nil)

// NewLogger returns a logger writing to w.
func NewLogger(w io.Writer) *Logger { return &Logger{w: w, now: time.Now} }

// Log implements modules.Logger.
func (l *Logger) Log(level, msg string) { l.LogFields(level, msg) }

// LogFields writes one line with extra key, value pairs.
func (l *Logger) LogFields(level, msg string, kv ...string) {
	if level == "debug" && !l.Debug {
		return
	}
	if level == "warn" {
		level = "warning"
	}
	var b strings.Builder
	b.WriteString(`time="`)
	b.WriteString(l.now().UTC().Format(time.RFC3339))
	b.WriteString(`" level=`)
	b.WriteString(level)
	b.WriteString(" msg=")
	b.WriteString(strconv.Quote(msg))
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(' ')
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(logValue(kv[i+1]))
	}
	b.WriteByte('\n')
	l.mu.Lock()
	if l.around != nil {
		l.around(func() { io.WriteString(l.w, b.String()) })
	} else {
		io.WriteString(l.w, b.String())
	}
	l.mu.Unlock()
}

// setAround sets (or, with nil, clears) the write wrapper.
func (l *Logger) setAround(f func(write func())) {
	l.mu.Lock()
	l.around = f
	l.mu.Unlock()
}

func logValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \"=\n\t") {
		return strconv.Quote(v)
	}
	return v
}

// rateLimiter lets at most perSecond events through in each one-second window and counts
// the rest. It is pure: the caller passes the time.
type rateLimiter struct {
	mu         sync.Mutex
	perSecond  int
	window     time.Time
	n          int
	suppressed int
}

// allow reports whether an event at now may be logged, and how many events were
// suppressed in the previous windows (reported once, by the first allowed event after them).
func (r *rateLimiter) allow(now time.Time) (ok bool, suppressedBefore int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.window) >= time.Second {
		r.window = now
		r.n = 0
	}
	if r.n >= r.perSecond {
		r.suppressed++
		return false, 0
	}
	r.n++
	s := r.suppressed
	r.suppressed = 0
	return true, s
}

// errorLog logs iteration errors, rate-limited.
type errorLog struct {
	log *Logger
	rl  rateLimiter
	now func() time.Time
}

func newErrorLog(l *Logger, perSecond int) *errorLog {
	return &errorLog{log: l, rl: rateLimiter{perSecond: perSecond}, now: time.Now}
}

func (e *errorLog) iterationError(err error, executor, scenario string) {
	ok, sup := e.rl.allow(e.now())
	if !ok {
		return
	}
	if sup > 0 {
		e.log.LogFields("warning", fmt.Sprintf("%d more iteration errors were not logged (at most %d are logged per second)", sup, e.rl.perSecond))
	}
	e.log.LogFields("error", err.Error(), "executor", executor, "scenario", scenario, "source", "stacktrace")
}

// flush reports errors suppressed at the end of the run.
func (e *errorLog) flush() {
	e.rl.mu.Lock()
	sup := e.rl.suppressed
	e.rl.suppressed = 0
	e.rl.mu.Unlock()
	if sup > 0 {
		e.log.LogFields("warning", fmt.Sprintf("%d more iteration errors were not logged (at most %d are logged per second)", sup, e.rl.perSecond))
	}
}
