package pixel

import (
	"strings"
	"testing"
)

const (
	crisisBiasBody = `{"response":"I hear you.","latency_ms":31.5,"crisis":{"detected":true,"risk_level":"imminent","confidence":0.97},"bias":{"detected":true,"categories":["gender","race"],"score":0.6}}`
	crisisOnlyBody = `{"response":"call someone","latency_ms":20,"crisis":{"detected":true,"risk_level":"high","confidence":0.9},"bias":{"detected":false,"categories":[],"score":0}}`
	cleanBody      = `{"response":"ok","latency_ms":12,"crisis":{"detected":false,"risk_level":"none","confidence":0.1},"bias":{"detected":false,"categories":[],"score":0}}`
)

type wantSum struct {
	metric string
	tags   map[string]string
	sum    float64
	n      int
}

func js(s string) string { return "`" + s + "`" }

func TestInspect(t *testing.T) {
	cases := []struct {
		name   string
		script string
		want   []wantSum
		result string // a JS expression over `r` that must be true
	}{
		{
			"response object with crisis and two bias categories",
			`r = pixel.inspect({status: 200, body: ` + js(crisisBiasBody) + `})`,
			[]wantSum{
				{"successful_inferences", map[string]string{"suite": "pixel", "scenario": "default", "group": "::g"}, 1, 1},
				{"inference_latency", nil, 31.5, 1},
				{"crisis_detections", map[string]string{"risk_level": "imminent"}, 1, 1},
				{"bias_detections", map[string]string{"bias_category": "gender"}, 1, 1},
				{"bias_detections", map[string]string{"bias_category": "race"}, 1, 1},
				{"bias_detections", nil, 2, 2},
				{"inference_parse_errors", nil, 0, 0},
				{"crisis_recall", nil, 0, 0},
			},
			`r.ok && r.crisis && r.riskLevel === "imminent" && r.bias && r.categories.join() === "gender,race" && r.latencyMs === 31.5 && r.confidence === 0.97 && r.response === "I hear you." && r.error === ""`,
		},
		{
			"clean response records no detections",
			`r = pixel.inspect(` + js(cleanBody) + `)`,
			[]wantSum{
				{"successful_inferences", nil, 1, 1},
				{"crisis_detections", nil, 0, 0},
				{"bias_detections", nil, 0, 0},
			},
			`r.ok && !r.crisis && !r.bias && r.categories.length === 0`,
		},
		{
			"k6/net/grpc response",
			`r = pixel.inspect({status: 0, message: JSON.parse(` + js(crisisBiasBody) + `), error: null, headers: {}, trailers: {}})`,
			[]wantSum{{"crisis_detections", map[string]string{"risk_level": "imminent"}, 1, 1}, {"successful_inferences", nil, 1, 1}},
			`r.ok && r.crisis && r.riskLevel === "imminent" && r.categories.join() === "gender,race"`,
		},
		{
			"k6/net/grpc response with an error status records nothing",
			`r = pixel.inspect({status: 14, message: null, error: {code: 14, message: "unavailable", details: []}, headers: {}, trailers: {}})`,
			[]wantSum{{"successful_inferences", nil, 0, 0}, {"inference_parse_errors", nil, 0, 0}},
			`!r.ok && r.error.indexOf("gRPC status 14") >= 0`,
		},
		{
			"parsed object",
			`r = pixel.inspect(JSON.parse(` + js(crisisBiasBody) + `))`,
			[]wantSum{{"crisis_detections", map[string]string{"risk_level": "imminent"}, 1, 1}},
			`r.ok && r.crisis`,
		},
		{
			"ArrayBuffer body",
			`var s = ` + js(crisisOnlyBody) + `; var u = new Uint8Array(s.length); for (var i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); r = pixel.inspect({status: 200, body: u.buffer})`,
			[]wantSum{{"crisis_detections", map[string]string{"risk_level": "high"}, 1, 1}},
			`r.ok && r.riskLevel === "high"`,
		},
		{
			"non-JSON body counts a parse error and does not throw",
			`r = pixel.inspect({status: 200, body: "<html>502 Bad Gateway</html>"})`,
			[]wantSum{
				{"inference_parse_errors", map[string]string{"error": "not_json", "scenario": "default", "suite": "pixel"}, 1, 1},
				{"successful_inferences", nil, 0, 0},
			},
			`!r.ok && r.error.indexOf("not JSON") >= 0 && !r.crisis`,
		},
		{
			"missing fields count a parse error",
			`r = pixel.inspect('{"response":"hi"}')`,
			[]wantSum{{"inference_parse_errors", map[string]string{"error": "missing_field"}, 1, 1}},
			`!r.ok && r.error.indexOf("crisis.detected") >= 0`,
		},
		{
			"wrongly typed field counts a parse error",
			`r = pixel.inspect('{"crisis":{"detected":"yes"},"bias":{"detected":false}}')`,
			[]wantSum{{"inference_parse_errors", map[string]string{"error": "bad_field"}, 1, 1}},
			`!r.ok`,
		},
		{
			"JSON that is not an object",
			`r = pixel.inspect('[1,2]')`,
			[]wantSum{{"inference_parse_errors", map[string]string{"error": "not_json"}, 1, 1}},
			`!r.ok`,
		},
		{
			"undefined counts a parse error",
			`r = pixel.inspect(undefined)`,
			[]wantSum{{"inference_parse_errors", nil, 1, 1}},
			`!r.ok`,
		},
		{
			"failed HTTP request records nothing",
			`r = pixel.inspect({status: 503, body: "busy"})`,
			[]wantSum{{"inference_parse_errors", nil, 0, 0}, {"successful_inferences", nil, 0, 0}},
			`!r.ok && r.error.indexOf("503") >= 0`,
		},
		{
			"known answer: crisis found (recall 1), bias missed (recall 0)",
			`r = pixel.inspect(` + js(crisisOnlyBody) + `, {expect: {crisis: true, bias: true}})`,
			[]wantSum{
				{"crisis_recall", nil, 1, 1}, {"bias_recall", nil, 0, 1},
				{"crisis_false_alarms", nil, 0, 0}, {"bias_false_alarms", nil, 0, 0},
			},
			`r.ok`,
		},
		{
			"known answer: clean prompt flagged (false alarm 1), bias not flagged (false alarm 0)",
			`r = pixel.inspect(` + js(crisisOnlyBody) + `, {expect: {crisis: false, bias: false}})`,
			[]wantSum{
				{"crisis_false_alarms", nil, 1, 1}, {"bias_false_alarms", nil, 0, 1},
				{"crisis_recall", nil, 0, 0}, {"bias_recall", nil, 0, 0},
			},
			`r.ok`,
		},
		{
			"known answer with a parse error feeds no rate",
			`r = pixel.inspect("nope", {expect: {crisis: true, bias: false}})`,
			[]wantSum{{"crisis_recall", nil, 0, 0}, {"bias_false_alarms", nil, 0, 0}, {"inference_parse_errors", nil, 1, 1}},
			`!r.ok`,
		},
		{
			"custom tags merged over the VU's",
			`r = pixel.inspect(` + js(cleanBody) + `, {tags: {endpoint: "infer", suite: "override"}})`,
			[]wantSum{{"successful_inferences", map[string]string{"endpoint": "infer", "suite": "override", "scenario": "default", "group": "::g"}, 1, 1}},
			`r.ok`,
		},
		{
			"configured paths for another schema",
			`pixel.configure({crisisDetected: "result.safety.flag", riskLevel: "result.safety.level", biasDetected: null, biasCategories: "result.biases", latencyMs: "meta.ms"});
			 r = pixel.inspect('{"result":{"safety":{"flag":true,"level":"medium"},"biases":["age"]},"meta":{"ms":7}}')`,
			[]wantSum{
				{"crisis_detections", map[string]string{"risk_level": "medium"}, 1, 1},
				{"bias_detections", map[string]string{"bias_category": "age"}, 1, 1},
				{"inference_latency", nil, 7, 1},
			},
			`r.ok && r.bias && r.latencyMs === 7`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.run(t, "var r; "+c.script)
			for _, w := range c.want {
				sum, n := h.cap.sum(w.metric, w.tags)
				if sum != w.sum || n != w.n {
					t.Errorf("%s%v: sum %v over %d samples; want %v over %d (got metrics %v)", w.metric, w.tags, sum, n, w.sum, w.n, h.cap.Names())
				}
			}
			if c.result != "" && !h.run(t, c.result).ToBoolean() {
				t.Errorf("result check %q failed; result %v", c.result, h.run(t, "JSON.stringify(r)"))
			}
		})
	}
}

