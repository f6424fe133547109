// Package influxdb owns --out influxdb=http://HOST:8086/DB: k6's InfluxDB 1.x output. It
// writes line protocol to the 1.x write API (/write?db=...), one measurement per metric
// with the sample's tags as tags and its value as the field "value" (k6's layout), creates
// the database when missing, and reads k6's K6_INFLUXDB_* settings (see Config). Writes are
// batched every push interval by package push: retried with back-off, never blocking the
// test, and the points that could not be written are counted and reported at the end.
package influxdb

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output/push"
)

// Output is the InfluxDB output.
type Output struct {
	cfg    Config
	client *http.Client
	pusher *push.Pusher
	warn   func(string)

	invalid atomic.Int64 // NaN and ±Inf values, which line protocol cannot carry
}

// New returns the output for --out influxdb=arg; warn receives its warnings (nil: none).
func New(arg string, env map[string]string, warn func(string)) (*Output, error) {
	cfg, err := ParseConfig(arg, env)
	if err != nil {
		return nil, err
	}
	if warn == nil {
		warn = func(string) {}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if cfg.Proxy != "" {
		pu, err := url.Parse(cfg.Proxy)
		if err != nil {
			return nil, fmt.Errorf("influxdb proxy %q: %w", cfg.Proxy, err)
		}
		tr.Proxy = http.ProxyURL(pu)
	}
	tr.MaxIdleConnsPerHost = cfg.ConcurrentWrites
	if cfg.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	o := &Output{cfg: cfg, client: &http.Client{Transport: tr}, warn: warn}
	o.pusher = push.New(push.Config{
		Name: "influxdb", Interval: cfg.PushInterval, Concurrency: cfg.ConcurrentWrites,
		Acc: newAccumulator(o), Warn: warn,
	})
	return o, nil
}

// Config returns the consolidated configuration.
func (o *Output) Config() Config { return o.cfg }

// Start creates the database when it is missing (a failure is only a warning: the user may
// lack the right, or the database may exist) and starts the flusher.
func (o *Output) Start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.query(ctx, "CREATE DATABASE "+quoteIdent(o.cfg.DB)); err != nil {
		o.warn(fmt.Sprintf("influxdb: could not create database %q (writes will tell if it is missing): %v", o.cfg.DB, err))
	}
	o.pusher.Start()
	return nil
}

// AddSamples buffers samples.
func (o *Output) AddSamples(samples []metrics.Sample) { o.pusher.AddSamples(samples) }

// Stop writes what is left and reports, as a warning, the points that were dropped. It
// returns no error for a failing server: the test's result does not depend on its output.
func (o *Output) Stop() error {
	st := o.pusher.Stop()
	if msg := st.Report("influxdb"); msg != "" {
		o.warn(msg)
	}
	if n := o.invalid.Load(); n > 0 {
		o.warn(fmt.Sprintf("influxdb: %d samples with a NaN or infinite value were not written (line protocol cannot carry them)", n))
	}
	o.client.CloseIdleConnections()
	return nil
}

// Stats returns what the output wrote and dropped so far.
func (o *Output) Stats() push.Stats { return o.pusher.Stats() }

// accumulator encodes samples as they arrive (on the engine's goroutine, as the JSON
// output does: about 100 ns a point) into bodies of at most PayloadSize points, reusing
// the bodies of finished requests.
type accumulator struct {
	o       *Output
	enc     *encoder
	bodies  [][]byte
	points  []int
	cur     []byte
	curPts  int
	pending int
	free    chan []byte // bodies of finished requests, for reuse
}

func newAccumulator(o *Output) *accumulator {
	return &accumulator{o: o, enc: newEncoder(o.cfg), free: make(chan []byte, o.cfg.ConcurrentWrites+2)}
}

func (a *accumulator) Add(samples []metrics.Sample) int {
	for _, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			a.o.invalid.Add(1)
			continue
		}
		if a.cur == nil {
			select {
			case a.cur = <-a.free:
			default:
				a.cur = make([]byte, 0, 64<<10)
			}
		}
		a.cur = a.enc.appendSample(a.cur, s)
		a.curPts++
		a.pending++
		if a.curPts == a.o.cfg.PayloadSize {
			a.cut()
		}
	}
	return a.pending
}

// cut closes the current body.
func (a *accumulator) cut() {
	if a.curPts > 0 {
		a.bodies = append(a.bodies, a.cur)
		a.points = append(a.points, a.curPts)
		a.cur, a.curPts = nil, 0
	}
}

func (a *accumulator) Take() push.Request {
	a.cut()
	if len(a.bodies) == 0 {
		return nil
	}
	r := &request{o: a.o, acc: a, bodies: a.bodies, points: a.points, all: a.bodies}
	a.bodies, a.points, a.pending = nil, nil, 0
	return r
}

// request is the write requests of one push; Send sends those not sent yet.
type request struct {
	o      *Output
	acc    *accumulator
	bodies [][]byte
	points []int
	all    [][]byte
}

func (r *request) Points() int {
	n := 0
	for _, p := range r.points {
		n += p
	}
	return n
}

func (r *request) Send(ctx context.Context) error {
	for len(r.bodies) > 0 {
		if err := r.o.post(ctx, r.bodies[0]); err != nil {
			return err
		}
		r.bodies, r.points = r.bodies[1:], r.points[1:]
	}
	return nil
}

// Release gives the bodies back for reuse.
func (r *request) Release() {
	for _, b := range r.all {
		select {
		case r.acc.free <- b[:0]:
		default:
		}
	}
	r.all = nil
}

func (o *Output) post(ctx context.Context, body []byte) error {
	q := url.Values{"db": {o.cfg.DB}, "precision": {o.cfg.Precision}}
	if o.cfg.Retention != "" {
		q.Set("rp", o.cfg.Retention)
	}
	if o.cfg.Consistency != "" {
		q.Set("consistency", o.cfg.Consistency)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.Addr+"/write?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return push.Permanent(err)
	}
	return o.do(req)
}

func (o *Output) query(ctx context.Context, q string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.Addr+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return o.do(req)
}

// do sends req; a 4xx answer other than 408 and 429 is permanent (retrying cannot fix it).
func (o *Output) do(req *http.Request) error {
	req.Header.Set("User-Agent", "pixelk6")
	if o.cfg.Username != "" {
		req.SetBasicAuth(o.cfg.Username, o.cfg.Password)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		err = fmt.Errorf("%w (InfluxDB 2.x is not supported by this output)", err)
	}
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return push.Permanent(err)
	}
	return err
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
