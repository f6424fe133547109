package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// startServer starts a server on a free loopback port and closes it when the test ends.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, base
}

func do(t *testing.T, method, url, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return res.StatusCode, res.Header, b
}

// eventually polls cond until it holds; the test's own timeout bounds it.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestHTTPErrors(t *testing.T) {
	cfg := Config{MaxBodyBytes: 100}
	_, base := startServer(t, cfg)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown path", "GET", "/nope", "", 404, CodeNotFound},
		{"infer with GET", "GET", PathInfer, "", 405, CodeMethodNotAllowed},
		{"health with POST", "POST", PathHealth, "{}", 405, CodeMethodNotAllowed},
		{"metrics with DELETE", "DELETE", PathMetrics, "", 405, CodeMethodNotAllowed},
		{"bad json", "POST", PathInfer, `{"prompt":`, 400, CodeBadJSON},
		{"not an object", "POST", PathInfer, `[1,2]`, 400, CodeBadJSON},
		{"prompt wrong type", "POST", PathInfer, `{"prompt":5}`, 400, CodeBadJSON},
		{"empty body", "POST", PathInfer, ``, 400, CodeBadJSON},
		{"missing prompt", "POST", PathInfer, `{"user_id":"u"}`, 400, CodeBadRequest},
		{"bad base64", "POST", PathInfer, `{"prompt":"x","audio":"@@@"}`, 400, CodeBadRequest},
		{"bad modality", "POST", PathInfer, `{"prompt":"x","modalities":["smell"]}`, 400, CodeBadRequest},
		{"too large", "POST", PathInfer, `{"prompt":"` + strings.Repeat("a", 200) + `"}`, 413, CodeBodyTooLarge},
		{"ws without upgrade", "GET", PathWS, "", 400, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, tt.method, base+tt.path, tt.body)
			if status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", status, tt.status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var e ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %q: %v", body, err)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("error = %+v, want code %q and a message", e.Error, tt.code)
			}
			if tt.status == 405 && h.Get("Allow") == "" {
				t.Error("405 without Allow header")
			}
		})
	}
}

