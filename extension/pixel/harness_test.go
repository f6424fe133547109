package pixel

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules/modulestest"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// capture sums the samples the VU pushed by tag.
type capture struct{ *metricstest.Capture }

// sum adds the values of metric name's samples whose tags contain every tag of want.
func (c capture) sum(name string, want map[string]string) (total float64, n int) {
	sub := metrics.NewTagSet(want)
	for _, s := range c.Metric(name) {
		if s.Tags.Contains(sub) {
			total += s.Value
			n++
		}
	}
	return total, n
}

// harness is the SDK's fake VU (modulestest) with k6/x/pixel bound to the global `pixel`.
type harness struct {
	*modulestest.Runtime
	cap capture
	reg *metrics.Registry
}

// newHarness returns a VU past its init context (VU tags suite=pixel, group ::g) with a
// fresh root module's instance bound to the global `pixel`.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newInitHarness(t)
	h.MoveToVUContext()
	return h
}

// newInitHarness is newHarness still in the init context.
func newInitHarness(t *testing.T) *harness {
	t.Helper()
	rt := modulestest.New(t)
	rt.State.Group = "::g"
	rt.State.Tags.Set("suite", "pixel")
	rt.Instantiate(New(), "pixel")
	return &harness{Runtime: rt, cap: capture{rt.Samples}, reg: rt.Registry}
}

func (h *harness) run(t *testing.T, src string) goja.Value {
	t.Helper()
	return h.MustRunString(src)
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

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
