// Package opentelemetry owns --out opentelemetry (and k6's older name
// experimental-opentelemetry): k6's metrics as OpenTelemetry metrics, recorded with the
// official Go SDK (go.opentelemetry.io/otel/sdk/metric) and exported over OTLP with its
// gRPC or HTTP exporter every K6_OTEL_EXPORT_INTERVAL. k6's mapping: a counter is a
// Float64Counter, a gauge a Float64Gauge, a trend a Float64Histogram, a rate an
// Int64Counter NAME.total with a condition attribute (zero or nonzero); tags are
// attributes; time metrics have unit ms and data metrics By. Samples are buffered by
// package push and recorded every K6_OTEL_FLUSH_INTERVAL off the engine's goroutine; the
// exporter retries with back-off, and the data points of failed exports are counted and
// reported at the end.
package opentelemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otelmetric "go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/credentials"

	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output/push"
)

// Output is the OpenTelemetry output.
type Output struct {
	cfg    Config
	warn   func(string)
	pusher *push.Pusher

	provider *sdkmetric.MeterProvider
	meter    otelmetric.Meter

	// recorded by dispatch only (push calls it serially)
	instruments map[*metrics.Metric]instrument
	attrs       map[metrics.TagSet]otelmetric.MeasurementOption

	written, dropped atomic.Int64
	errMu            sync.Mutex
	lastErr          error
	lastWarn         time.Time
}

type instrument struct {
	counter        otelmetric.Float64Counter
	gauge          otelmetric.Float64Gauge
	hist           otelmetric.Float64Histogram
	rate, occurred otelmetric.Int64Counter
}

var (
	zero    = otelmetric.WithAttributes(attribute.String("condition", "zero"))
	nonzero = otelmetric.WithAttributes(attribute.String("condition", "nonzero"))
)

// New returns the output; version is the default service version.
func New(env map[string]string, version string, warn func(string)) (*Output, error) {
	cfg, err := ParseConfig(env, version)
	if err != nil {
		return nil, err
	}
	if warn == nil {
		warn = func(string) {}
	}
	o := &Output{cfg: cfg, warn: warn, instruments: map[*metrics.Metric]instrument{}, attrs: map[metrics.TagSet]otelmetric.MeasurementOption{}}
	if _, err := o.tlsConfig(); err != nil { // the files are read again at Start
		return nil, err
	}
	o.pusher = push.New(push.Config{Name: "opentelemetry", Interval: cfg.FlushInterval, Concurrency: 1, Acc: &accumulator{o: o}, Warn: warn})
	return o, nil
}

// Config returns the configuration.
func (o *Output) Config() Config { return o.cfg }

func (o *Output) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: o.cfg.TLSInsecureSkipVerify} //nolint:gosec // the user asked for it
	if o.cfg.TLSCertificate != "" {
		pem, err := os.ReadFile(o.cfg.TLSCertificate)
		if err != nil {
			return nil, fmt.Errorf("K6_OTEL_TLS_CERTIFICATE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("K6_OTEL_TLS_CERTIFICATE %q: no PEM certificate in it", o.cfg.TLSCertificate)
		}
		tc.RootCAs = pool
	}
	if o.cfg.TLSClientCert != "" {
		cert, err := tls.LoadX509KeyPair(o.cfg.TLSClientCert, o.cfg.TLSClientKey)
		if err != nil {
			return nil, fmt.Errorf("K6_OTEL_TLS_CLIENT_CERTIFICATE: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// retry bounds the exporters' own retries so that a dead collector costs seconds, not the
// SDK's default minute, at the end of the test.
const (
	retryInitial  = 250 * time.Millisecond
	retryMax      = 2 * time.Second
	retryElapsed  = 5 * time.Second
	exportTimeout = 10 * time.Second
)

func (o *Output) exporter() (sdkmetric.Exporter, error) {
	tc, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if o.cfg.Protocol == "http/protobuf" {
		opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpoint(o.cfg.HTTPEndpoint), otlpmetrichttp.WithURLPath(o.cfg.HTTPURLPath),
			otlpmetrichttp.WithHeaders(o.cfg.Headers), otlpmetrichttp.WithTimeout(exportTimeout),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: retryInitial, MaxInterval: retryMax, MaxElapsedTime: retryElapsed})}
		if o.cfg.HTTPInsecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		} else {
			opts = append(opts, otlpmetrichttp.WithTLSClientConfig(tc))
		}
		return otlpmetrichttp.New(ctx, opts...)
	}
	opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(o.cfg.GRPCEndpoint), otlpmetricgrpc.WithHeaders(o.cfg.Headers),
		otlpmetricgrpc.WithTimeout(exportTimeout),
		otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: retryInitial, MaxInterval: retryMax, MaxElapsedTime: retryElapsed})}
	if o.cfg.GRPCInsecure {
		opts = append(opts, otlpmetricgrpc.WithInsecure())
	} else {
		opts = append(opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(tc)))
	}
	return otlpmetricgrpc.New(ctx, opts...)
}

