package pixel_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/modulestest"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
	"github.com/pixelk6/pixelk6/simulator"
)

// capture records the samples and sums them by tag.
type capture struct{ metricstest.Capture }

// sums returns metric name's sum per value of tag key ("" key: one total under "").
func (c *capture) sums(name, key string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range c.Metric(name) {
		v := ""
		if key != "" {
			v, _ = s.Tags.Get(key)
		}
		out[v] += s.Value
	}
	return out
}

type logs struct{}

func (logs) Log(string, string) {}

// runScript loads src through the real JS runtime and runs iters iterations on each of vus
// VUs (one after the other), returning the samples.
func runScript(t *testing.T, src string, env map[string]string, vus, iters int) *capture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.js")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	builtin := metrics.RegisterBuiltin(reg)
	b, err := js.Load(context.Background(), path, js.LoadOptions{Env: env, Registry: reg, Logger: logs{}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c := &capture{}
	for id := 1; id <= vus; id++ {
		st := &modules.State{
			VUID: uint64(id), VUIDGlobal: uint64(id), Scenario: "default",
			Tags: modules.NewTagMap(nil), Registry: reg, Builtin: builtin, Samples: c,
			Logger: logs{}, Bytes: &modules.ByteCounter{},
		}
		vu, err := b.NewVU(context.Background(), st)
		if err != nil {
			t.Fatalf("NewVU: %v", err)
		}
		for i := range iters {
			st.Iteration = int64(i)
			if err := vu.RunIteration(context.Background(), "default", nil); err != nil {
				vu.Close()
				t.Fatalf("iteration %d of VU %d: %v", i, id, err)
			}
		}
		vu.Close()
	}
	if err := b.Close(); err != nil { // the run's end: closes its stream driver
		t.Fatalf("closing the bundle: %v", err)
	}
	return c
}

func startSim(t *testing.T, mutate func(*simulator.Config)) (*simulator.Server, string, string) {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{} // no model delay: keep the test fast
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, base, "ws" + strings.TrimPrefix(base, "http") + "/ws/pixel-multimodal"
}

// groundTruthBody is the ground-truth script after its imports: labelled prompts streamed
// (sync and async) and posted over REST, checked by pixelsim's counters. The native test
// and the JS twin's run the same body.
const groundTruthBody = `const prompts = [
  { text: 'I feel so lonely and anxious tonight', crisis: true, bias: false },
  { text: 'I want to die, there is no reason to live', crisis: true, bias: false },
  { text: 'women are too emotional to lead and ok boomer', crisis: false, bias: true },
  { text: 'I am going to kill myself tonight, poor people are lazy anyway', crisis: true, bias: true },
  { text: 'the weather is nice and I had a good day', crisis: false, bias: false },
];

export default async function () {
  const p = prompts[(__VU * 3 + __ITER) % prompts.length];
  const expect = { crisis: p.crisis, bias: p.bias };
  const r = pixel.stream(__ENV.WS_URL, { text: p.text, textChunkSize: 12, interval: 1, expect });
  if (!r.ok) throw new Error('stream failed: ' + r.error);
  if (r.chunksAcked !== r.chunks) throw new Error('acks ' + r.chunksAcked + ' of ' + r.chunks);
  const res = http.post(__ENV.BASE_URL + '/api/ai/pixel/infer', JSON.stringify({ prompt: p.text }),
    { headers: { 'Content-Type': 'application/json' } });
  const d = pixel.inspect(res, { expect, tags: { endpoint: 'infer' } });
  if (!d.ok) throw new Error('inspect: ' + d.error);
  const both = await Promise.all([
    pixel.streamAsync(__ENV.WS_URL, { audio: { frames: 5, frameMs: 2 }, encoding: 'binary' }),
    pixel.streamAsync(__ENV.WS_URL, { text: p.text, image: { frames: 2, bytes: 256 }, interval: 1 }),
  ]);
  for (const b of both) {
    if (!b.ok || b.chunksAcked !== b.chunks) throw new Error('async stream: ' + JSON.stringify(b));
  }
}
`

// TestEndToEndCountsMatchGroundTruth streams labelled prompts (sync and async) and posts
// them over REST through pixel.inspect, then checks that the extension's crisis and bias
// counts equal pixelsim's own, and that chunk and session counts match.
func TestEndToEndCountsMatchGroundTruth(t *testing.T) {
	srv, base, wsURL := startSim(t, nil)
	script := "import http from 'k6/http';\nimport pixel from 'k6/x/pixel';\n\n" + groundTruthBody
	c := runScript(t, script, map[string]string{"WS_URL": wsURL, "BASE_URL": base}, 2, 5)
	st := srv.Stats()

	crisis := c.sums("crisis_detections", "risk_level")
	for level, n := range st.Crisis {
		if crisis[level] != float64(n) {
			t.Errorf("crisis_detections{risk_level:%s} = %v, pixelsim counted %d", level, crisis[level], n)
		}
	}
	bias := c.sums("bias_detections", "bias_category")
	for cat, n := range st.Bias {
		if bias[cat] != float64(n) {
			t.Errorf("bias_detections{bias_category:%s} = %v, pixelsim counted %d", cat, bias[cat], n)
		}
	}
	if st.CrisisDetected == 0 || st.BiasDetected == 0 {
		t.Fatalf("the prompts triggered nothing: %+v", st)
	}
	if got := c.sums("chunks_sent", "")[""]; got != float64(st.WSChunksAcked) {
		t.Errorf("chunks_sent %v, pixelsim acked %d", got, st.WSChunksAcked)
	}
	if got := c.sums("stream_sessions", "")[""]; got != float64(st.WSSessionsTotal) || got != 30 {
		t.Errorf("stream_sessions %v, pixelsim sessions %d, want 30", got, st.WSSessionsTotal)
	}
	if got := c.sums("successful_inferences", "")[""]; got != float64(st.WSInferences+st.InferTotal) {
		t.Errorf("successful_inferences %v, pixelsim answered %d + %d", got, st.WSInferences, st.InferTotal)
	}
	if got := c.sums("ws_connection_failed", "")[""]; got != 0 {
		t.Errorf("ws_connection_failed sum %v", got)
	}
	for _, m := range []string{"crisis_recall", "bias_recall", "crisis_false_alarms", "bias_false_alarms"} {
		if len(c.sums(m, "")) == 0 {
			t.Errorf("no %s samples", m)
		}
	}
	// pixelsim's labels are exact: recall 1 and no false alarms.
	if r := c.sums("crisis_false_alarms", "")[""] + c.sums("bias_false_alarms", "")[""]; r != 0 {
		t.Errorf("%v false alarms against an exact labeller", r)
	}
}

// TestEndToEndFailuresReported runs every failure mode the extension can meet from pixelsim
// (and a closed port) through a real script and checks their error tags.
func TestEndToEndFailuresReported(t *testing.T) {
	_, _, dropURL := startSim(t, func(c *simulator.Config) { c.Faults.DropRate = 1 })
	_, _, stallURL := startSim(t, func(c *simulator.Config) { c.Faults.StallRate = 1 })
	script := `
import pixel from 'k6/x/pixel';
export default function () {
  const cases = [
    [__ENV.REFUSED, {}, 'refused'],
    [__ENV.DROP, { text: 'hello' }, 'closed'],
    [__ENV.STALL, { text: 'hello', sessionTimeout: 300 }, 'session_timeout'],
    [__ENV.BADPATH, {}, 'handshake'],
  ];
  for (const [url, opts, kind] of cases) {
    const r = pixel.stream(url, opts);
    if (r.ok || r.errorKind !== kind) throw new Error(url + ': got ' + r.errorKind + ' (' + r.error + '), want ' + kind);
  }
}
`
	c := runScript(t, script, map[string]string{
		"REFUSED": "ws://127.0.0.1:1/ws/pixel-multimodal",
		"DROP":    dropURL, "STALL": stallURL,
		"BADPATH": strings.Replace(dropURL, "/ws/pixel-multimodal", "/health", 1),
	}, 1, 1)
	byErr := c.sums("stream_sessions", "error")
	for _, k := range []string{"refused", "closed", "session_timeout", "handshake"} {
		if byErr[k] != 1 {
			t.Errorf("stream_sessions{error:%s} = %v, want 1 (all: %v)", k, byErr[k], byErr)
		}
	}
	failed := c.sums("ws_connection_failed", "error")
	if failed["refused"] != 1 || failed["handshake"] != 1 || failed[""] != 0 {
		t.Errorf("ws_connection_failed by error %v; want refused and handshake", failed)
	}
}

// TestRunnerEndsTheDriver runs pixel.stream through the real runner: the run's stream driver
// lives until the bundle (the test run) is closed, and its loop goroutine exits then.
func TestRunnerEndsTheDriver(t *testing.T) {
	_, _, wsURL := startSim(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "script.js")
	src := `import pixel from 'k6/x/pixel';
export default function () {
  const r = pixel.stream(__ENV.WS_URL, { text: 'hello there', textChunkSize: 4, interval: 1 });
  if (!r.ok) throw new Error(r.error);
}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const loopRun = "evloop.(*Loop).run("
	reg := metrics.NewRegistry()
	b, err := js.Load(context.Background(), path, js.LoadOptions{Env: map[string]string{"WS_URL": wsURL}, Registry: reg, Logger: logs{}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	st := &modules.State{VUID: 1, VUIDGlobal: 1, Scenario: "default", Tags: modules.NewTagMap(nil),
		Registry: reg, Builtin: metrics.RegisterBuiltin(reg), Samples: &metricstest.Capture{}, Logger: logs{}}
	vu, err := b.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := vu.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	vu.Close()
	// Closing the VU leaves the run's driver: it belongs to the run, so the run's end is
	// what stops its loop. (pixelsim runs event loops too: the driver's is the difference
	// the run's end makes.)
	during := modulestest.CountGoroutines(loopRun)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := modulestest.WaitGoroutines(loopRun, during-1); n != during-1 {
		t.Fatalf("%d event loops after the run ended, want %d: the driver's loop must exit", n, during-1)
	}
}
