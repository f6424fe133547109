package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/internal/logfmt"
)

// progress is the run's progress display, an engine.Observer of progress events: on a
// terminal a block of lines redrawn in place, otherwise k6's periodic lines:
//
//	running (01.0s), 00/10 VUs, 0 complete and 0 interrupted iterations
//	pixel_rest   [  10% ] 00/10 VUs  01.0s/10.0s
//
// It writes from the engine's progress goroutine, a few lines per event. On a terminal
// the final block is drawn when the engine reports it; otherwise it is kept and printed
// by final, after the summary (as k6 does).
type progress struct {
	w   io.Writer
	tty bool
	// log, when stdout and stderr are both terminals, erases the live block around each
	// log line; the display detaches from it once the final block is drawn.
	log   *logfmt.Logger
	mu    sync.Mutex // guards drawn and last, and orders redraws with log lines
	drawn int        // lines drawn by the last TTY redraw
	last  *engine.Progress
}

var _ engine.Observer = (*progress)(nil)

// newProgress returns the display; with log, it erases itself around log lines.
func newProgress(w io.Writer, tty bool, log *logfmt.Logger) *progress {
	p := &progress{w: w, tty: tty, log: log}
	if log != nil {
		log.SetAround(p.around)
	}
	return p
}

// around erases the live block before a log line is written, so that the next redraw
// starts below the line instead of overwriting it.
func (p *progress) around(write func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		io.WriteString(p.w, fmt.Sprintf("\x1b[%dA\x1b[J", p.drawn))
		p.drawn = 0
	}
	write()
}

// Observe implements engine.Observer: it draws each progress snapshot.
func (p *progress) Observe(e engine.Event) {
	ev, ok := e.(engine.ProgressEvent)
	if !ok {
		return
	}
	if !ev.Final {
		p.print(ev.Progress)
		return
	}
	if p.tty {
		p.print(ev.Progress)
		p.detach()
		return
	}
	p.mu.Lock()
	pr := ev.Progress
	p.last = &pr
	p.mu.Unlock()
}

// detach stops erasing the block around log lines.
func (p *progress) detach() {
	if p.log != nil {
		p.log.SetAround(nil)
	}
}

// final prints the last block when not on a terminal (k6 prints it after the summary).
func (p *progress) final() {
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	if !p.tty && last != nil {
		p.print(*last)
	}
}

func (p *progress) print(pr engine.Progress) {
	lines := progressLines(pr)
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	if p.tty {
		if p.drawn > 0 {
			fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
		}
		for _, l := range lines {
			b.WriteString("\x1b[2K")
			b.WriteString(l)
			b.WriteByte('\n')
		}
		p.drawn = len(lines)
	} else {
		b.WriteByte('\n')
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	io.WriteString(p.w, b.String())
}

// progressLines are the running line and one line per scenario.
func progressLines(pr engine.Progress) []string {
	out := []string{runningLine(pr.Elapsed, pr.ActiveVUs, pr.InitializedVUs, pr.Complete, pr.Interrupted)}
	width := 0
	for _, st := range pr.Scenarios {
		width = max(width, len(st.Name))
	}
	for _, st := range pr.Scenarios {
		out = append(out, scenarioLine(st, width, pr.Final))
	}
	return out
}

// runningLine is "running (01.0s), 00/10 VUs, 0 complete and 0 interrupted iterations".
func runningLine(elapsed time.Duration, active, maxVUs, complete, interrupted int64) string {
	return fmt.Sprintf("running (%s), %s VUs, %d complete and %d interrupted iterations",
		clock(elapsed), vusFraction(active, maxVUs), complete, interrupted)
}

// vusFraction is "03/10": the active count zero-padded to the width of the maximum.
func vusFraction(active, maxVUs int64) string {
	w := len(fmt.Sprint(maxVUs))
	return fmt.Sprintf("%0*d/%d", w, active, maxVUs)
}

// clock formats a run time as k6's progress does: "01.0s", "1m05.0s", "1h02m03.0s".
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(100 * time.Millisecond)
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := float64(d%time.Minute) / float64(time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%04.1fs", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%04.1fs", m, s)
	}
	return fmt.Sprintf("%04.1fs", s)
}

// scenarioLine is one scenario's progress line, e.g.
// "pixel_rest   [  10% ] 00/10 VUs  01.0s/10.0s" or, at the end, "default ✓ [ 100% ] 5 VUs  5s".
func scenarioLine(st engine.ScenarioProgress, width int, final bool) string {
	mark := " "
	if final || st.Ended {
		mark = "✓"
		if st.Aborted {
			mark = "✗"
		}
	}
	head := fmt.Sprintf("%-*s %s [ %3.0f%% ] ", width, st.Name, mark, st.Fraction()*100)
	if !st.Started {
		return head + "waiting"
	}
	done := (final || st.Ended) && !st.Aborted
	switch st.Executor {
	case "constant-vus":
		if done {
			return head + fmt.Sprintf("%d VUs  %s", st.MaxVUs, st.Duration)
		}
		return head + fmt.Sprintf("%d VUs  %.1fs/%s", st.MaxVUs, min(st.Elapsed, st.Duration).Seconds(), st.Duration)
	case "ramping-vus":
		if done {
			return head + fmt.Sprintf("%s VUs  %s", vusFraction(st.Active, st.MaxVUs), st.Duration)
		}
		return head + fmt.Sprintf("%s VUs  %s/%s", vusFraction(st.Active, st.MaxVUs), clock(min(st.Elapsed, st.Duration)), clock(st.Duration))
	case "per-vu-iterations":
		return head + fmt.Sprintf("%d VUs  %s/%s  %d/%d iters, %d per VU", st.MaxVUs, clock(st.Elapsed), st.Duration,
			st.Complete+st.Interrupted, st.PerVU*st.MaxVUs, st.PerVU)
	case "constant-arrival-rate", "ramping-arrival-rate":
		// k6's "02/05 VUs  10.0s/30s  30.00 iters/s": busy of the VUs initialised so far,
		// both padded to maxVUs' width, then the time and the schedule's current rate.
		w := len(fmt.Sprint(st.MaxVUs))
		vus := fmt.Sprintf("%0*d/%0*d VUs", w, st.Active, w, st.Allocated)
		var dur string
		switch {
		case done:
			dur = st.Duration.String()
		case st.Executor == "constant-arrival-rate":
			dur = fmt.Sprintf("%.1fs/%s", min(st.Elapsed, st.Duration).Seconds(), st.Duration)
		default:
			dur = clock(min(st.Elapsed, st.Duration)) + "/" + clock(st.Duration)
		}
		return head + fmt.Sprintf("%s  %s  %.2f iters/s", vus, dur, st.Rate)
	case "shared-iterations":
		return head + fmt.Sprintf("%d VUs  %s/%s  %d/%d shared iters", st.MaxVUs, clock(st.Elapsed), st.Duration,
			st.Complete+st.Interrupted, st.Shared)
	}
	return head
}
