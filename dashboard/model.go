// Package dashboard owns the page that shows a load test: one self-contained HTML file
// (page.html, embedded with go:embed: hand-made SVG charts, no third-party code, no network
// access needed) drawn from one data model, Report. Two feeds fill it: the live web
// dashboard of a run (package output/webdashboard, over server-sent events) and k6verdict's
// report from result files (package analyzer). The package also owns what both feeds share:
// which metrics are charted and with which statistics (Stats), the folding of samples into
// time points (Timeline) and the downsampling that bounds what a page draws (Downsample).
// It imports metrics only.
package dashboard

// Report is everything the page shows. The live dashboard sends it (Live set) as the first
// server-sent event and then appends to it; a report file embeds it whole.
type Report struct {
	// Title heads the page: the script or the input files.
	Title string `json:"title"`
	// Generator says what made the page: "pixelk6 run" or "k6verdict report".
	Generator string `json:"generator"`
	// Live is set while a run feeds the page (it then listens to /events).
	Live bool `json:"live"`
	// Start is the time of the first point, unix milliseconds (0 when unknown).
	Start int64 `json:"start"`
	// Period is the width of one point in seconds (after downsampling).
	Period float64 `json:"period"`
	// Phase is the run's phase (init, setup, running, teardown, done); "" for a report.
	Phase string `json:"phase,omitempty"`
	// Progress is the run's last progress snapshot (live dashboard only).
	Progress *Progress `json:"progress,omitempty"`
	// Abort is why the run ended early, if it did.
	Abort *Abort `json:"abort,omitempty"`
	// Points are the time series: one point per period.
	Points []Point `json:"points"`
	// Totals are whole-run statistics, keyed like Point.V ("http_reqs:count", ...).
	Totals map[string]float64 `json:"totals,omitempty"`
	// Thresholds are every threshold with its latest outcome.
	Thresholds []Threshold `json:"thresholds"`
	// Verdict is PASS, FAIL, NO DATA or REFUSED (reports); "" while a run is live.
	Verdict string `json:"verdict,omitempty"`
	// Windows are the analyzer's per-stage windows (reports only), Breaking the index of the
	// first window in which a threshold failed (-1: none).
	Windows  []Window `json:"windows,omitempty"`
	Breaking int      `json:"breaking"`
	// Baseline is a previous run drawn under this one (k6verdict report --baseline).
	Baseline *Baseline `json:"baseline,omitempty"`
	// Notes are warnings shown under the header.
	Notes []string `json:"notes,omitempty"`
}

// Point is one time point: T seconds after Report.Start, and the values of the series, keyed
// "metric:stat" (see Stats). A series without samples in the period has no key.
type Point struct {
	T float64            `json:"t"`
	V map[string]float64 `json:"v"`
}

// Threshold is one threshold's outcome.
type Threshold struct {
	// Key is the metric or submetric: "http_req_duration{name:infer}".
	Key string `json:"key"`
	// Expr is the threshold as written: "p(95)<500".
	Expr string `json:"expr"`
	// Observed is the aggregation's value (nil: no samples yet); Limit is the expression's
	// right-hand side, in the metric's unit.
	Observed *float64 `json:"observed"`
	Limit    *float64 `json:"limit,omitempty"`
	OK       bool     `json:"ok"`
	NoData   bool     `json:"noData,omitempty"`
	// Unit is "ms" for time metrics, "" otherwise.
	Unit        string `json:"unit,omitempty"`
	AbortOnFail bool   `json:"abortOnFail,omitempty"`
	// Source is where the threshold comes from (script, criteria:FILE, profile:NAME).
	Source string `json:"source,omitempty"`
}

// Progress is the part of the engine's progress snapshot the page shows.
type Progress struct {
	Elapsed        float64 `json:"elapsed"` // seconds
	ActiveVUs      int64   `json:"activeVUs"`
	InitializedVUs int64   `json:"initializedVUs"`
	Complete       int64   `json:"complete"`
	Interrupted    int64   `json:"interrupted"`
	// Fraction is the progress of the slowest scenario in [0,1].
	Fraction float64 `json:"fraction"`
}

// Abort is the reason a run ended early, with k6's exit code.
type Abort struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// Window is one of the analyzer's windows (a load level or a fixed span).
type Window struct {
	Label      string   `json:"label"`
	Offset     float64  `json:"offset"`   // seconds from the first sample
	Duration   float64  `json:"duration"` // seconds
	VUs        float64  `json:"vus"`
	Metric     string   `json:"metric"` // the latency trend of P50..P99
	P50        *float64 `json:"p50"`
	P95        *float64 `json:"p95"`
	P99        *float64 `json:"p99"`
	ErrorRate  *float64 `json:"errorRate"`
	Throughput float64  `json:"throughput"` // per second
	Failed     []string `json:"failed"`
}

// Baseline is a previous run drawn under this one.
type Baseline struct {
	Title  string  `json:"title"`
	Period float64 `json:"period"`
	Points []Point `json:"points"`
}
