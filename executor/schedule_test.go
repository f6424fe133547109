package executor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestScheduleOffsets(t *testing.T) {
	st := func(d time.Duration, target int64) Stage { return Stage{Duration: Duration(d), Target: target} }
	tests := []struct {
		name     string
		unit     time.Duration
		start    int64
		stages   []Stage
		total    int64
		offsets  map[int64]time.Duration // n → start of the n-th iteration
		countsAt map[time.Duration]int64 // d → starts in [0, d)
	}{
		{
			name: "constant 10/s", unit: s, start: 10, stages: []Stage{st(2*s, 10)}, total: 20,
			offsets:  map[int64]time.Duration{0: 0, 1: 100 * ms, 10: s, 19: 1900 * ms},
			countsAt: map[time.Duration]int64{0: 0, 1: 1, 100 * ms: 1, 100*ms + 1: 2, s: 10, 2 * s: 20, 3 * s: 20},
		},
		{
			name: "constant 30/s for 30s (k6's example)", unit: s, start: 30, stages: []Stage{st(30*s, 30)}, total: 900,
			offsets: map[int64]time.Duration{0: 0, 3: 100 * ms, 899: 29966666667},
		},
		{
			name: "1 per minute", unit: time.Minute, start: 1, stages: []Stage{st(3*time.Minute, 1)}, total: 3,
			offsets:  map[int64]time.Duration{0: 0, 1: time.Minute, 2: 2 * time.Minute},
			countsAt: map[time.Duration]int64{time.Minute: 1, time.Minute + 1: 2},
		},
		{
			name: "3 per 2s (1.5/s)", unit: 2 * s, start: 3, stages: []Stage{st(2*s, 3)}, total: 3,
			offsets: map[int64]time.Duration{0: 0, 1: 666666667, 2: 1333333333},
		},
		{
			// ∫₀ᵗ t/s² dt = t²/2: iteration n at √(2n) s.
			name: "ramp 0→10/s over 10s", unit: s, start: 0, stages: []Stage{st(10*s, 10)}, total: 50,
			offsets:  map[int64]time.Duration{0: 0, 1: 1414213562, 2: 2 * s, 8: 4 * s, 18: 6 * s, 49: 9899494937},
			countsAt: map[time.Duration]int64{2 * s: 2, 2*s + 1: 3},
		},
		{
			// ∫ = 10t − t²/2: iteration n at 10 − √(100−2n).
			name: "ramp to 0: 10→0/s over 10s", unit: s, start: 10, stages: []Stage{st(10*s, 0)}, total: 50,
			offsets: map[int64]time.Duration{0: 0, 1: 100505063, 18: 2 * s, 32: 4 * s, 49: 8585786438},
		},
		{
			// 0–2s: constant 5/s (10 starts); 2–4s: 5→15/s (20 starts); a jump to 0 for 1s;
			// then 0→2/s over 2s (2 starts: at 5s and 5s+√2).
			name: "rate changes inside and between stages", unit: s, start: 5,
			stages: []Stage{st(2*s, 5), st(2*s, 15), st(0, 0), st(s, 0), st(2*s, 2)}, total: 32,
			offsets: map[int64]time.Duration{
				9: 1800 * ms, 10: 2 * s, 30: 5 * s, 31: 6*s + 414213562,
				// in the ramp 5→15: ∫ = 5e + 2.5e² is 1 at e = 0.1832160s, 5 at e = √3−1
				11: 2*s + 183215957, 15: 2*s + 732050808,
			},
			countsAt: map[time.Duration]int64{2 * s: 10, 4 * s: 30, 4*s + 500*ms: 30, 5 * s: 30, 5*s + 1: 31},
		},
		{
			name: "all zero", unit: s, start: 0, stages: []Stage{st(5*s, 0)}, total: 0,
			offsets: map[int64]time.Duration{},
		},
		{
			// 0.5/s ramping to 1.5/s per minute units: below one per second throughout.
			name: "ramp below one per second", unit: time.Minute, start: 30, stages: []Stage{st(2*time.Minute, 90)}, total: 120,
			offsets: map[int64]time.Duration{0: 0, 1: 1967733539},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := NewSchedule(tt.unit, tt.start, tt.stages)
			if got := sc.Total(); got != tt.total {
				t.Fatalf("Total() = %d, want %d", got, tt.total)
			}
			for n, want := range tt.offsets {
				got, ok := sc.Offset(n)
				if !ok || got != want {
					t.Errorf("Offset(%d) = %v, %v; want %v", n, got, ok, want)
				}
			}
			for d, want := range tt.countsAt {
				if got := sc.Count(d); got != want {
					t.Errorf("Count(%v) = %d, want %d", d, got, want)
				}
			}
			if _, ok := sc.Offset(tt.total); ok {
				t.Errorf("Offset(%d) past the end is ok", tt.total)
			}
			// Offsets are non-decreasing, inside the schedule, and agree with Count.
			prev := time.Duration(-1)
			for n := range tt.total {
				off, ok := sc.Offset(n)
				if !ok || off < prev || off >= sc.Duration() {
					t.Fatalf("Offset(%d) = %v, %v after %v (duration %v)", n, off, ok, prev, sc.Duration())
				}
				if c := sc.Count(off + 1); c < n+1 {
					t.Fatalf("Count(Offset(%d)+1ns) = %d, want ≥ %d", n, c, n+1)
				}
				prev = off
			}
		})
	}
}

