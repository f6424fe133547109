// Package restapi serves k6's REST API (v1) for one pixelk6 run: the contract the
// k6-operator and `k6 pause|resume|status` clients drive a runner through, with k6's
// JSON:API shapes and k6 v2's behaviour.
//
//	GET   /v1/status          status (k6's execution status number), paused, vus, vus-max,
//	                          stopped, running, tainted
//	PATCH /v1/status          {"data":{"attributes":{"paused":false}}} resumes a --paused run;
//	                          "stopped":true stops the run (exit code 103); pausing after
//	                          the start and changing vus or vus-max are refused, as in k6 v2
//	GET   /v1/metrics         every metric observed so far (and, as in k6, every metric with
//	                          thresholds), with its sample (counter: count, rate; gauge:
//	                          value; rate: rate; trend: avg, min, med, max, p(90), p(95))
//	                          and tainted (null without thresholds); [] before the start
//	GET   /v1/metrics/{name}  one of them (404 when not observed)
//	GET   /v1/groups          the groups seen so far, depth first from the root, with checks
//	GET   /v1/groups/{id}     one of them; a group's id is the MD5 of its path, as in k6
//	GET   /v1/setup           the setup data
//	PUT   /v1/setup           the request body becomes the setup data (empty: none)
//	POST  /v1/setup           runs setup() now and returns its data
//	POST  /v1/teardown        runs teardown() now
//	GET   /ping, /            "ok"
//	GET   /debug/pprof/...    Go's pprof profiles (net/http/pprof) with --profiling-enabled;
//	                          without it, a text saying how to turn them on, as in k6
//	GET   /debug/vars/        the process's expvar variables (memstats, cmdline)
//	GET   /metrics            the process's Go and process metrics in Prometheus' format
//
// Errors are k6's {"errors":[{"status","title","detail"}]}. The package reads and drives
// the run only through Test, which engine.Control implements; the command line starts
// the Server (Listen) when --address is set and closes it after --linger.
package restapi

import (
	"context"
	"crypto/md5" //nolint:gosec // k6's group and check ids are MD5 hashes of their paths
	"encoding/hex"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Controller reads and drives the run's state.
type Controller interface {
	Status() engine.Status
	// SetPaused pauses (true) or resumes (false) the run, or says why it cannot.
	SetPaused(pause bool) error
	// Stop aborts the run.
	Stop()
}

// Reader reads the run's live aggregates.
type Reader interface {
	// Metrics calls f with every metric key, its sink (nil when unobserved) and
	// thresholds, and the time since the start (for counter rates); f only reads the
	// sinks and keeps none (see engine.Control.Metrics).
	Metrics(ctx context.Context, f func(ms []engine.MetricResult, elapsed time.Duration)) error
	Groups(ctx context.Context) (engine.GroupsSnapshot, error)
}

// Lifecycle runs setup() and teardown() and holds the setup data.
type Lifecycle interface {
	SetupData() json.RawMessage
	SetSetupData(data json.RawMessage)
	RunSetup(ctx context.Context) (json.RawMessage, error)
	RunTeardown(ctx context.Context) error
}

// Test is everything the API needs of a run.
type Test interface {
	Controller
	Reader
	Lifecycle
}

var _ Test = (*engine.Control)(nil)

// maxBody bounds a request body (k6's bodies are a few hundred bytes; setup data can be
// larger).
const maxBody = 64 << 20

// Handler returns the API's handler for t; profiling serves pprof's endpoints.
func Handler(t Test, profiling bool) http.Handler {
	mux := http.NewServeMux()
	profiles(mux, profiling)
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, statusDoc(t.Status()))
		case http.MethodPatch:
			patchStatus(t, w, r)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/v1/metrics", getOnly(func(w http.ResponseWriter, r *http.Request) { getMetrics(t, w, r, "") }))
	mux.HandleFunc("/v1/metrics/", getOnly(func(w http.ResponseWriter, r *http.Request) {
		getMetrics(t, w, r, strings.TrimPrefix(r.URL.Path, "/v1/metrics/"))
	}))
	mux.HandleFunc("/v1/groups", getOnly(func(w http.ResponseWriter, r *http.Request) { getGroups(t, w, r, "", false) }))
	mux.HandleFunc("/v1/groups/", getOnly(func(w http.ResponseWriter, r *http.Request) {
		getGroups(t, w, r, strings.TrimPrefix(r.URL.Path, "/v1/groups/"), true)
	}))
	mux.HandleFunc("/v1/setup", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, setupDoc(t.SetupData()))
		case http.MethodPut:
			putSetup(t, w, r)
		case http.MethodPost:
			data, err := t.RunSetup(r.Context())
			if err != nil {
				apiError(w, http.StatusInternalServerError, "Error executing setup", err.Error())
				return
			}
			writeJSON(w, http.StatusOK, setupDoc(data))
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/v1/teardown", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := t.RunTeardown(r.Context()); err != nil {
			apiError(w, http.StatusInternalServerError, "Error executing teardown", err.Error())
		}
	})
	ping := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	}
	mux.HandleFunc("/ping", ping)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		ping(w, r)
	})
	return mux
}

