package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPixelsimServes checks the binary the README's demo starts: health, metrics, a labelled
// inference, a JSON error on bad input, and a clean stop on SIGTERM (in startSim's cleanup).
func TestPixelsimServes(t *testing.T) {
	s := startSim(t, "--latency", "0")
	h := s.health(t)
	if h["status"] != "ok" {
		t.Fatalf("/health status = %v, want ok", h["status"])
	}

	resp, err := http.Post(s.URL+"/api/ai/pixel/infer", "application/json",
		strings.NewReader(`{"prompt":"I feel hopeless and my boss says women are too emotional"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("infer: status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{`"risk_level":"medium"`, `"categories":["gender"]`, `"latency_ms"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("infer response lacks %s: %s", want, body)
		}
	}

	resp, err = http.Post(s.URL+"/api/ai/pixel/infer", "application/json", strings.NewReader(`{"prompt":`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
		t.Errorf("bad JSON: status %d body %s, want 400 with a JSON error", resp.StatusCode, body)
	}

	resp, err = http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "# TYPE") {
		t.Errorf("/metrics: status %d, body without Prometheus exposition:\n%.400s", resp.StatusCode, body)
	}

	h = s.health(t)
	if got := num(t, h, "crisis.medium"); got != 1 {
		t.Errorf("ground truth crisis.medium = %v, want 1", got)
	}
	if got := num(t, h, "bias.gender"); got != 1 {
		t.Errorf("ground truth bias.gender = %v, want 1", got)
	}
}

// TestPixelsimRefusesPublicAddr checks that a non-loopback address needs --public.
func TestPixelsimRefusesPublicAddr(t *testing.T) {
	r := run(t, "", timeoutShort, nil, "pixelsim", "--addr", "0.0.0.0:0", "--max-life", "1s")
	if r.Code == 0 || !strings.Contains(r.Stderr, "public") {
		t.Fatalf("exit %d, stderr %q: want a refusal that mentions --public", r.Code, r.Stderr)
	}
}
