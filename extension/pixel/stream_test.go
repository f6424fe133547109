package pixel

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStreamRecordsSessionMetrics(t *testing.T) {
	url := pixelServer(t, 0, false)
	h := newHarness(t)
	h.run(t, `var r = pixel.stream("`+url+`", {audio: {frames: 40, frameMs: 1, sampleRate: 16000}, tags: {flow: "a"}, expect: {crisis: true, bias: false}})`)
	if !h.run(t, `r.ok && r.status === 101 && r.chunks === 40 && r.chunksSent === 40 && r.chunksAcked === 40 && r.chunkLatencies.length === 40 && r.messageLatencyMs > 0 && r.inference.crisis && r.inference.riskLevel === "high" && r.errorKind === ""`).ToBoolean() {
		t.Fatalf("result %v", h.run(t, `JSON.stringify(r)`))
	}
	tags := map[string]string{"flow": "a", "suite": "pixel", "scenario": "default", "url": url}
	for _, w := range []wantSum{
		{"chunk_latency", map[string]string{"status": "101", "subproto": "", "flow": "a"}, -1, 40},
		{"chunks_sent", tags, 40, -1},
		{"ws_msgs_sent", tags, 42, -1}, // start + 40 chunks + end
		{"ws_msgs_received", tags, 42, -1},
		{"ws_sessions", tags, 1, 1},
		{"ws_connecting", tags, -1, 1},
		{"ws_session_duration", tags, -1, 1},
		{"stream_sessions", tags, 1, 1},
		{"ws_connection_failed", tags, 0, 1},
		{"message_latency", tags, -1, 1},
		{"crisis_detections", map[string]string{"risk_level": "high", "flow": "a"}, 1, 1},
		{"bias_detections", nil, 2, 2},
		{"successful_inferences", nil, 1, 1},
		{"inference_latency", nil, 42, 1},
		{"crisis_recall", nil, 1, 1},
		{"bias_false_alarms", nil, 1, 1},
	} {
		sum, n := h.cap.sum(w.metric, w.tags)
		if (w.sum >= 0 && sum != w.sum) || (w.n >= 0 && n != w.n) {
			t.Errorf("%s%v: sum %v over %d samples; want %v over %d", w.metric, w.tags, sum, n, w.sum, w.n)
		}
	}
	if _, n := h.cap.sum("stream_sessions", map[string]string{"error": "refused"}); n != 0 {
		t.Errorf("a successful session has an error tag")
	}
	if h.State.Bytes.Sent.Load() == 0 || h.State.Bytes.Received.Load() == 0 {
		t.Errorf("bytes not counted: %d sent, %d received", h.State.Bytes.Sent.Load(), h.State.Bytes.Received.Load())
	}
	// 40 acks plus counters must not be 100+ pushes: the recorder batches.
	if len(h.cap.Batches()) > 20 {
		t.Errorf("%d pushes for one 40-chunk session; want batching", len(h.cap.Batches()))
	}
}

func TestStreamFailuresAreCountedAndReturned(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + l.Addr().String() + "/ws"
	l.Close()
	cases := []struct {
		name, url, opts, kind string
		connectFailed         bool
		status                string
	}{
		{"refused", refused, `{}`, "refused", true, ""},
		{"handshake rejected", pixelServer(t, 403, false), `{}`, "handshake", true, "403"},
		{"no acks", pixelServer(t, 0, true), `{chunks: 3, ackTimeout: 100}`, "ack_timeout", false, "101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.run(t, `var r = pixel.stream("`+c.url+`", `+c.opts+`)`)
			if !h.run(t, `!r.ok && r.errorKind === "`+c.kind+`" && r.error.indexOf("`+c.kind+`") === 0`).ToBoolean() {
				t.Fatalf("result %v; want errorKind %s", h.run(t, `JSON.stringify(r)`), c.kind)
			}
			tags := map[string]string{"error": c.kind}
			if c.status != "" {
				tags["status"] = c.status
			}
			if _, n := h.cap.sum("stream_sessions", tags); n != 1 {
				t.Errorf("stream_sessions%v: %d samples, want 1", tags, n)
			}
			wantFailed := 0.0
			if c.connectFailed {
				wantFailed = 1
			}
			if sum, n := h.cap.sum("ws_connection_failed", nil); sum != wantFailed || n != 1 {
				t.Errorf("ws_connection_failed: %v over %d; want %v over 1", sum, n, wantFailed)
			}
			if _, n := h.cap.sum("ws_session_duration", nil); (n == 1) == c.connectFailed {
				t.Errorf("ws_session_duration: %d samples for a session that connected=%v", n, !c.connectFailed)
			}
		})
	}
}

func TestStreamInvalidOptionsThrow(t *testing.T) {
	h := newHarness(t)
	for _, s := range []string{
		`pixel.stream("ws://127.0.0.1:1/", {encoding: "xml"})`,
		`pixel.stream("ws://127.0.0.1:1/", {ackTimeout: "soon"})`,
		`pixel.stream("ws://127.0.0.1:1/", {audio: {frames: -1}})`,
		`pixel.stream()`,
	} {
		if _, err := h.RunString(s); err == nil {
			t.Errorf("%s: did not throw", s)
		}
	}
}

