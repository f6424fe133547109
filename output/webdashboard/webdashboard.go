// Package webdashboard is pixelk6's --out web-dashboard (k6's web dashboard, also turned on
// by K6_WEB_DASHBOARD=true): a live page of the running test, served on
// http://127.0.0.1:5665 by default and fed by server-sent events, and, with
// K6_WEB_DASHBOARD_EXPORT=FILE, the same page written as a self-contained HTML report when
// the test ends. The page and its data model are package dashboard's.
//
// A Dashboard is both an engine.Output (the samples: VUs, request and error rates,
// latency percentiles, checks, the pixel metrics, folded into one point per period) and an
// engine.Observer (the phase, per-second progress, every threshold evaluation and the
// abort). It never blocks the run: samples and events update its state under a mutex, and
// each browser has its own queue of events; a browser that falls maxQueued events behind
// is disconnected (its EventSource reconnects and gets a fresh snapshot).
//
// Server-sent events on /events: "snapshot" (the whole dashboard.Report, first on every
// connection), "point" (a dashboard.Point every period), "totals", "thresholds",
// "progress", "phase", "abort" and, when the test ended, "done" (the final Report), which
// ends the stream. / is the page and /report the report of the run so far, as a file; after
// the run both serve the final page until Close (the command line closes after --linger).
package webdashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/dashboard"
	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/metrics"
)

// maxQueued is how many events a browser may fall behind before it is disconnected.
const maxQueued = 256

// shutdownGrace bounds the wait for open connections when the server stops.
const shutdownGrace = 2 * time.Second

// Options are what a dashboard needs besides its Config.
type Options struct {
	// Title heads the page (the script's name).
	Title string
	// Log receives the dashboard's messages (level "info" or "warning"); nil drops them.
	Log func(level, msg string)
}

// Dashboard is the live web dashboard of one run.
type Dashboard struct {
	cfg Config
	opt Options

	mu       sync.Mutex
	tl       *dashboard.Timeline
	rep      dashboard.Report
	units    map[string]metrics.ValueType // metric name → unit, from the samples seen
	start    time.Time
	lastT    time.Duration // end of the last flushed period
	lastDur  time.Duration // its width
	dirty    bool          // samples since the last flush
	clients  map[chan []byte]struct{}
	finished bool

	ln       net.Listener
	srv      *http.Server
	served   chan struct{} // closed when Serve returned
	stopTick chan struct{}
	ticked   chan struct{} // closed when the ticker goroutine returned
	started  bool
	// closeOnce stops the server once.
	closeOnce sync.Once
}

var (
	_ engine.Output   = (*Dashboard)(nil)
	_ engine.Observer = (*Dashboard)(nil)
)

// New returns a dashboard; nothing is served before Start.
func New(cfg Config, opt Options) *Dashboard {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	return &Dashboard{cfg: cfg, opt: opt, tl: dashboard.NewTimeline(), units: map[string]metrics.ValueType{},
		clients: map[chan []byte]struct{}{},
		rep: dashboard.Report{Title: opt.Title, Generator: "pixelk6 run", Live: true, Period: cfg.Period.Seconds(),
			Breaking: -1, Points: []dashboard.Point{}, Thresholds: []dashboard.Threshold{}}}
}

// URL is the page's address ("" when the port is -1); after Start it has the real port.
func (d *Dashboard) URL() string {
	if d.cfg.Port < 0 {
		return ""
	}
	if d.ln != nil {
		return "http://" + d.ln.Addr().String()
	}
	return "http://" + d.cfg.Addr()
}

func (d *Dashboard) log(level, msg string) {
	if d.opt.Log != nil {
		d.opt.Log(level, msg)
	}
}

// Start implements engine.Output: it starts serving the page (unless the port is -1) and
// the period ticker.
func (d *Dashboard) Start() error {
	d.mu.Lock()
	d.start = time.Now()
	d.rep.Start = d.start.UnixMilli()
	d.mu.Unlock()
	if d.cfg.Port >= 0 {
		ln, err := net.Listen("tcp", d.cfg.Addr())
		if err != nil {
			return fmt.Errorf("web-dashboard: listen on %s (K6_WEB_DASHBOARD_HOST/K6_WEB_DASHBOARD_PORT): %w", d.cfg.Addr(), err)
		}
		d.ln = ln
		mux := http.NewServeMux()
		mux.HandleFunc("GET /{$}", d.servePage)
		mux.HandleFunc("GET /events", d.serveEvents)
		mux.HandleFunc("GET /report", d.serveReport)
		d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		d.served = make(chan struct{})
		go func() {
			defer close(d.served)
			_ = d.srv.Serve(ln) // returns http.ErrServerClosed at Stop
		}()
		d.log("info", "web dashboard: "+d.URL())
		if d.cfg.Open {
			d.openBrowser()
		}
	}
	d.stopTick, d.ticked = make(chan struct{}), make(chan struct{})
	go d.tick()
	d.started = true
	return nil
}

