package simulator

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestLatencyQuantile(t *testing.T) {
	ln := Latency{Median: 20 * time.Millisecond, P99: 120 * time.Millisecond}
	tests := []struct {
		name string
		l    Latency
		z    float64
		want time.Duration
	}{
		{"median at z=0", ln, 0, 20 * time.Millisecond},
		{"p99 at z99", ln, z99, 120 * time.Millisecond},
		{"symmetric in log space", ln, -z99, 20 * time.Millisecond * 20 / 120},
		{"fixed ignores z", FixedLatency(50 * time.Millisecond), 3, 50 * time.Millisecond},
		{"zero", Latency{}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.l.Quantile(tt.z)
			if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Quantile(%v) = %v, want %v", tt.z, got, tt.want)
			}
		})
	}
}

// TestLatencySampleDistribution draws from a seeded source and checks the empirical
// median and p99 against the configured ones.
func TestLatencySampleDistribution(t *testing.T) {
	tests := []struct {
		name string
		l    Latency
	}{
		{"default", DefaultConfig().Latency},
		{"narrow", Latency{Median: 50 * time.Millisecond, P99: 60 * time.Millisecond}},
		{"wide", Latency{Median: time.Millisecond, P99: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(42, 7))
			const n = 200_000
			draws := make([]time.Duration, n)
			for i := range draws {
				draws[i] = tt.l.Sample(r)
			}
			slices.Sort(draws)
			within := func(what string, got, want time.Duration, tol float64) {
				if r := float64(got) / float64(want); r < 1-tol || r > 1+tol {
					t.Errorf("%s = %v, want %v ± %.0f%%", what, got, want, tol*100)
				}
			}
			within("median", draws[n/2], tt.l.Median, 0.02)
			within("p99", draws[n*99/100], tt.l.P99, 0.05)
		})
	}
}

func TestLatencySampleFixed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := FixedLatency(50 * time.Millisecond)
	for range 100 {
		if d := l.Sample(r); d != 50*time.Millisecond {
			t.Fatalf("fixed sample = %v", d)
		}
	}
}

func TestParseLatency(t *testing.T) {
	tests := []struct {
		in      string
		want    Latency
		wantErr bool
	}{
		{in: "0", want: Latency{}},
		{in: "none", want: Latency{}},
		{in: "fixed:50ms", want: FixedLatency(50 * time.Millisecond)},
		{in: "50ms", want: FixedLatency(50 * time.Millisecond)},
		{in: "lognormal:20ms,120ms", want: Latency{20 * time.Millisecond, 120 * time.Millisecond}},
		{in: " lognormal:20ms, 120ms ", want: Latency{20 * time.Millisecond, 120 * time.Millisecond}},
		{in: "lognormal:120ms,20ms", wantErr: true},
		{in: "lognormal:20ms", wantErr: true},
		{in: "lognormal:0s,1s", wantErr: true},
		{in: "fixed:-1s", wantErr: true},
		{in: "fixed:abc", wantErr: true},
		{in: "fast", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLatency(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLatency(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ParseLatency(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if err == nil {
				back, err := ParseLatency(got.String())
				if err != nil || back != got {
					t.Errorf("round trip of %v: %v, %v", got, back, err)
				}
			}
		})
	}
}

func FuzzParseLatency(f *testing.F) {
	for _, s := range []string{"0", "fixed:1s", "lognormal:1ms,2ms", "7ms", "lognormal:,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLatency(s)
		if err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLatency(%q) = %v, invalid: %v", s, l, err)
		}
		if back, err := ParseLatency(l.String()); err != nil || back != l {
			t.Fatalf("round trip of %q: %v → %q → %v, %v", s, l, l.String(), back, err)
		}
	})
}

// TestGate checks capacity and queue limit deterministically: capacity 1, queue 1.
func TestGate(t *testing.T) {
	g := newGate(1, 1)
	quit := make(chan struct{})
	ctx := context.Background()
	if err := g.acquire(ctx, quit); err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	got := make(chan error, 1)
	go func() { got <- g.acquire(ctx, quit) }()
	for {
		if _, queued := g.busy(); queued == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := g.acquire(ctx, quit); !errors.Is(err, errOverloaded) {
		t.Fatalf("third acquire = %v, want errOverloaded", err)
	}
	g.release()
	if err := <-got; err != nil {
		t.Fatalf("queued acquire: %v", err)
	}
	if running, queued := g.busy(); running != 1 || queued != 0 {
		t.Errorf("busy = %d running, %d queued; want 1, 0", running, queued)
	}
	// A cancelled waiter leaves the queue.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- g.acquire(cctx, quit) }()
	for {
		if _, queued := g.busy(); queued == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled acquire = %v", err)
	}
	// Closing quit releases a waiter too.
	go func() { got <- g.acquire(ctx, quit) }()
	close(quit)
	if err := <-got; !errors.Is(err, errClosed) {
		t.Errorf("acquire after quit = %v", err)
	}
	g.release()
	if running, queued := g.busy(); running != 0 || queued != 0 {
		t.Errorf("busy at end = %d, %d", running, queued)
	}
	var unlimited *gate
	if err := unlimited.acquire(ctx, quit); err != nil {
		t.Errorf("nil gate: %v", err)
	}
	unlimited.release()
}

func TestOversleepCompensation(t *testing.T) {
	ms := time.Millisecond
	steps := []struct {
		name     string
		est      time.Duration
		late     time.Duration
		wantNext time.Duration
	}{
		{"starts from zero", 0, 800 * time.Microsecond, 50 * time.Microsecond},
		{"moves a sixteenth of the way", 1 * ms, 0, 1*ms - ms/16},
		{"negative lateness counts as zero", 16 * time.Microsecond, -5 * ms, 15 * time.Microsecond},
		{"a stall is capped", 0, 300 * ms, maxOversleep / oversleepWeight},
	}
	for _, c := range steps {
		if got := nextOversleep(c.est, c.late); got != c.wantNext {
			t.Errorf("%s: nextOversleep(%v, %v) = %v, want %v", c.name, c.est, c.late, got, c.wantNext)
		}
	}
	asks := []struct {
		name    string
		d, est  time.Duration
		wantAsk time.Duration
	}{
		{"no estimate", 50 * ms, 0, 50 * ms},
		{"subtracts the estimate", 50 * ms, 600 * time.Microsecond, 50*ms - 600*time.Microsecond},
		{"estimate capped", 50 * ms, 10 * ms, 50*ms - maxOversleep},
		{"never below three quarters", 2 * ms, 1900 * time.Microsecond, 1500 * time.Microsecond},
	}
	for _, c := range asks {
		if got := compensate(c.d, c.est); got != c.wantAsk {
			t.Errorf("%s: compensate(%v, %v) = %v, want %v", c.name, c.d, c.est, got, c.wantAsk)
		}
	}
	// Converges to a steady lateness.
	est := time.Duration(0)
	for range 200 {
		est = nextOversleep(est, 500*time.Microsecond)
	}
	if est < 490*time.Microsecond || est > 500*time.Microsecond {
		t.Errorf("after 200 steps of 500µs lateness the estimate is %v", est)
	}
}
