package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// groundTruth compares the k6/x/pixel counters in an NDJSON file with pixelsim's own counts.
func groundTruth(t *testing.T, n ndjson, h map[string]any, inferences string) {
	t.Helper()
	if got, want := n.Sums["successful_inferences"], num(t, h, inferences); got != want || got == 0 {
		t.Errorf("successful_inferences = %v, pixelsim answered %v", got, want)
	}
	for _, lvl := range []string{"low", "medium", "high", "imminent"} {
		got := n.LabelSums["crisis_detections{risk_level="+lvl+"}"]
		if want := num(t, h, "crisis."+lvl); got != want {
			t.Errorf("crisis_detections{risk_level=%s} = %v, pixelsim returned %v", lvl, got, want)
		}
	}
	if got, want := n.Sums["crisis_detections"], num(t, h, "crisis_detected"); got != want || got == 0 {
		t.Errorf("crisis_detections = %v, pixelsim detected %v", got, want)
	}
	bias := h["bias"].(map[string]any)
	total := 0.0
	for cat, v := range bias {
		want := v.(float64)
		total += want
		if got := n.LabelSums["bias_detections{bias_category="+cat+"}"]; got != want {
			t.Errorf("bias_detections{bias_category=%s} = %v, pixelsim returned %v", cat, got, want)
		}
	}
	if got := n.Sums["bias_detections"]; got != total || got == 0 {
		t.Errorf("bias_detections = %v, pixelsim returned %v category labels", got, total)
	}
}

