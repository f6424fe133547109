package ws_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	_ "github.com/pixelk6/pixelk6/js/modules/k6/ws" // registers k6/ws even if package js does not
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
	"github.com/pixelk6/pixelk6/simulator"
)

type logs struct{}

func (logs) Log(string, string) {}

// TestReferenceScriptAgainstPixelsim runs k6's reference script ws.js (the repository's
// testdata/k6-reference/scripts/ws.js) unchanged through
// the real JS runtime against pixelsim, and checks its samples against what samples/ws.json
// shows k6 emitting: 6 messages each way per session, the ws_* tag set, the checks.
func TestReferenceScriptAgainstPixelsim(t *testing.T) {
	src, err := os.ReadFile("../../../../testdata/k6-reference/scripts/ws.js")
	if err != nil {
		t.Fatalf("the reference script is missing from the repository: %v", err)
	}
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	dir := t.TempDir()
	path := filepath.Join(dir, "ws.js")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	builtin := metrics.RegisterBuiltin(reg)
	env := map[string]string{"WS_URL": "ws" + strings.TrimPrefix(base, "http") + "/ws/pixel-multimodal"}
	b, err := js.Load(context.Background(), path, js.LoadOptions{Env: env, Registry: reg, Logger: logs{}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c := &metricstest.Capture{}
	st := &modules.State{VUID: 1, VUIDGlobal: 1, Scenario: "default", Tags: modules.NewTagMap(nil),
		Registry: reg, Builtin: builtin, Samples: c, Logger: logs{}, Bytes: &modules.ByteCounter{}}
	vu, err := b.NewVU(context.Background(), st)
	if err != nil {
		t.Fatalf("NewVU: %v", err)
	}
	defer vu.Close()
	const iters = 3
	for i := range iters {
		st.Iteration = int64(i)
		if err := vu.RunIteration(context.Background(), "default", nil); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
	}

	sums := map[string]float64{}
	checks := map[string]float64{}
	for _, s := range c.Samples() {
		sums[s.Metric.Name] += s.Value
		if s.Metric.Name == "checks" {
			name, _ := s.Tags.Get("check")
			checks[name] += s.Value
		}
		if strings.HasPrefix(s.Metric.Name, "ws_") && s.Metric.Name != "ws_chunk_latency" && s.Metric.Name != "ws_inference_latency" && s.Metric.Name != "ws_inferences" {
			var keys []string
			for _, tg := range s.Tags.Tags() {
				keys = append(keys, tg.Key)
			}
			if k := strings.Join(keys, ","); k != "group,name,scenario,status,subproto,url" {
				t.Fatalf("%s tags %q; k6 has group,name,scenario,status,subproto,url", s.Metric.Name, s.Tags)
			}
		}
	}
	for name, want := range map[string]float64{"ws_sessions": iters, "ws_msgs_sent": 6 * iters, "ws_msgs_received": 6 * iters, "ws_inferences": iters} {
		if sums[name] != want {
			t.Errorf("%s = %v, want %v", name, sums[name], want)
		}
	}
	for _, name := range []string{"ws status is 101", "inference has response"} {
		if checks[name] != iters {
			t.Errorf("check %q passed %v times, want %d", name, checks[name], iters)
		}
	}
	if st := srv.Stats(); st.WSSessionsTotal != iters || st.WSChunksAcked != 5*iters {
		t.Errorf("pixelsim saw %d sessions and %d chunks; want %d and %d", st.WSSessionsTotal, st.WSChunksAcked, iters, 5*iters)
	}
}