func TestInferResponse(t *testing.T) {
	s, base := startServer(t, Config{Latency: FixedLatency(time.Millisecond), Model: "m-test"})
	status, _, body := do(t, "POST", base+PathInfer,
		`{"prompt":"I am SUICIDAL, ok boomer","session_id":"s","user_id":"u","modalities":["text","audio"],"audio":"aGVsbG8="}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	// Strict decoding: exactly the documented fields.
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	var got InferResponse
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	want := InferResponse{
		Model:  "m-test",
		Crisis: Crisis{true, RiskHigh, 0.85},
		Bias:   Bias{true, []string{BiasAge}, 0.6},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(InferResponse{}, "ID", "Response", "LatencyMS")); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if got.ID == "" || got.Response == "" || got.LatencyMS < 1 {
		t.Errorf("id %q, response %q, latency_ms %v: want non-empty and ≥ 1 ms", got.ID, got.Response, got.LatencyMS)
	}
	if st := s.Stats(); st.InferTotal != 1 || st.Crisis[RiskHigh] != 1 || st.Bias[BiasAge] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// TestGroundTruth sends a known mix of prompts and checks every per-label count.
func TestGroundTruth(t *testing.T) {
	s, base := startServer(t, Config{})
	prompts := map[string]int{
		"hello":                       3,
		"feeling anxious":             4,
		"I feel worthless":            2,
		"I want to die":               1,
		"this is my goodbye":          5,
		"man up, you are too old to":  2,
		"go back to your country":     1,
		"welfare queen, heathens, ok": 1,
	}
	for p, n := range prompts {
		for range n {
			body, _ := json.Marshal(map[string]string{"prompt": p})
			if status, _, b := do(t, "POST", base+PathInfer, string(body)); status != 200 {
				t.Fatalf("%q: %d %s", p, status, b)
			}
		}
	}
	wantCrisis := map[string]uint64{RiskLow: 4, RiskMedium: 2, RiskHigh: 1, RiskImminent: 5}
	wantBias := map[string]uint64{BiasGender: 2, BiasRace: 1, BiasAge: 2, BiasReligion: 1, BiasDisability: 0, BiasSocioeconomic: 1}
	wantPrimary := map[string]uint64{BiasGender: 2, BiasRace: 1, BiasAge: 0, BiasReligion: 1, BiasDisability: 0, BiasSocioeconomic: 0}
	st := s.Stats()
	if diff := cmp.Diff(wantCrisis, st.Crisis); diff != "" {
		t.Errorf("crisis (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantBias, st.Bias); diff != "" {
		t.Errorf("bias (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPrimary, st.BiasPrimary); diff != "" {
		t.Errorf("bias primary (-want +got):\n%s", diff)
	}
	if st.InferTotal != 19 || st.CrisisDetected != 12 || st.BiasDetected != 4 || st.Status["200"] != 19 {
		t.Errorf("totals: infer %d, crisis %d, bias %d, 200s %d", st.InferTotal, st.CrisisDetected, st.BiasDetected, st.Status["200"])
	}

	// /health and /stats report the same ground truth.
	status, _, body := do(t, "GET", base+PathHealth, "")
	if status != 200 {
		t.Fatalf("health: %d", status)
	}
	var health struct {
		Status           string            `json:"status"`
		UptimeS          float64           `json:"uptime_s"`
		InFlight         *int64            `json:"in_flight"`
		RequestsTotal    uint64            `json:"requests_total"`
		WSSessionsActive *int64            `json:"ws_sessions_active"`
		Crisis           map[string]uint64 `json:"crisis"`
		Bias             map[string]uint64 `json:"bias"`
	}
	if err := json.Unmarshal(body, &health); err != nil {
		t.Fatalf("health %s: %v", body, err)
	}
	if health.Status != "ok" || health.InFlight == nil || health.WSSessionsActive == nil || health.RequestsTotal != 20 {
		t.Errorf("health = %s", body)
	}
	if !cmp.Equal(health.Crisis, wantCrisis) || !cmp.Equal(health.Bias, wantBias) {
		t.Errorf("health labels = %v %v", health.Crisis, health.Bias)
	}
	var viaHTTP Stats
	_, _, body = do(t, "GET", base+PathStats, "")
	if err := json.Unmarshal(body, &viaHTTP); err != nil {
		t.Fatalf("stats %s: %v", body, err)
	}
	if !cmp.Equal(viaHTTP.Crisis, wantCrisis) || viaHTTP.InferTotal != 19 {
		t.Errorf("/stats = %s", body)
	}
}

func TestMetrics(t *testing.T) {
	_, base := startServer(t, Config{})
	do(t, "POST", base+PathInfer, `{"prompt":"I feel hopeless, ok boomer"}`)
	do(t, "GET", base+"/missing", "")
	status, h, body := do(t, "GET", base+PathMetrics, "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", status, h.Get("Content-Type"))
	}
	for _, want := range []string{
		"pixelsim_requests_total 3",
		"pixelsim_infer_total 1",
		`pixelsim_crisis_detections_total{risk_level="medium"} 1`,
		`pixelsim_bias_detections_total{bias_category="age"} 1`,
		`pixelsim_responses_total{code="404"} 1`,
		"pixelsim_in_flight_requests 1",
		"pixelsim_ws_sessions_active 0",
		"pixelsim_inference_duration_seconds_count 1",
		`pixelsim_faults_total{kind="error"} 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestQueueing fills the only worker with a stalled request and checks that the next
// one is refused with 429 and a JSON error, and that the queue admits one when allowed.
func TestQueueing(t *testing.T) {
	tests := []struct {
		name       string
		queueLimit int
		reject     int
	}{
		{"no queue, 429", 0, 0},
		{"no queue, 503", 0, 503},
		{"queue of one", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := startServer(t, Config{Capacity: 1, QueueLimit: tt.queueLimit, RejectStatus: tt.reject,
				Faults: Faults{StallRate: 1}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errs := make(chan error, 2)
			stalled := func() {
				req, _ := http.NewRequestWithContext(ctx, "POST", base+PathInfer, strings.NewReader(`{"prompt":"x"}`))
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					res.Body.Close()
					err = errors.New(res.Status)
				}
				errs <- err
			}
			go stalled()
			eventually(t, "the worker to be busy", func() bool { return s.Stats().Stalled == 1 })
			if tt.queueLimit > 0 {
				go stalled()
				eventually(t, "a queued request", func() bool { return s.Stats().Queued == 1 })
			}
			want := tt.reject
			if want == 0 {
				want = 429
			}
			status, _, body := do(t, "POST", base+PathInfer, `{"prompt":"x"}`)
			if status != want || !strings.Contains(string(body), CodeOverloaded) {
				t.Errorf("over capacity: %d %s, want %d %s", status, body, want, CodeOverloaded)
			}
			if st := s.Stats(); st.Rejected != 1 || st.WorkersBusy != 1 {
				t.Errorf("rejected %d, busy %d", st.Rejected, st.WorkersBusy)
			}
			cancel()
			for range 1 + min(tt.queueLimit, 1) {
				if err := <-errs; !errors.Is(err, context.Canceled) {
					t.Errorf("stalled request ended with %v, want it cancelled", err)
				}
			}
			eventually(t, "the worker to be free", func() bool {
				st := s.Stats()
				return st.WorkersBusy == 0 && st.Queued == 0 && st.InFlight == 0
			})
		})
	}
}

func TestFaultErrorRate(t *testing.T) {
	tests := []struct {
		name   string
		rate   float64
		status int
		want   int
	}{
		{"all fail", 1, 0, 500},
		{"all fail 503", 1, 503, 503},
		{"none fail", 0, 0, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := startServer(t, Config{Faults: Faults{ErrorRate: tt.rate, ErrorStatus: tt.status}})
			for range 20 {
				status, _, body := do(t, "POST", base+PathInfer, `{"prompt":"hello"}`)
				if status != tt.want {
					t.Fatalf("status = %d %s, want %d", status, body, tt.want)
				}
			}
			st := s.Stats()
			if wantErr := uint64(20 * tt.rate); st.ErrorsInjected != wantErr || st.InferTotal != 20-wantErr {
				t.Errorf("errors injected %d, infer %d", st.ErrorsInjected, st.InferTotal)
			}
		})
	}
}

// TestFaultRates checks that partial rates draw about the configured fraction
// (seeded, serial, so the outcome is reproducible).
func TestFaultRates(t *testing.T) {
	s, base := startServer(t, Config{Seed: 3, Faults: Faults{ErrorRate: 0.1, SlowRate: 0.2, SlowExtra: time.Microsecond}})
	const n = 400
	for range n {
		do(t, "POST", base+PathInfer, `{"prompt":"hello"}`)
	}
	st := s.Stats()
	if st.ErrorsInjected < n*4/100 || st.ErrorsInjected > n*16/100 { // ±4 standard deviations
		t.Errorf("errors injected = %d of %d, want about 10%%", st.ErrorsInjected, n)
	}
	if st.SlowTail < n*12/100 || st.SlowTail > n*28/100 {
		t.Errorf("slow tail = %d of %d, want about 20%%", st.SlowTail, n)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"rate above one", Config{Faults: Faults{ErrorRate: 1.5}}},
		{"negative rate", Config{Faults: Faults{DropRate: -0.1}}},
		{"2xx error status", Config{Faults: Faults{ErrorStatus: 200}}},
		{"p99 below median", Config{Latency: Latency{Median: time.Second, P99: time.Millisecond}}},
		{"negative slow extra", Config{Faults: Faults{SlowExtra: -time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

// TestCloseEndsStalledRequests checks that Close does not hang on a stalled request.
func TestCloseEndsStalledRequests(t *testing.T) {
	s, err := New(Config{Faults: Faults{StallRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		res, err := http.Post(base+PathInfer, "application/json", strings.NewReader(`{"prompt":"x"}`))
		if err != nil {
			got <- -1
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	eventually(t, "the stall", func() bool { return s.Stats().Stalled == 1 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if status := <-got; status != http.StatusServiceUnavailable {
		t.Errorf("stalled request got %d, want 503", status)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close succeeded")
	}
}