func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// Status is k6's status attributes, in k6's field order.
type Status struct {
	Status  engine.ExecutionStatus `json:"status"`
	Paused  *bool                  `json:"paused"`
	VUs     *int64                 `json:"vus"`
	VUsMax  *int64                 `json:"vus-max"`
	Stopped bool                   `json:"stopped"`
	Running bool                   `json:"running"`
	Tainted bool                   `json:"tainted"`
}

// StatusDoc is k6's status document: {"data":{"type":"status","id":"default","attributes":...}}.
type StatusDoc struct {
	Data struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes Status `json:"attributes"`
	} `json:"data"`
}

func statusDoc(s engine.Status) StatusDoc {
	var d StatusDoc
	d.Data.Type, d.Data.ID = "status", "default"
	d.Data.Attributes = Status{Status: s.Execution, Paused: &s.Paused, VUs: &s.VUs, VUsMax: &s.VUsMax,
		Stopped: s.Stopped, Running: s.Running, Tainted: s.Tainted}
	return d
}

// patchStatus is k6's PATCH /v1/status: stopped stops the run; otherwise paused pauses or
// resumes it, and vus or vus-max are refused (k6 v2 has no live VU changes).
func patchStatus(t Test, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		apiError(w, http.StatusBadRequest, "Couldn't read request", err.Error())
		return
	}
	var doc StatusDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		apiError(w, http.StatusBadRequest, "Invalid data", err.Error())
		return
	}
	st := doc.Data.Attributes
	if st.Stopped {
		t.Stop()
	} else {
		if st.Paused != nil {
			if err := t.SetPaused(*st.Paused); err != nil {
				apiError(w, http.StatusInternalServerError, "Pause error", err.Error())
				return
			}
		}
		if st.VUs != nil || st.VUsMax != nil {
			apiError(w, http.StatusInternalServerError, "Execution config error", "live VU configuration updates are not supported")
			return
		}
	}
	writeJSON(w, http.StatusOK, statusDoc(t.Status()))
}

// Metric is k6's metric attributes.
type Metric struct {
	Type     string             `json:"type"`
	Contains string             `json:"contains"`
	Tainted  *bool              `json:"tainted"`
	Sample   map[string]float64 `json:"sample"`
}

// MetricData is one metric of the metrics documents.
type MetricData struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes Metric `json:"attributes"`
}

// MetricsDoc is GET /v1/metrics's document.
type MetricsDoc struct {
	Data []MetricData `json:"data"`
}

// MetricDoc is GET /v1/metrics/{name}'s document.
type MetricDoc struct {
	Data MetricData `json:"data"`
}

// sample is k6's REST API sample of a sink (its Format): counter count and rate, gauge
// value, rate rate, trend avg, min, med, max, p(90), p(95).
func sample(s metrics.Sink, elapsed time.Duration) map[string]float64 {
	switch sk := s.(type) {
	case *metrics.CounterSink:
		return map[string]float64{"count": sk.Sum, "rate": sk.Rate(elapsed)}
	case *metrics.GaugeSink:
		return map[string]float64{"value": sk.Last}
	case *metrics.RateSink:
		return map[string]float64{"rate": sk.Rate()}
	}
	return s.Values(elapsed, metrics.DefaultTrendStats)
}