// Start makes the exporter and the SDK's meter provider (its periodic reader starts with
// it) and starts the flusher.
func (o *Output) Start() error {
	exp, err := o.exporter()
	if err != nil {
		return err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", o.cfg.ServiceName), attribute.String("service.version", o.cfg.ServiceVersion)))
	if err != nil {
		return fmt.Errorf("opentelemetry resource: %w", err)
	}
	o.provider = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(&countingExporter{Exporter: exp, o: o}, sdkmetric.WithInterval(o.cfg.ExportInterval))))
	o.meter = o.provider.Meter("k6")
	// The SDK reports export errors to the global handler too (by default printed with the
	// standard logger): route them to the output's own rate-limited warnings.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(o.noteErr))
	if !o.cfg.SingleCounterForRate {
		o.warn("opentelemetry: K6_OTEL_SINGLE_COUNTER_FOR_RATE=false exports rates as k6's deprecated pair of counters NAME.occurred and NAME.total")
	}
	o.pusher.Start()
	return nil
}

// AddSamples buffers samples.
func (o *Output) AddSamples(samples []metrics.Sample) { o.pusher.AddSamples(samples) }

// Stop records what is buffered, exports a last time and shuts the SDK down (bounded),
// and reports the data points that could not be exported as a warning.
func (o *Output) Stop() error {
	st := o.pusher.Stop()
	if o.provider == nil { // never started
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), retryElapsed+exportTimeout)
	defer cancel()
	if err := o.provider.Shutdown(ctx); err != nil {
		o.noteErr(err)
	}
	st.Written, st.Dropped = o.written.Load(), st.Dropped+o.dropped.Load()
	o.errMu.Lock()
	if o.lastErr != nil {
		st.LastErr = o.lastErr.Error()
	}
	o.errMu.Unlock()
	if msg := st.Report("opentelemetry"); msg != "" {
		o.warn(msg)
	}
	return nil
}

// Stats returns the data points exported and dropped so far.
func (o *Output) Stats() push.Stats {
	return push.Stats{Written: o.written.Load(), Dropped: o.dropped.Load()}
}

func (o *Output) noteErr(err error) {
	o.errMu.Lock()
	defer o.errMu.Unlock()
	o.lastErr = err
	if time.Since(o.lastWarn) >= 5*time.Second {
		o.lastWarn = time.Now()
		o.warn(fmt.Sprintf("opentelemetry: export failed: %v", err))
	}
}

// accumulator keeps the samples until the flush interval; its request records them into
// the SDK's instruments off the engine's goroutine (one at a time: concurrency 1), and the
// SDK's reader exports them.
type accumulator struct {
	o       *Output
	samples []metrics.Sample
}

func (a *accumulator) Add(samples []metrics.Sample) int {
	a.samples = append(a.samples, samples...)
	return len(a.samples)
}

func (a *accumulator) Take() push.Request {
	if len(a.samples) == 0 {
		return nil
	}
	r := &record{o: a.o, samples: a.samples}
	a.samples = nil
	return r
}

// record is a batch to record; recording cannot fail, so Send is called once.
type record struct {
	o       *Output
	samples []metrics.Sample
}

