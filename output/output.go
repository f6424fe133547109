// Package output owns pixelk6's sample outputs in k6's file formats: --out json=FILE
// (NDJSON, gzip when FILE ends in .gz) and --out csv=FILE (gzip likewise). Outputs are
// streaming: samples are encoded into an in-memory buffer as they arrive and written out by
// the output's own flusher every FlushInterval and at Stop, always in whole lines, so a file
// is never left with a torn record, even when the run is interrupted.
package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// Output receives every sample of a test run.
//
// The engine calls Start once, then AddSamples from a single goroutine, then Stop once
// (also on SIGINT). AddSamples does no I/O per sample; Stop writes what is buffered, closes
// the file and returns the first write, flush or close error of the output's life.
type Output interface {
	Start() error
	AddSamples(samples []metrics.Sample)
	Stop() error
}

// Params configure the outputs of one run.
type Params struct {
	// Metrics describes, per metric name, what the NDJSON "Metric" record of that metric
	// lists. Metrics not in the map get "thresholds": [] and "submetrics": null.
	Metrics map[string]MetricInfo
	// Env holds the environment (K6_CSV_TIME_FORMAT, K6_CSV_SAVE_INTERVAL,
	// K6_CSV_FILENAME); nil means none.
	Env map[string]string
	// Stdout receives "--out json" without a file name (or "json=-"); nil means os.Stdout.
	Stdout io.Writer
	// FlushInterval is how often buffered samples are written; 0 means 1 s (for CSV,
	// K6_CSV_SAVE_INTERVAL overrides it).
	FlushInterval time.Duration
}

// MetricInfo is what k6 writes about a metric's thresholds in its NDJSON Metric record.
type MetricInfo struct {
	// Thresholds are the metric's own (non-submetric) thresholds as the script wrote them:
	// JSON strings such as "p(95)<500", or {"threshold","abortOnFail","delayAbortEval"}
	// objects. An object without abortOnFail: true is written as its threshold string, as
	// k6 does.
	Thresholds []json.RawMessage
	// Submetrics are the metric's submetrics in the order they were defined (the
	// thresholds' order, then "expected_response:true" that k6 adds to http_req_duration).
	Submetrics []Submetric
}

// Submetric is a submetric definition as k6 writes it.
type Submetric struct {
	Name   string            // "http_req_duration{name:infer}"
	Suffix string            // "name:infer"
	Tags   map[string]string // {"name": "infer"}
}

// Supported lists the --out types New accepts.
const Supported = "json, csv"

// New returns the output that an --out value asks for: "json=FILE", "json=FILE.gz",
// "json" or "json=-" (standard output), "csv=FILE", "csv=FILE.gz", "csv" (K6_CSV_FILENAME,
// default "file.csv").
func New(spec string, p Params) (Output, error) {
	typ, arg, _ := strings.Cut(spec, "=")
	switch typ {
	case "json":
		return newJSON(arg, p)
	case "csv":
		return newCSV(arg, p)
	case "":
		return nil, fmt.Errorf("invalid --out %q: want TYPE or TYPE=ARG, TYPE one of %s", spec, Supported)
	}
	return nil, fmt.Errorf("unsupported output type %q in --out %q (supported: %s)", typ, spec, Supported)
}

func newJSON(file string, p Params) (Output, error) {
	enc := newJSONEncoder(p.Metrics)
	if file == "" || file == "-" {
		w := p.Stdout
		if w == nil {
			w = os.Stdout
		}
		return newStream(func() (sink, error) { return nopCloser{w}, nil }, enc.encode, nil, p.flushInterval()), nil
	}
	return newStream(fileOpener(file), enc.encode, nil, p.flushInterval()), nil
}

func newCSV(arg string, p Params) (Output, error) {
	cfg, err := parseCSVConfig(arg, p.Env)
	if err != nil {
		return nil, err
	}
	interval := p.flushInterval()
	if cfg.saveInterval > 0 {
		interval = cfg.saveInterval
	}
	enc := &csvEncoder{timeFormat: cfg.timeFormat}
	return newStream(fileOpener(cfg.fileName), enc.encode, csvHeader, interval), nil
}

func (p Params) flushInterval() time.Duration {
	if p.FlushInterval > 0 {
		return p.FlushInterval
	}
	return time.Second
}

// Multi is several outputs used as one (several --out flags).
type Multi []Output

// Start starts every output; on an error it stops the ones already started.
func (m Multi) Start() error {
	for i, o := range m {
		if err := o.Start(); err != nil {
			for _, started := range m[:i] {
				_ = started.Stop() // the start error is the one to report
			}
			return err
		}
	}
	return nil
}

// AddSamples passes samples to every output.
func (m Multi) AddSamples(samples []metrics.Sample) {
	for _, o := range m {
		o.AddSamples(samples)
	}
}

// Stop stops every output and returns their errors joined.
func (m Multi) Stop() error {
	var errs []error
	for _, o := range m {
		errs = append(errs, o.Stop())
	}
	return errors.Join(errs...)
}

var _ Output = Multi(nil)

// expectedResponseSub is the submetric k6 always defines on http_req_duration (for its
// summary), listed last in that metric's Metric record.
var expectedResponseSub = Submetric{
	Name:   "http_req_duration{expected_response:true}",
	Suffix: "expected_response:true",
	Tags:   map[string]string{"expected_response": "true"},
}

// MetricInfos builds Params.Metrics from parsed thresholds, keeping their order (pass them
// in the order the script wrote them to reproduce k6's submetric order byte for byte):
// a plain key's expressions become the metric's Thresholds, a submetric key becomes a
// Submetrics entry, and http_req_duration always gets expected_response:true last.
func MetricInfos(mts []metrics.MetricThresholds) map[string]MetricInfo {
	out := make(map[string]MetricInfo, len(mts)+1)
	for _, mt := range mts {
		info := out[mt.Metric]
		if !mt.HasSubmetric {
			info.Thresholds = append(info.Thresholds, mt.Raw...)
		} else if mt.Key != expectedResponseSub.Name {
			info.Submetrics = append(info.Submetrics, Submetric{
				Name:   mt.Key,
				Suffix: mt.Key[len(mt.Metric)+1 : len(mt.Key)-1],
				Tags:   mt.Submetric.Map(),
			})
		}
		out[mt.Metric] = info
	}
	info := out["http_req_duration"]
	info.Submetrics = append(info.Submetrics, expectedResponseSub)
	out["http_req_duration"] = info
	return out
}