func metricData(mr engine.MetricResult, elapsed time.Duration) MetricData {
	d := MetricData{Type: "metrics", ID: mr.Key, Attributes: Metric{
		Type: mr.Metric.Type.String(), Contains: mr.Metric.Contains.String(), Sample: sample(mr.Sink, elapsed),
	}}
	if len(mr.Thresholds) > 0 {
		tainted := false
		for _, t := range mr.Thresholds {
			tainted = tainted || !t.OK
		}
		d.Attributes.Tainted = &tainted
	}
	return d
}

// getMetrics serves every observed metric (name "") or one. The documents are built
// inside Metrics' callback, from the live sinks.
func getMetrics(t Test, w http.ResponseWriter, r *http.Request, name string) {
	doc := MetricsDoc{Data: []MetricData{}}
	var one *MetricData
	err := t.Metrics(r.Context(), func(all []engine.MetricResult, elapsed time.Duration) {
		// As k6, a metric with thresholds (or with a submetric with thresholds) counts as
		// observed from the start, samples or not.
		withThresholds := map[string]bool{}
		for _, mr := range all {
			if len(mr.Thresholds) > 0 {
				withThresholds[mr.Key], withThresholds[mr.Metric.Name] = true, true
			}
		}
		for _, mr := range all {
			if name != "" && mr.Key != name {
				continue
			}
			if mr.Sink == nil {
				if !withThresholds[mr.Key] {
					continue
				}
				mr.Sink = metrics.NewSink(mr.Metric.Type)
			}
			d := metricData(mr, elapsed)
			if name != "" {
				one = &d
				return
			}
			doc.Data = append(doc.Data, d)
		}
	})
	switch {
	case err != nil:
		apiError(w, http.StatusInternalServerError, "Metrics error", err.Error())
	case name == "":
		writeJSON(w, http.StatusOK, doc)
	case one != nil:
		writeJSON(w, http.StatusOK, MetricDoc{Data: *one})
	default:
		apiError(w, http.StatusNotFound, "Not Found", "No metric with that ID was found")
	}
}

