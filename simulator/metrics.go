package simulator

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// initMetrics builds the server's own Prometheus registry: a collector that reads the
// atomic counters at scrape time (so the hot path pays nothing for exposition) and a
// histogram of inference processing time.
func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.latHist = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pixelsim_inference_duration_seconds",
		Help:    "Server-side processing time of answered inferences (REST and WebSocket), queueing included.",
		Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .2, .5, 1, 2.5, 5, 10},
	})
	s.reg.MustRegister(s.latHist, (*statsCollector)(s))
	s.metricsH = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: s.errLog})
}

var (
	descRequests  = prometheus.NewDesc("pixelsim_requests_total", "HTTP requests received, WebSocket upgrades included.", nil, nil)
	descResponses = prometheus.NewDesc("pixelsim_responses_total", "HTTP responses written by pixelsim, by status code.", []string{"code"}, nil)
	descInFlight  = prometheus.NewDesc("pixelsim_in_flight_requests", "HTTP requests being handled (WebSocket sessions excluded).", nil, nil)
	descUptime    = prometheus.NewDesc("pixelsim_uptime_seconds", "Seconds since the server was created.", nil, nil)
	descBusy      = prometheus.NewDesc("pixelsim_workers_busy", "Model workers in use.", nil, nil)
	descQueued    = prometheus.NewDesc("pixelsim_queued_inferences", "Inferences waiting for a worker.", nil, nil)
	descInfer     = prometheus.NewDesc("pixelsim_infer_total", "REST inferences answered with 200.", nil, nil)
	descCrisis    = prometheus.NewDesc("pixelsim_crisis_detections_total", "Crisis detections returned, by risk level.", []string{"risk_level"}, nil)
	descBias      = prometheus.NewDesc("pixelsim_bias_detections_total", "Bias detections returned, by category.", []string{"bias_category"}, nil)
	descWSTotal   = prometheus.NewDesc("pixelsim_ws_sessions_total", "WebSocket sessions accepted.", nil, nil)
	descWSActive  = prometheus.NewDesc("pixelsim_ws_sessions_active", "WebSocket sessions open.", nil, nil)
	descWSChunks  = prometheus.NewDesc("pixelsim_ws_chunks_acked_total", "WebSocket chunks acknowledged.", nil, nil)
	descWSInfer   = prometheus.NewDesc("pixelsim_ws_inferences_total", "Inference messages sent over WebSocket.", nil, nil)
	descWSBad     = prometheus.NewDesc("pixelsim_ws_bad_frames_total", "WebSocket frames answered with an error message.", nil, nil)
	descWSBudget  = prometheus.NewDesc("pixelsim_ws_over_budget_total", "WebSocket sessions closed with 1013 because the text budget was spent.", nil, nil)
	descWSText    = prometheus.NewDesc("pixelsim_ws_text_bytes", "Session text buffered by WebSocket sessions, in bytes (of the text budget).", nil, nil)
	descFaults    = prometheus.NewDesc("pixelsim_faults_total", "Injected faults, by kind.", []string{"kind"}, nil)
	descRejected  = prometheus.NewDesc("pixelsim_rejected_total", "Inferences refused because the worker queue was full.", nil, nil)
)

// statsCollector exposes Server.Stats as Prometheus metrics.
type statsCollector Server

var _ prometheus.Collector = (*statsCollector)(nil)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descResponses, descInFlight, descUptime, descBusy, descQueued,
		descInfer, descCrisis, descBias, descWSTotal, descWSActive, descWSChunks, descWSInfer, descWSBad, descWSBudget, descWSText,
		descFaults, descRejected} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	st := (*Server)(c).Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descRequests, st.RequestsTotal)
	for code, n := range st.Status {
		counter(descResponses, n, code)
	}
	gauge(descInFlight, float64(st.InFlight))
	gauge(descUptime, st.UptimeS)
	gauge(descBusy, float64(st.WorkersBusy))
	gauge(descQueued, float64(st.Queued))
	counter(descInfer, st.InferTotal)
	for i := 1; i < len(riskLevels); i++ {
		counter(descCrisis, st.Crisis[riskLevels[i]], riskLevels[i])
	}
	for _, cat := range biasCategories {
		counter(descBias, st.Bias[cat], cat)
	}
	counter(descWSTotal, st.WSSessionsTotal)
	gauge(descWSActive, float64(st.WSSessionsActive))
	counter(descWSChunks, st.WSChunksAcked)
	counter(descWSInfer, st.WSInferences)
	counter(descWSBad, st.WSBadFrames)
	counter(descWSBudget, st.WSOverBudget)
	gauge(descWSText, float64(st.WSTextBytes))
	counter(descFaults, st.ErrorsInjected, "error")
	counter(descFaults, st.SlowTail, "slow")
	counter(descFaults, st.Stalled, "stall")
	counter(descFaults, st.WSDropped, "ws_drop")
	counter(descRejected, st.Rejected)
}
