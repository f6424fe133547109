// Package output owns pixelk6's sample outputs: here the ones in k6's file formats,
// --out json=FILE (NDJSON, gzip when FILE ends in .gz) and --out csv=FILE (gzip likewise),
// and New, which also builds the network outputs of the subpackages influxdb,
// prometheusrw and opentelemetry (batching and retries in push). The records are
// written by package k6file's encoders; this package owns the options, the files and the
// buffering. Outputs are
// streaming: samples are encoded into an in-memory buffer as they arrive and written out by
// the output's own flusher every FlushInterval and at Stop, always in whole lines, so a file
// is never left with a torn record, even when the run is interrupted.
package output

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output/influxdb"
	"github.com/pixelk6/pixelk6/output/opentelemetry"
	"github.com/pixelk6/pixelk6/output/prometheusrw"
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
	// lists (k6file.MetricInfos builds it from the script's thresholds). Metrics not in the
	// map get "thresholds": [] and "submetrics": null.
	Metrics map[string]k6file.MetricInfo
	// Env holds the environment (K6_CSV_TIME_FORMAT, K6_CSV_SAVE_INTERVAL,
	// K6_CSV_FILENAME); nil means none.
	Env map[string]string
	// Stdout receives "--out json" without a file name (or "json=-"); nil means os.Stdout.
	Stdout io.Writer
	// FlushInterval is how often buffered samples are written; 0 means 1 s (for CSV,
	// K6_CSV_SAVE_INTERVAL overrides it).
	FlushInterval time.Duration
	// Warn receives the warnings of the network outputs (a failing server, the points
	// dropped at the end); nil discards them.
	Warn func(msg string)
	// Version is pixelk6's version (the OpenTelemetry service version by default).
	Version string
}

// Supported lists the --out types New accepts.
const Supported = "json, csv, influxdb, experimental-prometheus-rw, opentelemetry"

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
	case "influxdb":
		return influxdb.New(arg, p.Env, p.Warn)
	case "experimental-prometheus-rw":
		return prometheusrw.New(arg, p.Env, p.Warn)
	case "opentelemetry", "experimental-opentelemetry":
		if arg != "" {
			return nil, fmt.Errorf("--out %s takes no argument (%q): configure it with K6_OTEL_* variables", typ, arg)
		}
		return opentelemetry.New(p.Env, p.Version, p.Warn)
	case "":
		return nil, fmt.Errorf("invalid --out %q: want TYPE or TYPE=ARG, TYPE one of %s", spec, Supported)
	}
	return nil, fmt.Errorf("unsupported output type %q in --out %q (supported: %s)", typ, spec, Supported)
}

func newJSON(file string, p Params) (Output, error) {
	enc := k6file.NewEncoder(p.Metrics)
	if file == "" || file == "-" {
		w := p.Stdout
		if w == nil {
			w = os.Stdout
		}
		return newStream(func() (sink, error) { return nopCloser{w}, nil }, enc.AppendSamples, nil, p.flushInterval()), nil
	}
	return newStream(fileOpener(file), enc.AppendSamples, nil, p.flushInterval()), nil
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
	enc := &k6file.CSVEncoder{TimeFormat: cfg.timeFormat}
	return newStream(fileOpener(cfg.fileName), enc.AppendSamples, k6file.AppendCSVHeader(nil), interval), nil
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
