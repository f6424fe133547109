// Package logfmt owns pixelk6's log line: k6's logfmt shape,
//
//	time="2026-01-02T15:04:05Z" level=error msg="..." key=value
//
// written by one Logger that the command line, the engine (engine.Logger) and the script
// side (modules.Logger) share. It imports no JavaScript engine.
package logfmt

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Logger writes k6-like logfmt lines. It is safe for concurrent use.
type Logger struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
	// around, when set, wraps every write (the live progress display erases itself
	// around log lines on a terminal).
	around func(write func())
	// Debug enables level=debug lines (k6's --verbose).
	Debug bool
	// Level is the least severe level written: "" (info, or debug with Debug), "debug",
	// "info", "warning" or "error" (k6's --log-output file=PATH,level=LEVEL).
	Level string
	// Format is k6's --log-format: "" or "text" (logfmt), "json" (one JSON object a line,
	// keys sorted: the fields, level, msg, time) or "raw" (the message alone).
	Format string
	// Redact, when set, rewrites every message, field name and field value before it is
	// written (k6/secrets' redaction of secret values).
	Redact func(string) string
}

// New returns a logger writing to w.
func New(w io.Writer) *Logger { return &Logger{w: w, now: time.Now} }

// Log writes one line; it implements modules.Logger. level "warn" is written as k6's
// "warning"; "debug" lines are dropped unless Debug is set.
func (l *Logger) Log(level, msg string) { l.LogFields(level, msg) }

// LogFields writes one line with extra key, value pairs; it implements engine.Logger.
// Write errors are dropped: logging must not fail a VU.
func (l *Logger) LogFields(level, msg string, kv ...string) {
	if level == "warn" {
		level = "warning"
	}
	if min := l.Level; min != "" {
		if severity(level) < severity(min) {
			return
		}
	} else if level == "debug" && !l.Debug {
		return
	}
	if l.Redact != nil {
		msg = l.Redact(msg)
		if len(kv) > 0 {
			red := make([]string, len(kv))
			for i, s := range kv {
				red[i] = l.Redact(s)
			}
			kv = red
		}
	}
	var b strings.Builder
	switch l.Format {
	case "raw":
		b.WriteString(msg)
		b.WriteByte('\n')
		l.write(b.String())
		return
	case "json":
		m := map[string]string{"level": level, "msg": msg, "time": l.now().UTC().Format(time.RFC3339)}
		for i := 0; i+1 < len(kv); i += 2 {
			if _, reserved := m[kv[i]]; !reserved {
				m[kv[i]] = kv[i+1]
			}
		}
		line, _ := json.Marshal(m) // a map of strings always marshals; keys come sorted
		l.write(string(line) + "\n")
		return
	}
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
		b.WriteString(value(kv[i+1]))
	}
	b.WriteByte('\n')
	l.write(b.String())
}

// write writes one line under the lock, through the around wrapper when set.
func (l *Logger) write(line string) {
	l.mu.Lock()
	if l.around != nil {
		l.around(func() { _, _ = io.WriteString(l.w, line) })
	} else {
		_, _ = io.WriteString(l.w, line)
	}
	l.mu.Unlock()
}

// severity orders the levels; an unknown level counts as info.
func severity(level string) int {
	switch level {
	case "trace":
		return 0
	case "debug":
		return 1
	case "warn", "warning":
		return 3
	case "error":
		return 4
	case "fatal", "panic":
		return 5
	}
	return 2
}

// ValidLevel reports whether level is one New's loggers know (for --log-output's level).
func ValidLevel(level string) bool {
	switch level {
	case "trace", "debug", "info", "warning", "warn", "error", "fatal", "panic":
		return true
	}
	return false
}

// SetAround sets (or, with nil, clears) a wrapper of every write. The wrapper must call
// write once; it must not log through l.
func (l *Logger) SetAround(f func(write func())) {
	l.mu.Lock()
	l.around = f
	l.mu.Unlock()
}

// value quotes a field value when it is empty or holds a space, quote, '=' or control.
func value(v string) string {
	if v == "" || strings.ContainsAny(v, " \"=\n\t") {
		return strconv.Quote(v)
	}
	return v
}
