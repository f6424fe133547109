// Package analyzer is k6verdict: it reads what a load test wrote (k6 NDJSON, gzip-compressed
// or not, and k6 CSV, from the real k6 or from pixelk6), merges several files into one run,
// evaluates thresholds with the semantics of package metrics, and reports the verdict for
// people (text) and CI (JSON, JUnit, Markdown) with k6's exit codes. This comment is the
// manual; cmd/k6verdict only calls Run.
//
// # Usage
//
//	k6verdict [flags] FILE...              "-" reads standard input
//	k6verdict compare [flags] BASELINE NEW
//	k6verdict report [flags] FILE... -o report.html
//
//	--criteria FILE        thresholds in k6 syntax, YAML or JSON, at the top level or under
//	                       "thresholds:" (repeatable):
//	                         http_req_duration: ["p(95)<500"]
//	                         "http_req_duration{name:infer}": ["p(95)<300"]
//	                         http_req_failed: [{threshold: "rate<0.01", abortOnFail: true}]
//	--profile rest|websocket   the user guide's success criteria (DESIGN.md); websocket's
//	                       concurrency criterion is `vus: max>=500` (gauge max: our extension)
//	--no-script-thresholds ignore the thresholds recorded in the files' Metric records
//	--format text|json     stdout format (default text)
//	--junit FILE           also write JUnit XML: one test case per threshold
//	--markdown FILE        also write a Markdown table (for a CI job summary)
//	--max-bad-lines N      more bad lines than N stop the run with exit 2 (default 10)
//	--duration D           test duration for counter rates (default: first to last sample)
//	--instances            the files are instances of one test (execution segments, k6-operator):
//	                       their vus and vus_max gauges add up (value, min and max are sums)
//	--windows              statistics per VU level (plateaus of the vus gauge)
//	--window 30s           statistics per fixed window (whole seconds)
//	--strict               any data warning is exit 2 (bad lines, a truncated input, skipped
//	                       windows, samples far outside the run): what CI should use
//	--allow-duplicate-inputs  accept inputs with the same content or the same samples
//	--summary-trend-stats  e.g. avg,p(99),p(99.9) (default avg,min,med,max,p(90),p(95))
//	--color auto|always|never  colour only on a terminal by default (and never with NO_COLOR)
//	--workers N            parsing goroutines (default GOMAXPROCS)
//
// Thresholds from all sources are combined: the script's (as recorded by k6 in each
// metric's Metric record, including abortOnFail objects), every --criteria file, and every
// --profile; each result names its source. k6 does not record the expressions of thresholds
// on submetrics (only that the submetric exists); k6verdict warns about those and they can be
// checked with --criteria.
//
// # Exit codes
//
//	0    every threshold passed (compare: no regression)
//	99   a threshold failed, as k6 (compare: a regression)
//	2    no verdict: usage error, unreadable input, more bad lines than --max-bad-lines, no
//	     samples, duplicate inputs, too many windows, or --strict and a data warning
//	3    internal error (a bug, reported on stderr with its stack): never a verdict
//	130  interrupted (Ctrl-C / SIGINT, at any point: reading, aggregating, windows)
//
// Only 0 and 99 are verdicts, and every report agrees with the exit code: with no samples
// the text says "verdict: NO DATA", the JSON "pass": false, "exit_code": 2, "verdict":
// "NO DATA" with a "reason", JUnit a failed "k6verdict input" test case and Markdown
// "⛔ NO DATA"; with --strict and data warnings, the same with "REFUSED". A refusal wins
// over a crossed threshold (the data it was measured on is in doubt). Warnings are printed
// on stderr as well as in the reports. Data warnings are those about the data itself: bad
// lines, a truncated last line or gzip stream (a crashed upload), windows or spans without
// samples skipped, samples far outside the run; warnings about thresholds (a threshold
// without samples passes, as in k6; submetric thresholds k6 does not record) are not.
//
// # Inputs
//
// The format is detected from the content: gzip by its magic bytes, CSV by k6's header
// (metric_name,timestamp,...), NDJSON otherwise. Several files are one run split across
// instances (execution segments, k6-operator): their samples are merged exactly — counts and
// rates are integers, gauges keep the latest value, trends keep every value — so the verdict
// equals that of a single file. One exception needs to be told: instances each report their
// own vus gauge, so with --instances the vus and vus_max gauges of the files are summed
// (without it, files are parts of one stream and a gauge keeps its latest value).
//
// The same samples must not be counted twice: two inputs with the same content (the same
// file twice, a copy, its gzip), or with the same samples (the same run's NDJSON and CSV:
// per metric the same count, first and last second and sum of values) are refused with exit
// 2, naming both, unless --allow-duplicate-inputs says they are different parts.
// Inputs holding only zero vus and vus_max gauges (instances an execution segment left
// without work) are never taken for duplicates by their samples.
//
// Lines may be of any length up to 1 GiB. A truncated last
// line (a crashed run) is a warning; any other line that is not a k6 record is counted and
// reported with its file and line number. Records are read by package k6file, the format
// package the runner writes with: its Scanner for CSV, and for NDJSON its line decoder on
// several goroutines over blocks of the file, held to the Scanner's records by a
// differential test.
//
// CSV timestamps may be in any of k6's timeFormats: unix (seconds), unix_milli, unix_micro,
// unix_nano (told apart by their number of digits) and rfc3339_nano. CSV has no Metric
// records, so a metric's type comes from k6's built-in metrics, the pixel metric contract
// (package pixelmetrics: type and unit, whatever the thresholds say), the aggregations of the thresholds that name it (p(N)/avg/med → trend,
// value → gauge, count or rate>1 → counter, rate ≤ 1 → rate if its values are 0/1), and
// finally its values and name (time-like names → trend; 0/1 values with a rate-like name →
// rate; integers → counter; else trend). CSV carries no script thresholds: use --criteria.
//
// Counter rates divide by the test duration. The files do not record k6's own test
// duration, so it is the span from the first to the last sample unless --duration is given;
// a run that ends with idle time after its last sample (e.g. ramping-vus with a graceful
// ramp-down) has a longer k6 duration (rest.json: 9.14 s of samples, 10.13 s for k6).
//
// # Windows
//
// --windows and --window cost time and memory in proportion to the seconds that hold
// samples, never to the span from the first to the last sample. Samples far outside the
// bulk of the run — farther than the bulk's length (at least a minute) from the minutes
// that hold the middle 98 % of the samples, e.g. one sample dated 1970 — are a data warning
// with or without windows, and windows leave them out; fixed windows without samples are
// skipped, and with --windows a span of more than 60 s without samples ends a plateau and
// is skipped, each with a data warning. More than 10,000
// windows is an error (exit 2) that suggests a wider --window.
//
// # Reading fast
//
// One goroutine reads the input in 1 MiB blocks cut on newline boundaries; N workers parse
// the lines of a block with a hand-written scanner for k6's fixed Point shape
// ({"metric":..,"type":"Point","data":{"time":..,"value":..,"tags":{..}}}) that does not
// allocate: metric names and tag sets are interned (the raw tags bytes are a map key, decoded
// once), consecutive lines' shared timestamps are parsed once, and each worker aggregates into
// its own shard, merged at the end. Metric records and unusual lines go to encoding/json.
// Memory grows with the trend values kept (8 bytes each), not with the file size.
// bench/analyzer-bench.sh measures k6verdict, a Go program that decodes every line with
// encoding/json (bench/naivep95) and the jq | sort pipeline on a 200 MiB file built from the
// reference samples. On the shared 2-CPU machine, with a load average of 7–11 from other
// work, three runs of the script gave (medians of 3):
//
//	k6verdict          460–1035 MB/s     (RSS under 30 MB)
//	encoding/json      19.6–30.1 MB/s    k6verdict 15.3–37.2× faster
//	jq | sort -n       19.8–39.4 MB/s    k6verdict 19.1–26.3× faster
//
// # JSON output (schema "k6verdict/v1", stable: fields are only ever added)
//
//	{
//	  "schema": "k6verdict/v1",
//	  "pass": bool,                      there is a verdict and every threshold passed
//	  "exit_code": 0 | 99 | 2,
//	  "verdict": "PASS" | "FAIL" | "NO DATA" | "REFUSED",
//	  "reason": "...",                   only for NO DATA and REFUSED
//	  "inputs": [{"path", "format": "ndjson"|"ndjson+gzip"|"csv"|"csv+gzip", "lines", "bad_lines"}],
//	  "run": {"start": RFC 3339 | null, "end": RFC 3339 | null, "duration_seconds",
//	          "samples", "metrics"},
//	  "thresholds": [{
//	    "metric": "http_req_duration", "key": "http_req_duration{name:infer}",
//	    "submetric": {"name": "infer"} | null, "expression": "p(95)<300",
//	    "aggregation": "p(95)", "op": "<", "limit": 300,
//	    "observed": number | null,       null: no samples (passes, as in k6) or error
//	    "pass": bool, "no_data": bool, "abort_on_fail": bool,
//	    "source": "script" | "criteria:FILE" | "profile:NAME",
//	    "error": "..."                   only when the aggregation does not fit the metric type
//	  }],
//	  "metrics": [{"name", "type", "contains", "samples", "values": {k6 summary keys}}],
//	  "windows": [...],                  only with --windows/--window (see Window)
//	  "breaking_window": index,          the first window with a failed threshold, if any
//	  "warnings": ["..."],
//	  "bad_lines": {"count", "first": [{"file", "line", "error"}]}
//	}
//
// Values use k6's units (ms for time trends, bytes for data) and k6's summary keys: counter
// count, rate (per second); gauge value, min, max; rate rate, passes, fails; trend the
// --summary-trend-stats.
//
// # report
//
// report writes the HTML page of package dashboard (the one pixelk6's web dashboard shows
// live) for the files: the time series of the charted metrics at most dashboard.MaxPoints
// long (Result.Timeline: points of whole seconds, as wide as needed), every threshold with
// its verdict, value and limit, the windows (load levels, or --window D; fixed windows when
// there are more than 120 levels) with the breaking point, latency against load, and with
// --baseline FILE (repeatable: the parts of one run) the baseline's series drawn under this
// run. It takes --criteria, --profile, --no-script-thresholds, --instances, --duration,
// --max-bad-lines, --strict, --allow-duplicate-inputs and --title; -o FILE is required. The
// report is written whatever the verdict, and the exit code is the analysis's.
//
// # compare
//
// compare analyses two runs and, for each trend present in both, compares avg, med, p(95)
// and p(99) and tests with a one-sided Mann-Whitney U test (normal approximation, tie
// correction) whether the new values tend to be larger; for each rate, a two-proportion
// z-test in the worse direction (up for names with "fail"/"error", down otherwise). A change
// is a regression when it is worse than its tolerance (--tolerance "p(95)=5%,avg=10%,rate=0.5%";
// defaults 10 % for trend stats, 1 percentage point for rates), p < --alpha (0.01), and, for
// time trends, the statistic grew by more than --min-delta ms (default 1).
// Counter rates are shown for information.
package analyzer