func TestArrivalRatePlans(t *testing.T) {
	tests := []struct{ name, json, desc string }{
		{"constant-arrival-rate (k6's example)",
			`{"executor":"constant-arrival-rate","duration":"30s","rate":30,"timeUnit":"1s","preAllocatedVUs":2,"maxVUs":50}`,
			"30.00 iterations/s for 30s (maxVUs: 2-50, gracefulStop: 30s)"},
		{"constant-arrival-rate per minute",
			`{"executor":"constant-arrival-rate","duration":"2m","rate":1,"timeUnit":"1m","preAllocatedVUs":1,"startTime":"5s","exec":"f"}`,
			"0.02 iterations/s for 2m0s (startTime: 5s, maxVUs: 1, gracefulStop: 30s, exec: f)"},
		{"ramping-arrival-rate (k6's example)",
			`{"executor":"ramping-arrival-rate","startRate":300,"timeUnit":"1m","preAllocatedVUs":50,"stages":[{"target":300,"duration":"1m"},{"target":600,"duration":"2m"},{"target":600,"duration":"4m"},{"target":60,"duration":"2m"}]}`,
			"Up to 10.00 iterations/s for 9m0s over 4 stages (maxVUs: 50, gracefulStop: 30s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseScenario("sc", json.RawMessage(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Describe(); got != tt.desc {
				t.Errorf("Describe() = %q, want %q", got, tt.desc)
			}
		})
	}
	c, _ := ParseScenario("sc", json.RawMessage(tests[0].json))
	p := c.Plan()
	if p.Arrival == nil || p.Arrival.Total() != 900 || p.MaxVUs != 50 || p.PreAllocatedVUs != 2 || p.InitialVUs() != 2 ||
		p.Duration != 30*s || p.GracefulStop != 30*s || len(p.Steps) != 0 {
		t.Errorf("plan = %+v", p)
	}
	if vus, d := Summary([]Config{c}); vus != 50 || d != time.Minute {
		t.Errorf("Summary = %d, %v", vus, d)
	}
	c, _ = ParseScenario("sc", json.RawMessage(tests[2].json))
	// 300/min for 1m, 300→600 over 2m, 600 for 4m, 600→60 over 2m.
	if got := c.Plan().Arrival.Total(); got != 300+900+2400+660 {
		t.Errorf("ramping Total() = %d", got)
	}
}