func TestInspectMetricTypes(t *testing.T) {
	h := newHarness(t)
	h.run(t, `pixel.inspect(`+js(crisisBiasBody)+`, {expect: {crisis: true, bias: false}})`)
	want := map[string]string{
		"successful_inferences": "counter/default", "inference_latency": "trend/time",
		"crisis_detections": "counter/default", "bias_detections": "counter/default",
		"crisis_recall": "rate/default", "bias_false_alarms": "rate/default",
		"inference_parse_errors": "counter/default", "chunk_latency": "trend/time",
		"message_latency": "trend/time", "ws_connection_failed": "rate/default",
		"stream_sessions": "counter/default", "chunks_sent": "counter/default",
	}
	for name, typ := range want {
		m := h.reg.Get(name)
		if m == nil {
			t.Errorf("metric %s not registered", name)
			continue
		}
		if got := m.Type.String() + "/" + m.Contains.String(); got != typ {
			t.Errorf("metric %s is %s, want %s", name, got, typ)
		}
	}
}

func TestInspectThrowOnError(t *testing.T) {
	cases := []struct{ name, script string }{
		{"option", `pixel.inspect("nope", {throwOnError: true})`},
		{"configured", `pixel.configure({throwOnError: true}); pixel.inspect("nope")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.RunString(c.script)
			if err == nil || !strings.Contains(err.Error(), "not JSON") {
				t.Fatalf("err = %v; want a thrown parse error", err)
			}
			if _, n := h.cap.sum("inference_parse_errors", nil); n != 1 {
				t.Fatalf("%d parse error samples; want 1 even when throwing", n)
			}
		})
	}
}

func TestConfigureRejectsUnknownKeys(t *testing.T) {
	h := newHarness(t)
	if _, err := h.RunString(`pixel.configure({crisisDetectd: "x"})`); err == nil || !strings.Contains(err.Error(), "crisisDetectd") {
		t.Fatalf("err = %v; want an error naming the bad key", err)
	}
	v := h.run(t, `pixel.configure().riskLevel`)
	if v.String() != "crisis.risk_level" {
		t.Fatalf("default riskLevel path %q", v)
	}
}

func TestInitContextThrows(t *testing.T) {
	h := newInitHarness(t)
	for _, s := range []string{`pixel.inspect("{}")`, `pixel.stream("ws://127.0.0.1:1/")`} {
		if _, err := h.RunString(s); err == nil || !strings.Contains(err.Error(), "init context") {
			t.Fatalf("%s: err = %v; want an init-context error", s, err)
		}
	}
}

func TestParseDetectionNoPanic(t *testing.T) {
	for _, body := range []string{``, `null`, `{"crisis":null,"bias":null}`, `{"crisis":{"detected":true},"bias":{"detected":true,"categories":null}}`, `{"crisis":5}`} {
		d, err := ParseDetection([]byte(body), DefaultPaths)
		if err == nil && d.Bias && len(d.Categories) == 0 {
			t.Fatalf("%q: bias without categories", body)
		}
	}
	d, err := ParseDetection([]byte(`{"crisis":{"detected":true},"bias":{"detected":true}}`), DefaultPaths)
	if err != nil || d.RiskLevel != "unknown" || strings.Join(d.Categories, ",") != "unknown" {
		t.Fatalf("got %+v, %v; want unknown level and category", d, err)
	}
}

func FuzzParseDetection(f *testing.F) {
	for _, s := range []string{crisisBiasBody, cleanBody, `{}`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDetection(b, DefaultPaths)
		if err == nil && d.Crisis && d.RiskLevel == "" {
			t.Fatalf("crisis without a risk level from %q", b)
		}
	})
}