func (r *record) Points() int { return len(r.samples) }

func (r *record) Send(context.Context) error {
	r.o.dispatch(r.samples)
	r.samples = nil
	return nil
}

// dispatch records a batch into the SDK's instruments; the SDK aggregates and exports.
func (o *Output) dispatch(batch []metrics.Sample) {
	ctx := context.Background()
	for _, s := range batch {
		in, ok := o.instruments[s.Metric]
		if !ok {
			var err error
			if in, err = o.newInstrument(s.Metric); err != nil {
				o.noteErr(err)
			}
			o.instruments[s.Metric] = in
		}
		attrs, ok := o.attrs[s.Tags]
		if !ok {
			kv := make([]attribute.KeyValue, 0, s.Tags.Len())
			s.Tags.Each(func(k, v string) bool { kv = append(kv, attribute.String(k, v)); return true })
			attrs = otelmetric.WithAttributes(kv...)
			if len(o.attrs) > 100_000 {
				clear(o.attrs)
			}
			o.attrs[s.Tags] = attrs
		}
		switch {
		case in.counter != nil:
			o.addCounter(ctx, in.counter, s.Value, attrs)
		case in.gauge != nil:
			in.gauge.Record(ctx, s.Value, attrs)
		case in.hist != nil:
			in.hist.Record(ctx, s.Value, attrs)
		case in.occurred != nil:
			if s.Value != 0 {
				in.occurred.Add(ctx, 1, attrs)
			}
			in.rate.Add(ctx, 1, attrs)
		case in.rate != nil:
			cond := zero
			if s.Value != 0 {
				cond = nonzero
			}
			in.rate.Add(ctx, 1, attrs, cond)
		}
	}
}

// addCounter adds v; OpenTelemetry counters are monotonic, so a negative value (k6
// accepts it) is left out and said.
func (o *Output) addCounter(ctx context.Context, c otelmetric.Float64Counter, v float64, attrs otelmetric.MeasurementOption) {
	if v < 0 {
		o.noteErr(fmt.Errorf("a negative counter value (%v) cannot be added to an OpenTelemetry counter", v))
		return
	}
	c.Add(ctx, v, attrs)
}

func unit(m *metrics.Metric) string {
	switch m.Contains {
	case metrics.Time:
		return "ms"
	case metrics.Data:
		return "By"
	}
	return ""
}

func (o *Output) newInstrument(m *metrics.Metric) (instrument, error) {
	name := o.cfg.MetricPrefix + m.Name
	u := otelmetric.WithUnit(unit(m))
	var in instrument
	var err error
	switch m.Type {
	case metrics.Counter:
		in.counter, err = o.meter.Float64Counter(name, u)
	case metrics.Gauge:
		in.gauge, err = o.meter.Float64Gauge(name, u)
	case metrics.Trend:
		in.hist, err = o.meter.Float64Histogram(name, u)
	case metrics.Rate:
		in.rate, err = o.meter.Int64Counter(name + ".total")
		if err == nil && !o.cfg.SingleCounterForRate {
			in.occurred, err = o.meter.Int64Counter(name + ".occurred")
		}
	}
	if err != nil {
		return instrument{}, fmt.Errorf("opentelemetry instrument %q: %w", name, err)
	}
	return in, nil
}

// countingExporter counts the data points of successful and failed exports.
type countingExporter struct {
	sdkmetric.Exporter
	o *Output
}

func (e *countingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	n := int64(dataPoints(rm))
	err := e.Exporter.Export(ctx, rm)
	if err != nil {
		e.o.dropped.Add(n)
		e.o.noteErr(err)
		return err
	}
	e.o.written.Add(n)
	return nil
}

func dataPoints(rm *metricdata.ResourceMetrics) int {
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[float64]:
				n += len(d.DataPoints)
			case metricdata.Sum[int64]:
				n += len(d.DataPoints)
			case metricdata.Gauge[float64]:
				n += len(d.DataPoints)
			case metricdata.Histogram[float64]:
				n += len(d.DataPoints)
			}
		}
	}
	return n
}
