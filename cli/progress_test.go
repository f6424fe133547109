package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/internal/logfmt"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestClockAndLines(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{{0, "00.0s"}, {1050 * time.Millisecond, "01.0s"}, {10100 * time.Millisecond, "10.1s"}, {65 * time.Second, "1m05.0s"}, {time.Hour + 2*time.Minute + 3*time.Second, "1h02m03.0s"}}
	for _, tt := range tests {
		if got := clock(tt.d); got != tt.want {
			t.Errorf("clock(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := runningLine(time.Second, 0, 10, 0, 0); got != "running (01.0s), 00/10 VUs, 0 complete and 0 interrupted iterations" {
		t.Errorf("runningLine = %q", got)
	}
	lines := []struct {
		st    engine.ScenarioProgress
		width int
		final bool
		want  string
	}{
		{engine.ScenarioProgress{Name: "pixel_rest", Executor: "ramping-vus", Active: 0, MaxVUs: 10, Started: true, Elapsed: time.Second, Duration: 10 * time.Second}, 10, false,
			"pixel_rest   [  10% ] 00/10 VUs  01.0s/10.0s"},
		{engine.ScenarioProgress{Name: "pixel_rest", Executor: "ramping-vus", Active: 0, MaxVUs: 10, Started: true, Ended: true, Elapsed: 10 * time.Second, Duration: 10 * time.Second}, 10, true,
			"pixel_rest ✓ [ 100% ] 00/10 VUs  10s"},
		{engine.ScenarioProgress{Name: "default", Executor: "constant-vus", Active: 5, MaxVUs: 5, Started: true, Elapsed: time.Second, Duration: 5 * time.Second}, 7, false,
			"default   [  20% ] 5 VUs  1.0s/5s"},
		{engine.ScenarioProgress{Name: "default", Executor: "constant-vus", MaxVUs: 5, Started: true, Ended: true, Elapsed: 5 * time.Second, Duration: 5 * time.Second}, 7, true,
			"default ✓ [ 100% ] 5 VUs  5s"},
		{engine.ScenarioProgress{Name: "a", Executor: "shared-iterations", MaxVUs: 2, Started: true, Complete: 5, Shared: 10, Elapsed: time.Second, Duration: 10 * time.Minute}, 1, false,
			"a   [  50% ] 2 VUs  01.0s/10m0s  5/10 shared iters"},
		{engine.ScenarioProgress{Name: "b", Executor: "per-vu-iterations", MaxVUs: 2, Started: false, PerVU: 3, Duration: 10 * time.Minute}, 1, false,
			"b   [   0% ] waiting"},
		{engine.ScenarioProgress{Name: "c", Executor: "constant-vus", MaxVUs: 2, Started: true, Ended: true, Aborted: true, Elapsed: 2 * time.Second, Duration: 10 * time.Second}, 1, true,
			"c ✗ [  20% ] 2 VUs  2.0s/10s"},
		{engine.ScenarioProgress{Name: "contacts", Executor: "constant-arrival-rate", Active: 2, Allocated: 5, MaxVUs: 50, Rate: 30, Started: true, Elapsed: 10 * time.Second, Duration: 30 * time.Second}, 8, false,
			"contacts   [  33% ] 02/05 VUs  10.0s/30s  30.00 iters/s"},
		{engine.ScenarioProgress{Name: "contacts", Executor: "constant-arrival-rate", Allocated: 7, MaxVUs: 50, Rate: 30, Started: true, Ended: true, Elapsed: 30 * time.Second, Duration: 30 * time.Second}, 8, true,
			"contacts ✓ [ 100% ] 00/07 VUs  30s  30.00 iters/s"},
		{engine.ScenarioProgress{Name: "r", Executor: "ramping-arrival-rate", Active: 3, Allocated: 12, MaxVUs: 100, Rate: 7.5, Started: true, Elapsed: 90 * time.Second, Duration: 9 * time.Minute}, 1, false,
			"r   [  17% ] 003/012 VUs  1m30.0s/9m00.0s  7.50 iters/s"},
	}
	for _, tt := range lines {
		if got := scenarioLine(tt.st, tt.width, tt.final); got != tt.want {
			t.Errorf("scenarioLine = %q\n                want %q", got, tt.want)
		}
	}
}

func TestProgressTTYRedraws(t *testing.T) {
	var buf syncBuffer
	p := newProgress(&buf, true, nil)
	p.Observe(engine.ProgressEvent{})
	p.Observe(engine.ProgressEvent{})
	out := buf.String()
	if strings.Count(out, "running (") != 2 || !strings.Contains(out, "\x1b[1A") {
		t.Fatalf("tty progress %q", out)
	}
}

// TestProgressFinal checks where the final block goes: drawn at once on a terminal, kept
// for after the summary otherwise; other events draw nothing.
func TestProgressFinal(t *testing.T) {
	pr := engine.Progress{Elapsed: 2 * time.Second, InitializedVUs: 1, Complete: 3, Final: true,
		Scenarios: []engine.ScenarioProgress{{Name: "default", Executor: "shared-iterations", MaxVUs: 1, Complete: 3, Shared: 3, Started: true, Ended: true, Elapsed: time.Second, Duration: time.Minute}}}
	want := "\nrunning (02.0s), 0/1 VUs, 3 complete and 0 interrupted iterations\ndefault ✓ [ 100% ] 1 VUs  01.0s/1m0s  3/3 shared iters\n"

	var plain syncBuffer
	p := newProgress(&plain, false, nil)
	p.Observe(engine.PhaseEvent{Phase: engine.PhaseRunning})
	p.Observe(engine.ThresholdsEvent{Final: true})
	p.Observe(engine.ProgressEvent{Progress: pr})
	if plain.String() != "" {
		t.Fatalf("final block drawn before the summary: %q", plain.String())
	}
	p.final()
	if plain.String() != want {
		t.Fatalf("final block\n got %q\nwant %q", plain.String(), want)
	}

	// On a terminal the final block is drawn at once and log lines stop erasing it.
	var tty syncBuffer
	log := logfmt.New(&tty)
	p = newProgress(&tty, true, log)
	p.Observe(engine.ProgressEvent{Progress: engine.Progress{}})
	log.Log("info", "between")
	if !strings.Contains(tty.String(), "\x1b[1A\x1b[J") {
		t.Fatalf("log line did not erase the live block: %q", tty.String())
	}
	p.Observe(engine.ProgressEvent{Progress: pr})
	n := len(tty.String())
	log.Log("info", "after")
	if strings.Contains(tty.String()[n:], "\x1b[") {
		t.Fatalf("log line after the final block erased it: %q", tty.String()[n:])
	}
	p.final()
	if strings.Count(tty.String(), "3 complete") != 1 {
		t.Fatalf("final block drawn twice on a terminal: %q", tty.String())
	}
}