// TestGuideRESTScript runs scripts/k6-rest-inference-load.js for a few seconds against
// pixelsim, then k6verdict with the rest profile: the verdict passes and the extension's
// detection counts equal pixelsim's ground truth exactly.
func TestGuideRESTScript(t *testing.T) {
	s := startSim(t, "--latency", "lognormal:10ms,60ms")
	dir := t.TempDir()
	out := filepath.Join(dir, "rest.json")
	r := run(t, "", timeoutRun, nil, "pixelk6", "run", "--no-color",
		"-e", "API_URL="+s.URL, "-e", "DURATION_SCALE=0.02", "-e", "THINK_TIME=0.02",
		"--out", "json="+out, "scripts/k6-rest-inference-load.js")
	if r.Code != 0 {
		t.Fatalf("pixelk6 exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	n := readNDJSON(t, out)
	groundTruth(t, n, s.health(t), "infer_total")
	if got := n.Points["crisis_recall"]; got == 0 {
		t.Error("no crisis_recall samples: known-answer mode not exercised")
	}
	if n.Sums["inference_parse_errors"] != 0 {
		t.Errorf("inference_parse_errors = %v", n.Sums["inference_parse_errors"])
	}

	v := run(t, dir, timeoutShort, nil, "k6verdict", "--profile", "rest", "--format", "json", out)
	if v.Code != 0 {
		t.Fatalf("k6verdict --profile rest: exit %d, want 0\n%s%s", v.Code, v.Stdout, v.Stderr)
	}
	if !json.Valid([]byte(v.Stdout)) {
		t.Errorf("--format json output is not JSON:\n%s", v.Stdout)
	}
}

// TestGuideGRPCScript runs scripts/k6-grpc-inference-load.js for a few seconds against
// pixelsim's gRPC endpoint, first with the .proto and then by server reflection: exit 0, and
// the extension's detection counts equal pixelsim's ground truth exactly.
func TestGuideGRPCScript(t *testing.T) {
	for _, reflect := range []string{"0", "1"} {
		t.Run("reflect="+reflect, func(t *testing.T) {
			s := startSim(t, "--latency", "lognormal:10ms,60ms", "--grpc-addr", "127.0.0.1:0")
			out := filepath.Join(t.TempDir(), "grpc.json")
			r := run(t, "", timeoutRun, nil, "pixelk6", "run", "--no-color",
				"-e", "GRPC_ADDR="+s.GRPC, "-e", "GRPC_REFLECT="+reflect, "-e", "DURATION_SCALE=0.02", "-e", "THINK_TIME=0.02",
				"--out", "json="+out, "scripts/k6-grpc-inference-load.js")
			if r.Code != 0 {
				t.Fatalf("pixelk6 exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			n := readNDJSON(t, out)
			groundTruth(t, n, s.health(t), "grpc_inferences")
			if got, want := float64(n.Points["grpc_req_duration"]), num(t, s.health(t), "grpc_inferences"); got != want {
				t.Errorf("grpc_req_duration samples = %v, pixelsim answered %v", got, want)
			}
		})
	}
}

// TestGuideWebSocketScript runs scripts/k6-websocket-streaming-load.js with 500 VUs, each
// holding one streaming session at a time (short sessions, one second of think time between
// them, so the chunk rate stays within what two cores shared with pixelsim carry): chunk counts match pixelsim's acks, detections match
// its ground truth, and k6verdict's websocket profile (which needs ≥ 500 VUs) passes.
func TestGuideWebSocketScript(t *testing.T) {
	s := startSim(t, "--latency", "lognormal:10ms,60ms")
	dir := t.TempDir()
	out := filepath.Join(dir, "ws.json.gz")
	r := run(t, "", timeoutRun, nil, "pixelk6", "run", "--no-color",
		"-e", "WS_URL="+s.WS, "-e", "AUDIO_FRAMES=10", "-e", "THINK_TIME=1",
		"--stage", "4s:500,3s:500,2s:0",
		"--out", "json="+out, "scripts/k6-websocket-streaming-load.js")
	if r.Code != 0 {
		t.Fatalf("pixelk6 exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	n := readNDJSON(t, out)
	h := s.health(t)
	groundTruth(t, n, h, "ws_inferences")
	if got, want := n.Sums["chunks_sent"], num(t, h, "ws_chunks_acked"); got != want || got == 0 {
		t.Errorf("chunks_sent = %v, pixelsim acked %v", got, want)
	}
	if got, want := float64(n.Points["chunk_latency"]), num(t, h, "ws_chunks_acked"); got != want {
		t.Errorf("chunk_latency samples = %v, pixelsim acked %v chunks", got, want)
	}
	if got, want := n.Sums["stream_sessions"], num(t, h, "ws_sessions_total"); got != want {
		t.Errorf("stream_sessions = %v, pixelsim saw %v sessions", got, want)
	}
	for _, m := range []string{"ws_connecting", "ws_sessions", "ws_msgs_sent", "ws_msgs_received", "ws_session_duration", "message_latency", "ws_connection_failed"} {
		if n.Points[m] == 0 {
			t.Errorf("no %s samples", m)
		}
	}

	v := run(t, dir, timeoutShort, nil, "k6verdict", "--profile", "websocket", out)
	if v.Code != 0 {
		t.Fatalf("k6verdict --profile websocket: exit %d, want 0\n%s%s", v.Code, v.Stdout, v.Stderr)
	}
}

// TestReferenceWSScript runs k6's ws.js unchanged through k6/ws: exit 0 and the same metric
// names and tag keys as k6's own ws.json.
func TestReferenceWSScript(t *testing.T) {
	s := startSim(t, "--latency", "lognormal:8ms,30ms")
	script, dir := refScript(t, "ws.js")
	out := filepath.Join(dir, "ws.json")
	r := run(t, dir, timeoutRun, nil, "pixelk6", "run", "--no-color",
		"-e", fmt.Sprintf("WS_URL=%s/ws/pixel-multimodal", s.WS), "--out", "json="+out, script)
	if r.Code != 0 {
		t.Fatalf("pixelk6 exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "WEBSOCKET") {
		t.Errorf("summary lacks the WEBSOCKET section:\n%s", r.Stdout)
	}
	got := readNDJSON(t, out)
	want := readNDJSON(t, filepath.Join(refDir(t), "samples", "ws.json"))
	if d := diffShape(want.shape(), got.shape()); d != "" {
		t.Errorf("metric names, types and tag keys differ from k6's ws.json (-k6 +pixelk6):\n%s", d)
	}
}