// Check is k6's check in a group.
type Check struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Name   string `json:"name"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// Group is k6's group attributes.
type Group struct {
	Path   string  `json:"path"`
	Name   string  `json:"name"`
	Checks []Check `json:"checks"`
}

// Relation is a JSON:API resource identifier.
type Relation struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// GroupData is one group of the groups documents.
type GroupData struct {
	Type          string `json:"type"`
	ID            string `json:"id"`
	Attributes    Group  `json:"attributes"`
	Relationships struct {
		Groups struct {
			Data []Relation `json:"data"`
		} `json:"groups"`
		Parent struct {
			Data *Relation `json:"data"`
		} `json:"parent"`
	} `json:"relationships"`
}

// GroupsDoc is GET /v1/groups's document.
type GroupsDoc struct {
	Data []GroupData `json:"data"`
}

// GroupDoc is GET /v1/groups/{id}'s document.
type GroupDoc struct {
	Data GroupData `json:"data"`
}

// ID is k6's id of a group or check path: the hex MD5 of the path.
func ID(path string) string {
	sum := md5.Sum([]byte(path)) //nolint:gosec // an id, as k6's
	return hex.EncodeToString(sum[:])
}

// groupTree flattens the groups depth first from the root, as k6 lists them; checks are
// summed across scenarios, in order of first appearance.
func groupTree(g engine.GroupsSnapshot) []GroupData {
	children := map[string][]string{}
	for _, p := range g.Paths {
		if p == "" {
			continue
		}
		parent := ""
		if i := strings.LastIndex(p, "::"); i > 0 {
			parent = p[:i]
		}
		children[parent] = append(children[parent], p)
	}
	checks := map[string][]Check{}
	idx := map[string]int{}
	for _, c := range g.Checks {
		path := c.Group + "::" + c.Name
		if i, ok := idx[path]; ok {
			checks[c.Group][i].Passes += c.Passes
			checks[c.Group][i].Fails += c.Fails
			continue
		}
		idx[path] = len(checks[c.Group])
		checks[c.Group] = append(checks[c.Group], Check{ID: ID(path), Path: path, Name: c.Name, Passes: c.Passes, Fails: c.Fails})
	}
	var out []GroupData
	var walk func(path string, parent *Relation)
	walk = func(path string, parent *Relation) {
		name := path
		if i := strings.LastIndex(path, "::"); i >= 0 {
			name = path[i+2:]
		}
		d := GroupData{Type: "groups", ID: ID(path), Attributes: Group{Path: path, Name: name, Checks: checks[path]}}
		d.Relationships.Groups.Data = []Relation{}
		for _, c := range children[path] {
			d.Relationships.Groups.Data = append(d.Relationships.Groups.Data, Relation{Type: "groups", ID: ID(c)})
		}
		d.Relationships.Parent.Data = parent
		out = append(out, d)
		self := &Relation{Type: "groups", ID: d.ID}
		for _, c := range children[path] {
			walk(c, self)
		}
	}
	walk("", nil)
	return out
}

// getGroups serves every group, or one (byID).
func getGroups(t Test, w http.ResponseWriter, r *http.Request, id string, byID bool) {
	g, err := t.Groups(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "Groups error", err.Error())
		return
	}
	all := groupTree(g)
	if !byID {
		writeJSON(w, http.StatusOK, GroupsDoc{Data: all})
		return
	}
	for _, d := range all {
		if d.ID == id {
			writeJSON(w, http.StatusOK, GroupDoc{Data: d})
			return
		}
	}
	apiError(w, http.StatusNotFound, "Not Found", "No group with that ID was found")
}

// SetupDoc is the setup data document; its attributes are {} without data, as k6's.
type SetupDoc struct {
	Data struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Data json.RawMessage `json:"data,omitempty"`
		} `json:"attributes"`
	} `json:"data"`
}

func setupDoc(data json.RawMessage) SetupDoc {
	var d SetupDoc
	d.Data.Type, d.Data.ID = "setupData", "default"
	d.Data.Attributes.Data = data
	return d
}

// putSetup is k6's PUT /v1/setup: the body (JSON, as written) becomes the setup data.
func putSetup(t Test, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		apiError(w, http.StatusBadRequest, "Error reading request body", err.Error())
		return
	}
	if len(body) == 0 {
		t.SetSetupData(nil)
	} else {
		if !json.Valid(body) {
			var v any
			err := json.Unmarshal(body, &v)
			apiError(w, http.StatusBadRequest, "Error parsing request body", err.Error())
			return
		}
		t.SetSetupData(json.RawMessage(body))
	}
	writeJSON(w, http.StatusOK, setupDoc(t.SetupData()))
}

// ErrorDoc is k6's error document.
type ErrorDoc struct {
	Errors []Error `json:"errors"`
}

// Error is one error of an ErrorDoc.
type Error struct {
	Status string `json:"status,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func (e Error) Error() string { return e.Title + ": " + e.Detail }

func apiError(w http.ResponseWriter, code int, title, detail string) {
	writeJSON(w, code, ErrorDoc{Errors: []Error{{Status: strconv.Itoa(code), Title: title, Detail: detail}}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"errors":[{"status":"500","title":"Encoding error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Server is the API's HTTP server on its listener. Listen starts it; Close stops it.
// profiles adds the process's own endpoints, as k6 serves them next to its API: pprof's
// (only when profiling, otherwise a hint), expvar's and Prometheus' Go collector's.
func profiles(mux *http.ServeMux, profiling bool) {
	if profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	} else {
		mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "To enable profiling, run pixelk6 with the --profiling-enabled flag")
		})
	}
	mux.Handle("/debug/vars/", expvar.Handler())
	mux.Handle("/metrics", promhttp.Handler())
}

// Server serves the API; Close stops it.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error
}

// Listen binds addr (host:port; port 0 picks a free one) and serves t's API on it until
// Close (profiling: see Handler). A busy port is an error naming the address, as k6's.
func Listen(addr string, t Test, profiling bool) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot start the REST API server on %q: %w", addr, err)
	}
	s := &Server{
		srv:  &http.Server{Handler: Handler(t, profiling), ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (with the port chosen for port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close shuts the server down, giving requests in flight a second, and waits for it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	if s.err != nil {
		return errors.Join(err, s.err)
	}
	return err
}