// openBrowser asks the desktop to open the page (K6_WEB_DASHBOARD_OPEN); failing that, it
// says so.
func (d *Dashboard) openBrowser() {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", d.URL())
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", d.URL())
	default:
		cmd = exec.Command("xdg-open", d.URL())
	}
	if err := cmd.Start(); err != nil {
		d.log("warning", fmt.Sprintf("web dashboard: K6_WEB_DASHBOARD_OPEN: cannot open a browser (%v); open %s yourself", err, d.URL()))
		return
	}
	go func() { _ = cmd.Wait() }() // reaps the opener, which exits once it handed the URL over
}

// tick flushes a point every period until Stop.
func (d *Dashboard) tick() {
	defer close(d.ticked)
	t := time.NewTicker(d.cfg.Period)
	defer t.Stop()
	for {
		select {
		case <-d.stopTick:
			return
		case now := <-t.C:
			d.mu.Lock()
			d.flushLocked(now.Sub(d.start))
			d.mu.Unlock()
		}
	}
}

// flushLocked closes the period that ends at elapsed and sends its point.
func (d *Dashboard) flushLocked(elapsed time.Duration) {
	dur := elapsed - d.lastT
	if dur <= 0 {
		return
	}
	d.lastT, d.lastDur = elapsed, dur
	p := d.tl.Flush(elapsed.Seconds(), dur)
	d.dirty = false
	d.rep.Points = append(d.rep.Points, p)
	d.rep.Totals = d.tl.Totals(elapsed)
	d.broadcastLocked("point", p)
	d.broadcastLocked("totals", d.rep.Totals)
}

// AddSamples implements engine.Output.
func (d *Dashboard) AddSamples(samples []metrics.Sample) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished {
		return
	}
	d.tl.Add(samples)
	for _, s := range samples {
		if s.Metric != nil {
			if _, ok := d.units[s.Metric.Name]; !ok {
				d.units[s.Metric.Name] = s.Metric.Contains
			}
		}
	}
	d.dirty = d.dirty || len(samples) > 0
}

// Observe implements engine.Observer.
func (d *Dashboard) Observe(e engine.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished {
		return
	}
	switch e := e.(type) {
	case engine.PhaseEvent:
		d.rep.Phase = e.Phase.String()
		d.broadcastLocked("phase", map[string]string{"phase": d.rep.Phase})
	case engine.ProgressEvent:
		p := progressOf(e.Progress)
		d.rep.Progress = &p
		d.broadcastLocked("progress", p)
	case engine.ThresholdsEvent:
		d.rep.Thresholds = d.thresholdsOf(e.Thresholds)
		d.broadcastLocked("thresholds", d.rep.Thresholds)
	case engine.AbortEvent:
		d.rep.Abort = &dashboard.Abort{Code: e.Code, Reason: e.Reason}
		d.broadcastLocked("abort", d.rep.Abort)
	}
}

func progressOf(p engine.Progress) dashboard.Progress {
	out := dashboard.Progress{Elapsed: p.Elapsed.Seconds(), ActiveVUs: p.ActiveVUs, InitializedVUs: p.InitializedVUs,
		Complete: p.Complete, Interrupted: p.Interrupted, Fraction: 1}
	for _, s := range p.Scenarios {
		out.Fraction = min(out.Fraction, s.Fraction())
	}
	if len(p.Scenarios) == 0 {
		out.Fraction = 0
	}
	return out
}

func (d *Dashboard) thresholdsOf(trs []engine.ThresholdResult) []dashboard.Threshold {
	out := make([]dashboard.Threshold, 0, len(trs))
	for _, t := range trs {
		th := dashboard.Threshold{Key: t.Key, Expr: t.Source, Observed: dashboard.Finite(t.Observed), OK: t.OK,
			AbortOnFail: t.AbortOnFail, Source: "script"}
		th.NoData = th.Observed == nil
		if pt, err := metrics.ParseThreshold(t.Source); err == nil {
			th.Limit = dashboard.Finite(pt.Value)
		}
		name, _, _ := strings.Cut(t.Key, "{")
		if d.units[name] == metrics.Time {
			th.Unit = "ms"
		}
		out = append(out, th)
	}
	return out
}

