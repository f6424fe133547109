package pixel

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// fakeVU is a minimal modules.VU over a bare goja runtime, with an event loop that runs
// callbacks queued through RegisterCallback.
type fakeVU struct {
	ctx     context.Context
	rt      *goja.Runtime
	state   *modules.State
	queue   chan func() error
	pending int
}

func (v *fakeVU) Context() context.Context          { return v.ctx }
func (v *fakeVU) Runtime() *goja.Runtime            { return v.rt }
func (v *fakeVU) InitEnv() *modules.InitEnvironment { return nil }
func (v *fakeVU) State() *modules.State             { return v.state }
func (v *fakeVU) RegisterCallback() func(func() error) {
	v.pending++
	return func(f func() error) { v.queue <- f }
}

// loop runs queued callbacks until none is pending.
func (v *fakeVU) loop() error {
	for v.pending > 0 {
		f := <-v.queue
		v.pending--
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// capture records the samples and sums them by tag.
type capture struct{ metricstest.Capture }

// sum adds the values of metric name's samples whose tags contain every tag of want.
func (c *capture) sum(name string, want map[string]string) (total float64, n int) {
	sub := metrics.NewTagSet(want)
	for _, s := range c.Metric(name) {
		if s.Tags.Contains(sub) {
			total += s.Value
			n++
		}
	}
	return total, n
}

type harness struct {
	vu  *fakeVU
	cap *capture
	reg *metrics.Registry
}

// newHarness returns a VU past its init context with k6/x/pixel bound to the global `pixel`.
func newHarness(t *testing.T, ctx context.Context) *harness {
	t.Helper()
	rt := goja.New()
	rt.SetFieldNameMapper(goja.UncapFieldNameMapper())
	reg := metrics.NewRegistry()
	c := &capture{}
	vu := &fakeVU{ctx: ctx, rt: rt, queue: make(chan func() error, 16)}
	mi := New().NewModuleInstance(vu)
	if err := rt.Set("pixel", mi.Exports().Default); err != nil {
		t.Fatal(err)
	}
	vu.state = &modules.State{
		VUID: 1, VUIDGlobal: 1, Scenario: "default", Group: "::g",
		Tags:     modules.NewTagMap(map[string]string{"suite": "pixel"}),
		Registry: reg, Builtin: metrics.RegisterBuiltin(reg), Samples: c,
		Bytes: &modules.ByteCounter{},
	}
	return &harness{vu: vu, cap: c, reg: reg}
}

func (h *harness) run(t *testing.T, src string) goja.Value {
	t.Helper()
	v, err := h.vu.rt.RunString(src)
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, src)
	}
	return v
}

// pixelServer is a loopback /ws/pixel-multimodal that acks every chunk and answers end
// with a crisis (high) and two bias categories; reject > 0 rejects the upgrade.
func pixelServer(t *testing.T, reject int, noAcks bool) string {
	t.Helper()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reject != 0 {
			http.Error(w, "no", reject)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		n := 0
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			msg := string(data)
			switch {
			case strings.Contains(msg, `"type":"start"`):
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ready"}`))
			case strings.Contains(msg, `"type":"end"`):
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"inference","response":"ok","latency_ms":42,"crisis":{"detected":true,"risk_level":"high","confidence":0.8},"bias":{"detected":true,"categories":["gender","age"],"score":0.5}}`))
			case mt == websocket.BinaryMessage || strings.Contains(msg, `"type":"chunk"`):
				n++
				if !noAcks {
					_ = c.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"chunk_ack","seq":%d,"client_seq":%d}`, n, n))
				}
			}
		}
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/ws/pixel-multimodal"
}
