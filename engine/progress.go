package engine

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress prints the run's progress from one goroutine: on a terminal a block of lines
// redrawn in place, otherwise k6's periodic lines:
//
//	running (01.0s), 00/10 VUs, 0 complete and 0 interrupted iterations
//	pixel_rest   [  10% ] 00/10 VUs  01.0s/10.0s
type progress struct {
	w     io.Writer
	tty   bool
	r     *run
	done  chan struct{}
	exit  sync.WaitGroup
	mu    sync.Mutex // guards drawn and orders redraws with log lines
	drawn int        // lines drawn by the last TTY redraw
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

func newProgress(w io.Writer, tty bool, r *run) *progress {
	return &progress{w: w, tty: tty, r: r, done: make(chan struct{})}
}

// start launches the goroutine; stop ends it.
func (p *progress) start(every time.Duration) {
	if p.tty {
		every = min(every, 200*time.Millisecond)
	}
	p.exit.Add(1)
	go func() {
		defer p.exit.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.print(false)
			case <-p.done:
				return
			}
		}
	}()
}

func (p *progress) stop() {
	close(p.done)
	p.exit.Wait()
	if p.tty {
		p.print(true)
	}
}

// final prints the last block (k6 prints it after the summary when not on a terminal).
func (p *progress) final() {
	if !p.tty {
		p.print(true)
	}
}

func (p *progress) print(final bool) {
	lines := p.lines(time.Now(), final)
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

// scenarioStatus is a snapshot of one scenario for its progress line.
type scenarioStatus struct {
	Name                    string
	Executor                string
	Active, MaxVUs          int64
	Complete, Interrupted   int64
	Elapsed, Duration       time.Duration
	PerVU, Shared           int64 // iteration budgets (0 for time-based)
	Started, Ended, Aborted bool
}

func (p *progress) lines(now time.Time, final bool) []string {
	r := p.r
	var sts []scenarioStatus
	var complete, interrupted int64
	for _, sc := range r.scens {
		st := scenarioStatus{
			Name: sc.name, Executor: sc.cfg.Base().Executor, Active: sc.active.Load(), MaxVUs: int64(sc.plan.MaxVUs),
			Complete: sc.complete.Load(), Interrupted: sc.interrupted.Load(), Duration: sc.plan.Duration,
			PerVU: sc.plan.PerVUIterations, Shared: sc.plan.SharedIterations, Aborted: sc.stoppedEarly.Load(),
		}
		if s := sc.startedAt.Load(); s != 0 {
			st.Started = true
			end := now
			if e := sc.endedAt.Load(); e != 0 {
				st.Ended = true
				end = time.Unix(0, e)
			}
			st.Elapsed = end.Sub(time.Unix(0, s))
		}
		complete += st.Complete
		interrupted += st.Interrupted
		sts = append(sts, st)
	}
	out := []string{runningLine(now.Sub(r.start), r.active.Load(), r.inited.Load(), complete, interrupted)}
	width := 0
	for _, st := range sts {
		width = max(width, len(st.Name))
	}
	for _, st := range sts {
		out = append(out, scenarioLine(st, width, final))
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
func scenarioLine(st scenarioStatus, width int, final bool) string {
	mark := " "
	if final || st.Ended {
		mark = "✓"
		if st.Aborted {
			mark = "✗"
		}
	}
	var frac float64
	switch {
	case st.PerVU > 0:
		frac = float64(st.Complete+st.Interrupted) / float64(st.PerVU*st.MaxVUs)
	case st.Shared > 0:
		frac = float64(st.Complete+st.Interrupted) / float64(st.Shared)
	case st.Duration > 0:
		frac = float64(st.Elapsed) / float64(st.Duration)
	}
	if st.Ended && !st.Aborted {
		frac = 1
	}
	frac = min(max(frac, 0), 1)
	head := fmt.Sprintf("%-*s %s [ %3.0f%% ] ", width, st.Name, mark, frac*100)
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
	case "shared-iterations":
		return head + fmt.Sprintf("%d VUs  %s/%s  %d/%d shared iters", st.MaxVUs, clock(st.Elapsed), st.Duration,
			st.Complete+st.Interrupted, st.Shared)
	}
	return head
}