// broadcastLocked queues an event for every browser; one that is maxQueued behind is
// disconnected.
func (d *Dashboard) broadcastLocked(name string, v any) {
	if len(d.clients) == 0 {
		return
	}
	msg, err := sseMessage(name, v)
	if err != nil {
		d.log("warning", "web dashboard: "+err.Error())
		return
	}
	for ch := range d.clients {
		select {
		case ch <- msg:
		default: // a slow browser: drop it, its EventSource reconnects for a fresh snapshot
			delete(d.clients, ch)
			close(ch)
		}
	}
}

func sseMessage(name string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", name, err)
	}
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", name, data), nil
}

// snapshotLocked is a copy of the report that later changes do not touch.
func (d *Dashboard) snapshotLocked() dashboard.Report {
	r := d.rep
	r.Points = append([]dashboard.Point(nil), d.rep.Points...)
	return r
}

func (d *Dashboard) servePage(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	r := d.snapshotLocked()
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = dashboard.Render(w, &r) // a write error is the browser going away
}

func (d *Dashboard) serveReport(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	r := d.snapshotLocked()
	d.mu.Unlock()
	r.Live = false
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="report.html"`)
	_ = dashboard.Render(w, &r)
}

func (d *Dashboard) serveEvents(w http.ResponseWriter, req *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, maxQueued)
	d.mu.Lock()
	snap := d.snapshotLocked()
	first, err := sseMessage("snapshot", &snap)
	if d.finished {
		first, err = sseMessage("done", &snap)
		close(ch)
	} else if err == nil {
		d.clients[ch] = struct{}{}
	}
	d.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := w.Write(first); err != nil {
		d.drop(ch)
		return
	}
	fl.Flush()
	for {
		select {
		case <-req.Context().Done():
			d.drop(ch)
			return
		case msg, ok := <-ch:
			if !ok {
				return // the run ended (after "done") or this browser was too slow
			}
			if _, err := w.Write(msg); err != nil {
				d.drop(ch)
				return
			}
			fl.Flush()
		}
	}
}

// drop forgets a browser that went away.
func (d *Dashboard) drop(ch chan []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.clients[ch]; ok {
		delete(d.clients, ch)
		close(ch)
	}
}

// Stop implements engine.Output. It runs after the final threshold evaluation and progress
// snapshot: it flushes the last (partial) period, sends "done" with the final report to
// every browser and ends their event streams, and writes K6_WEB_DASHBOARD_EXPORT (its
// error is Stop's). The server goes on serving the final page until Close.
func (d *Dashboard) Stop() error {
	if !d.started {
		return nil
	}
	close(d.stopTick)
	<-d.ticked
	d.mu.Lock()
	elapsed := time.Since(d.start)
	if tail := elapsed - d.lastT; d.dirty && len(d.rep.Points) > 0 && tail < d.cfg.Period/2 {
		// A last period shorter than half a period joins the one before: its rates alone
		// would be noise. The final report ("done") carries the replaced point.
		d.lastDur += tail
		d.lastT = elapsed
		d.rep.Points[len(d.rep.Points)-1] = d.tl.Extend(elapsed.Seconds(), d.lastDur)
	} else if d.dirty || len(d.rep.Points) == 0 {
		d.flushLocked(elapsed)
	}
	d.rep.Totals = d.tl.Totals(elapsed)
	d.rep.Phase = engine.PhaseDone.String()
	d.rep.Live = false
	final := d.snapshotLocked()
	d.broadcastLocked("done", &final)
	for ch := range d.clients {
		delete(d.clients, ch)
		close(ch)
	}
	d.finished = true
	d.mu.Unlock()

	if d.cfg.Export != "" {
		return writeReport(d.cfg.Export, &final)
	}
	return nil
}

// Close stops the server (after the run, and after --linger): it waits up to shutdownGrace
// for the requests in flight. It may be called more than once, and without Start.
func (d *Dashboard) Close() error {
	var err error
	d.closeOnce.Do(func() {
		if d.srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if serr := d.srv.Shutdown(ctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = fmt.Errorf("web-dashboard: stop the server: %w", serr)
		}
		_ = d.srv.Close() // connections still open after the grace
		<-d.served
	})
	return err
}

func writeReport(path string, r *dashboard.Report) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("web-dashboard: K6_WEB_DASHBOARD_EXPORT: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("web-dashboard: K6_WEB_DASHBOARD_EXPORT: close %q: %w", path, cerr)
		}
	}()
	if err := dashboard.Render(f, r); err != nil {
		return fmt.Errorf("web-dashboard: K6_WEB_DASHBOARD_EXPORT %q: %w", path, err)
	}
	return nil
}
