package metrics

// Builtin holds k6's built-in metrics, registered once per test run. Names, types and value
// types are k6's.
type Builtin struct {
	VUs, VUsMax                     *Metric // gauges
	Iterations                      *Metric // counter
	IterationDuration               *Metric // trend, ms
	DroppedIterations               *Metric // counter
	Checks                          *Metric // rate
	GroupDuration                   *Metric // trend, ms
	DataSent, DataReceived          *Metric // counters, bytes
	HTTPReqs                        *Metric // counter
	HTTPReqFailed                   *Metric // rate
	HTTPReqDuration, HTTPReqBlocked *Metric // trends, ms
	HTTPReqConnecting, HTTPReqTLS   *Metric // trends, ms (http_req_tls_handshaking)
	HTTPReqSending, HTTPReqWaiting  *Metric // trends, ms
	HTTPReqReceiving                *Metric // trend, ms
	WSSessions, WSMsgsSent          *Metric // counters
	WSMsgsReceived                  *Metric // counter
	WSPing, WSConnecting            *Metric // trends, ms
	WSSessionDuration               *Metric // trend, ms
}

// RegisterBuiltin registers k6's built-in metrics in r and returns them.
func RegisterBuiltin(r *Registry) *Builtin {
	return &Builtin{
		VUs:               r.MustNewMetric("vus", Gauge, Default),
		VUsMax:            r.MustNewMetric("vus_max", Gauge, Default),
		Iterations:        r.MustNewMetric("iterations", Counter, Default),
		IterationDuration: r.MustNewMetric("iteration_duration", Trend, Time),
		DroppedIterations: r.MustNewMetric("dropped_iterations", Counter, Default),
		Checks:            r.MustNewMetric("checks", Rate, Default),
		GroupDuration:     r.MustNewMetric("group_duration", Trend, Time),
		DataSent:          r.MustNewMetric("data_sent", Counter, Data),
		DataReceived:      r.MustNewMetric("data_received", Counter, Data),
		HTTPReqs:          r.MustNewMetric("http_reqs", Counter, Default),
		HTTPReqFailed:     r.MustNewMetric("http_req_failed", Rate, Default),
		HTTPReqDuration:   r.MustNewMetric("http_req_duration", Trend, Time),
		HTTPReqBlocked:    r.MustNewMetric("http_req_blocked", Trend, Time),
		HTTPReqConnecting: r.MustNewMetric("http_req_connecting", Trend, Time),
		HTTPReqTLS:        r.MustNewMetric("http_req_tls_handshaking", Trend, Time),
		HTTPReqSending:    r.MustNewMetric("http_req_sending", Trend, Time),
		HTTPReqWaiting:    r.MustNewMetric("http_req_waiting", Trend, Time),
		HTTPReqReceiving:  r.MustNewMetric("http_req_receiving", Trend, Time),
		WSSessions:        r.MustNewMetric("ws_sessions", Counter, Default),
		WSMsgsSent:        r.MustNewMetric("ws_msgs_sent", Counter, Default),
		WSMsgsReceived:    r.MustNewMetric("ws_msgs_received", Counter, Default),
		WSPing:            r.MustNewMetric("ws_ping", Trend, Time),
		WSConnecting:      r.MustNewMetric("ws_connecting", Trend, Time),
		WSSessionDuration: r.MustNewMetric("ws_session_duration", Trend, Time),
	}
}

// The submetric k6 always defines on http_req_duration, for its end-of-test summary: the
// durations of the requests whose response was expected (the response callback's verdict,
// by default a status in 200-399). It is the one spelling of these names for the runner,
// the outputs and the analyzer.
const (
	// ExpectedResponseTag is the system tag that holds a request's verdict, "true" or "false".
	ExpectedResponseTag = "expected_response"
	// ExpectedResponseSuffix is the submetric's tag selector, as written between braces.
	ExpectedResponseSuffix = ExpectedResponseTag + ":true"
	// ExpectedResponseSubmetric is the submetric's key.
	ExpectedResponseSubmetric = "http_req_duration{" + ExpectedResponseSuffix + "}"
)