func TestArrivalRateErrors(t *testing.T) {
	tests := []struct{ name, json, err string }{
		{"car no rate", `{"executor":"constant-arrival-rate","duration":"1s","preAllocatedVUs":1}`, "rate is required"},
		{"car zero rate", `{"executor":"constant-arrival-rate","rate":0,"duration":"1s","preAllocatedVUs":1}`, "rate 0 must be more than 0"},
		{"car no duration", `{"executor":"constant-arrival-rate","rate":1,"preAllocatedVUs":1}`, `duration "0s" must be more than 0`},
		{"car no preAllocatedVUs", `{"executor":"constant-arrival-rate","rate":1,"duration":"1s"}`, "preAllocatedVUs is required"},
		{"car maxVUs < preAllocatedVUs", `{"executor":"constant-arrival-rate","rate":1,"duration":"1s","preAllocatedVUs":5,"maxVUs":2}`, "maxVUs (2) must not be less than preAllocatedVUs (5)"},
		{"car no VUs at all", `{"executor":"constant-arrival-rate","rate":1,"duration":"1s","preAllocatedVUs":0}`, "maxVUs must be at least 1"},
		{"car zero timeUnit", `{"executor":"constant-arrival-rate","rate":1,"duration":"1s","preAllocatedVUs":1,"timeUnit":"0s"}`, `timeUnit "0s" must be more than 0`},
		{"car negative preAllocatedVUs", `{"executor":"constant-arrival-rate","rate":1,"duration":"1s","preAllocatedVUs":-1}`, "preAllocatedVUs -1"},
		{"rar no stages", `{"executor":"ramping-arrival-rate","preAllocatedVUs":1}`, "at least one stage"},
		{"rar negative startRate", `{"executor":"ramping-arrival-rate","startRate":-1,"preAllocatedVUs":1,"stages":[{"duration":"1s","target":1}]}`, "startRate -1"},
		{"rar negative target", `{"executor":"ramping-arrival-rate","preAllocatedVUs":1,"stages":[{"duration":"1s","target":-1}]}`, "target -1"},
		{"rar zero length", `{"executor":"ramping-arrival-rate","preAllocatedVUs":1,"stages":[{"duration":"0s","target":1}]}`, "total duration"},
		{"rar maxVUs < preAllocatedVUs", `{"executor":"ramping-arrival-rate","preAllocatedVUs":3,"maxVUs":1,"stages":[{"duration":"1s","target":1}]}`, "maxVUs (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario("sc", json.RawMessage(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want containing %q", err, tt.err)
			}
		})
	}
}

// FuzzSchedule checks the schedule's invariants for any stages: offsets are ordered and
// inside the schedule, and agree with Count.
func FuzzSchedule(f *testing.F) {
	f.Add(int64(1), int64(0), int64(1000), int64(7), int64(500), int64(0), int64(0), int64(3))
	f.Add(int64(60000), int64(1), int64(120000), int64(1), int64(0), int64(5), int64(1000), int64(0))
	f.Add(int64(1000), int64(13), int64(333), int64(0), int64(0), int64(9), int64(777), int64(2))
	f.Fuzz(func(t *testing.T, unitMs, start, d1, r1, d2, r2, d3, r3 int64) {
		if unitMs <= 0 || unitMs > 3_600_000 || start < 0 || start > 1000 {
			return
		}
		var stages []Stage
		for _, st := range [][2]int64{{d1, r1}, {d2, r2}, {d3, r3}} {
			if st[0] < 0 || st[0] > 10_000 || st[1] < 0 || st[1] > 1000 {
				return
			}
			stages = append(stages, Stage{Duration: Duration(time.Duration(st[0]) * ms), Target: st[1]})
		}
		sc := NewSchedule(time.Duration(unitMs)*ms, start, stages)
		total := sc.Total()
		if total > 20000 {
			return
		}
		prev := time.Duration(-1)
		for n := range total {
			off, ok := sc.Offset(n)
			if !ok || off < prev || off < 0 || off >= sc.Duration() {
				t.Fatalf("Offset(%d) = %v, %v after %v (duration %v)", n, off, ok, prev, sc.Duration())
			}
			// Rounded to the ns, Count agrees within one ns either side.
			if c := sc.Count(off + 2); c < n+1 {
				t.Fatalf("Count(Offset(%d)+2ns) = %d", n, c)
			}
			if off > 1 {
				if c := sc.Count(off - 1); c > n {
					t.Fatalf("Count(Offset(%d)-1ns) = %d", n, c)
				}
			}
			prev = off
		}
		if _, ok := sc.Offset(total); ok {
			t.Fatalf("Offset(%d) past the end", total)
		}
	})
}

func BenchmarkScheduleOffset(b *testing.B) {
	sc := NewSchedule(s, 100, []Stage{{Duration(time.Minute), 5000}, {Duration(time.Minute), 5000}, {Duration(time.Minute), 0}})
	total := sc.Total()
	n := int64(0)
	for b.Loop() {
		sc.Offset(n % total)
		n += 7919
	}
}