func TestStreamAsyncConcurrentSessions(t *testing.T) {
	url := pixelServer(t, 0, false)
	h := newHarness(t)
	h.run(t, `var results = [];
		for (var i = 0; i < 3; i++) {
			pixel.streamAsync("`+url+`", {text: "I feel hopeless and alone today", textChunkSize: 8, interval: 1})
				.then(function (r) { results.push(r); });
		}`)
	if !h.run(t, `results.length === 3 && results.every(function (r) { return r.ok && r.chunks === 5 && r.chunksAcked === 5 && r.inference.crisis; })`).ToBoolean() {
		t.Fatalf("results %v", h.run(t, `JSON.stringify(results)`))
	}
	if sum, _ := h.cap.sum("stream_sessions", nil); sum != 3 {
		t.Fatalf("stream_sessions %v; want 3", sum)
	}
	if sum, _ := h.cap.sum("chunks_sent", nil); sum != 15 {
		t.Fatalf("chunks_sent %v; want 15", sum)
	}
}

func TestStreamReturnsOnVUCancel(t *testing.T) {
	url := pixelServer(t, 0, false)
	h := newHarness(t)
	time.AfterFunc(100*time.Millisecond, h.Cancel)
	// 10 000 chunks at 10 ms would take 100 s; the cancel must end it.
	h.run(t, `var r = pixel.stream("`+url+`", {chunks: 10000, interval: 10})`)
	if !h.run(t, `!r.ok && r.errorKind === "canceled" && r.chunksSent < 10000`).ToBoolean() {
		t.Fatalf("result %v", h.run(t, `JSON.stringify({ok: r.ok, kind: r.errorKind, sent: r.chunksSent})`))
	}
	// A session has no goroutine of its own; nothing of the stream package may still run
	// but the driver's loop (a goroutine may still be finishing its exit: wait, bounded).
	buf := make([]byte, 1<<20)
	for i := 0; ; i++ {
		n := runtime.Stack(buf, true)
		if !strings.Contains(string(buf[:n]), "stream.(*") {
			break
		}
		if i == 2000 { // 10 s: a busy machine may be slow to let goroutines exit
			t.Fatalf("a stream goroutine outlived pixel.stream:\n%s", buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStreamOptionsFromJS(t *testing.T) {
	url := pixelServer(t, 0, true) // a server that never acks
	cases := []struct {
		name, opts, check string
	}{
		{"PCM from an ArrayBuffer fills frames", `{acks: false, audio: {frameMs: 10, sampleRate: 8000, data: new ArrayBuffer(400)}, interval: 1}`,
			`r.ok && r.chunks === 3 && r.chunksSent === 3 && r.chunksAcked === 0`},
		{"acks off waits only for the inference", `{acks: false, chunks: 4, chunkSize: 32, interval: "1ms", encoding: "binary"}`,
			`r.ok && r.chunksSent === 4 && r.inference !== null && r.messageLatencyMs >= 0`},
		{"start off", `{acks: false, start: false, text: "a b c", textChunkSize: 1, interval: 0}`,
			`r.ok && r.msgsSent === 4`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.run(t, `var r = pixel.stream("`+url+`", `+c.opts+`)`)
			if !h.run(t, c.check).ToBoolean() {
				t.Fatalf("%s failed: %v", c.check, h.run(t, `JSON.stringify(r)`))
			}
		})
	}
}

func TestOptionsRejectUnknownKeys(t *testing.T) {
	for _, c := range []struct{ script, key string }{
		{`pixel.stream("ws://127.0.0.1:1/", {ackTimout: "1s"})`, "ackTimout"},
		{`pixel.stream("ws://127.0.0.1:1/", {audio: {frams: 2}})`, "audio.frams"},
		{`pixel.streamAsync("ws://127.0.0.1:1/", {textChunk: 2})`, "textChunk"},
		{`pixel.inspect("{}", {expct: {crisis: true}})`, "expct"},
		{`pixel.inspect("{}", {expect: {crises: true}})`, "expect.crises"},
	} {
		h := newHarness(t)
		_, err := h.RunString(c.script)
		if err == nil || !strings.Contains(err.Error(), `"`+c.key+`"`) {
			t.Errorf("%s: err = %v; want an error naming %q", c.script, err, c.key)
		}
		if n := len(h.Samples.Samples()); n != 0 {
			t.Errorf("%s: %d samples pushed for rejected options", c.script, n)
		}
	}
}

func TestStreamHonoursSystemTags(t *testing.T) {
	url := pixelServer(t, 0, false)
	reject := pixelServer(t, 403, false)
	h := newHarness(t)
	h.State.Options.SystemTags = []string{"group"} // no scenario, url, status, subproto, error
	h.run(t, `pixel.stream("`+url+`", {text: "I feel hopeless", textChunkSize: 8, interval: 1, tags: {flow: "x"}});
		pixel.stream("`+reject+`", {text: "a", interval: 1})`)
	if len(h.Samples.Samples()) == 0 {
		t.Fatal("no samples")
	}
	for _, s := range h.Samples.Samples() {
		for _, k := range []string{"scenario", "url", "status", "subproto", "error"} {
			if v, ok := s.Tags.Get(k); ok {
				t.Errorf("%s has system tag %s=%q that systemTags excludes", s.Metric.Name, k, v)
			}
		}
		if v, _ := s.Tags.Get("group"); v != "::g" {
			t.Errorf("%s group tag %q, want ::g", s.Metric.Name, v)
		}
		if v, _ := s.Tags.Get("suite"); v != "pixel" {
			t.Errorf("%s lost the VU tag suite", s.Metric.Name)
		}
	}
	if sum, _ := h.cap.sum("ws_connection_failed", nil); sum != 1 {
		t.Errorf("ws_connection_failed sum %v, want 1 (the rejected session)", sum)
	}
}
