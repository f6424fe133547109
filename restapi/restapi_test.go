package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/metrics"
)

// script is a small engine.Runner standing in for a JavaScript test: each iteration
// makes one "request" (http_reqs, http_req_duration) and one check in the group
// "visit homepage", like k6's documentation example.
type script struct {
	b         *metrics.Builtin
	setups    atomic.Int64
	teardowns atomic.Int64
	// block makes iterations wait for their context (a test that runs until stopped).
	block       bool
	teardownErr error
}

func (s *script) HasExport(name string) bool {
	return name == "default" || name == "setup" || name == "teardown"
}
func (s *script) NewVU(context.Context, engine.VUSpec) (engine.VU, error) { return nil, nil }
func (s *script) Setup(context.Context, engine.VUSpec) (json.RawMessage, error) {
	s.setups.Add(1)
	return json.RawMessage(`{"a":1}`), nil
}
func (s *script) Teardown(context.Context, engine.VUSpec, json.RawMessage) error {
	s.teardowns.Add(1)
	return s.teardownErr
}

type vu struct {
	s    *script
	spec engine.VUSpec
}

func (v *vu) Close() {}
func (v *vu) RunIteration(ctx context.Context, it engine.Iteration) error {
	now := time.Now()
	tags := metrics.TagsFromPairs("scenario", it.Scenario.Name, "group", "::visit homepage")
	v.spec.Samples.Push(ctx, []metrics.Sample{
		{Metric: v.s.b.HTTPReqs, Tags: tags, Time: now, Value: 1},
		{Metric: v.s.b.HTTPReqDuration, Tags: tags, Time: now, Value: 10},
		{Metric: v.s.b.Checks, Tags: tags.With("check", "status is 200"), Time: now, Value: 1},
		{Metric: v.s.b.Iterations, Tags: metrics.TagsFromPairs("scenario", it.Scenario.Name, "group", ""), Time: now, Value: 1},
	})
	if v.s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// vuRunner wraps script so that NewVU returns real VUs.
type vuRunner struct{ *script }

func (r vuRunner) NewVU(_ context.Context, spec engine.VUSpec) (engine.VU, error) {
	return &vu{s: r.script, spec: spec}, nil
}

// run is a test run served by the API on a loopback port.
type run struct {
	s    *script
	ctl  *engine.Control
	base string
	done chan *engine.Result
}

// startRun starts a run of scenarios (JSON) with thresholds and serves its API.
func startRun(t *testing.T, scenarios, thresholds string, paused bool, s *script) *run {
	t.Helper()
	reg := metrics.NewRegistry()
	s.b = metrics.RegisterBuiltin(reg)
	scen, err := executor.ParseScenarios(json.RawMessage(scenarios))
	if err != nil {
		t.Fatal(err)
	}
	test := &engine.Test{Scenarios: scen}
	if thresholds != "" {
		if test.Thresholds, err = metrics.ParseThresholdsJSON(json.RawMessage(thresholds)); err != nil {
			t.Fatal(err)
		}
	}
	ctl := engine.NewControl(test, paused)
	srv, err := Listen("127.0.0.1:0", ctl, false)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{s: s, ctl: ctl, base: "http://" + srv.Addr(), done: make(chan *engine.Result, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		r.done <- engine.Run(ctx, engine.Config{Runner: vuRunner{s}, Registry: reg, Test: test, Control: ctl, ThresholdsEvery: 20 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	return r
}

// call makes a request and decodes the JSON answer into out (when not nil).
func call(t *testing.T, method, url, body string, wantCode int, out any) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantCode {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, wantCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return b
}

// waitFor polls the status until ok holds (the run moves on its own goroutines).
func (r *run) waitFor(t *testing.T, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d StatusDoc
		call(t, http.MethodGet, r.base+"/v1/status", "", 200, &d)
		if ok(d.Data.Attributes) {
			return d.Data.Attributes
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never %s: %+v", what, d.Data.Attributes)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const twoVUs = `{"a":{"executor":"shared-iterations","vus":2,"iterations":6}}`

const resume = `{"data":{"type":"status","id":"default","attributes":{"paused":false}}}`

// TestStatusTransitions walks a --paused run through the API as the k6-operator does:
// paused before run (status 4, vus-max initialised, not running), refusals with k6's
// errors, the resume, and the end (status 9).
func TestStatusTransitions(t *testing.T) {
	r := startRun(t, twoVUs, "", true, &script{})
	st := r.waitFor(t, "paused before run", func(s Status) bool { return s.Status == engine.ExecPausedBeforeRun })
	want := Status{Status: 4, Paused: ptr(true), VUs: ptr[int64](0), VUsMax: ptr[int64](2)}
	if d := cmp.Diff(want, st); d != "" {
		t.Fatalf("paused status (-want +got):\n%s", d)
	}
	// The raw document has k6's shape and field names.
	raw := call(t, http.MethodGet, r.base+"/v1/status", "", 200, nil)
	const wantRaw = `{"data":{"type":"status","id":"default","attributes":{"status":4,"paused":true,"vus":0,"vus-max":2,"stopped":false,"running":false,"tainted":false}}}`
	if string(raw) != wantRaw {
		t.Fatalf("GET /v1/status:\n got %s\nwant %s", raw, wantRaw)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"pause again", `{"data":{"attributes":{"paused":true}}}`, `{"errors":[{"status":"500","title":"Pause error","detail":"execution is already paused"}]}`},
		{"live vus", `{"data":{"attributes":{"vus":3}}}`, `{"errors":[{"status":"500","title":"Execution config error","detail":"live VU configuration updates are not supported"}]}`},
		{"vus-max", `{"data":{"attributes":{"vus-max":3}}}`, `{"errors":[{"status":"500","title":"Execution config error","detail":"live VU configuration updates are not supported"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, http.MethodPatch, r.base+"/v1/status", tc.body, 500, nil); string(got) != tc.want {
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	errDoc := call(t, http.MethodPatch, r.base+"/v1/status", `{"data":`, 400, nil)
	if !strings.Contains(string(errDoc), `"title":"Invalid data"`) {
		t.Fatalf("bad JSON: %s", errDoc)
	}
	if st := r.waitFor(t, "still paused", func(Status) bool { return true }); !*st.Paused {
		t.Fatal("a refused PATCH resumed the run")
	}
	if r.s.setups.Load() != 0 {
		t.Fatal("setup() ran while paused")
	}

	var resumed StatusDoc
	call(t, http.MethodPatch, r.base+"/v1/status", resume, 200, &resumed)
	if *resumed.Data.Attributes.Paused {
		t.Fatalf("PATCH answer still paused: %+v", resumed.Data.Attributes)
	}
	res := <-r.done
	if res.ExitCode() != 0 || r.s.setups.Load() != 1 {
		t.Fatalf("exit %d, setups %d", res.ExitCode(), r.s.setups.Load())
	}
	st = r.waitFor(t, "ended", func(s Status) bool { return s.Status == engine.ExecEnded })
	if *st.Paused || st.Running || st.Stopped {
		t.Fatalf("ended status %+v", st)
	}
	// After the start, pausing is refused as k6 v2 refuses it.
	got := call(t, http.MethodPatch, r.base+"/v1/status", `{"data":{"attributes":{"paused":true}}}`, 500, nil)
	if !strings.Contains(string(got), "shared-iterations executor 'a' doesn't support pause and resume operations after its start") {
		t.Fatalf("pause after the start: %s", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestStop: PATCH stopped ends a running test with k6's exit code 103, and the status
// says stopped and interrupted.
func TestStop(t *testing.T) {
	r := startRun(t, `{"a":{"executor":"constant-vus","vus":2,"duration":"1h"}}`, "", false, &script{block: true})
	r.waitFor(t, "running", func(s Status) bool { return s.Running && *s.VUs == 2 })
	var d StatusDoc
	call(t, http.MethodPatch, r.base+"/v1/status", `{"data":{"type":"status","id":"default","attributes":{"stopped":true}}}`, 200, &d)
	if !d.Data.Attributes.Stopped {
		t.Fatalf("PATCH answer: %+v", d.Data.Attributes)
	}
	if res := <-r.done; res.ExitCode() != engine.ExitStoppedFromAPI {
		t.Fatalf("exit %d, want 103", res.ExitCode())
	}
	st := r.waitFor(t, "interrupted", func(s Status) bool { return s.Status == engine.ExecInterrupted })
	if !st.Stopped || st.Running {
		t.Fatalf("status %+v", st)
	}
}

// TestMetrics: the metrics documents have k6's shape — the keys of k6's documented
// example, the sample keys of each metric type, tainted null without thresholds and a
// boolean with them — while the test runs (read through the aggregator) and after it.
func TestMetrics(t *testing.T) {
	r := startRun(t, `{"a":{"executor":"constant-vus","vus":1,"duration":"1h"}}`, `{"http_req_duration":["p(95)<5"],"checks":["rate>0.5"],"http_req_failed":["rate<0.1"]}`,
		true, &script{block: true})
	r.waitFor(t, "paused", func(s Status) bool { return s.Status == engine.ExecPausedBeforeRun })
	if got := call(t, http.MethodGet, r.base+"/v1/metrics", "", 200, nil); string(got) != `{"data":[]}` {
		t.Fatalf("metrics while paused: %s", got)
	}
	call(t, http.MethodPatch, r.base+"/v1/status", resume, 200, nil)

	// Live: poll until the aggregator has folded the first iteration and a threshold run.
	var live MetricsDoc
	deadline := time.Now().Add(20 * time.Second)
	for {
		live = MetricsDoc{}
		call(t, http.MethodGet, r.base+"/v1/metrics", "", 200, &live)
		if m := find(live, "http_req_duration"); m != nil && m.Attributes.Tainted != nil && *m.Attributes.Tainted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live metrics never had a tainted http_req_duration: %+v", live)
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkShapes(t, r.base)
	call(t, http.MethodPatch, r.base+"/v1/status", `{"data":{"attributes":{"stopped":true}}}`, 200, nil)
	<-r.done
	// Final values, after the run.
	checkShapes(t, r.base)
	var one MetricDoc
	call(t, http.MethodGet, r.base+"/v1/metrics/http_reqs", "", 200, &one)
	if one.Data.ID != "http_reqs" || one.Data.Type != "metrics" || one.Data.Attributes.Sample["count"] != 1 {
		t.Fatalf("GET /v1/metrics/http_reqs: %+v", one)
	}
	var tainted StatusDoc
	call(t, http.MethodGet, r.base+"/v1/status", "", 200, &tainted)
	if !tainted.Data.Attributes.Tainted {
		t.Fatal("status not tainted with a failed threshold")
	}
	// A metric with thresholds is listed without samples, as k6 marks it observed.
	var failed MetricDoc
	call(t, http.MethodGet, r.base+"/v1/metrics/http_req_failed", "", 200, &failed)
	if a := failed.Data.Attributes; a.Type != "rate" || a.Sample["rate"] != 0 || a.Tainted == nil || *a.Tainted {
		t.Fatalf("http_req_failed without samples: %+v", a)
	}
	got := call(t, http.MethodGet, r.base+"/v1/metrics/no_such_metric", "", 404, nil)
	if string(got) != `{"errors":[{"status":"404","title":"Not Found","detail":"No metric with that ID was found"}]}` {
		t.Fatalf("unknown metric: %s", got)
	}
}

func find(d MetricsDoc, id string) *MetricData {
	for i := range d.Data {
		if d.Data[i].ID == id {
			return &d.Data[i]
		}
	}
	return nil
}

// checkShapes compares every metric's keys with k6's documented example.
func checkShapes(t *testing.T, base string) {
	t.Helper()
	var raw struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	call(t, http.MethodGet, base+"/v1/metrics", "", 200, &raw)
	if len(raw.Data) == 0 {
		t.Fatal("no metrics")
	}
	sampleKeys := map[string][]string{
		"trend":   {"avg", "max", "med", "min", "p(90)", "p(95)"},
		"counter": {"count", "rate"},
		"rate":    {"rate"},
		"gauge":   {"value"},
	}
	seen := map[string]bool{}
	for _, d := range raw.Data {
		if got := sortedKeys(d); !slices.Equal(got, []string{"attributes", "id", "type"}) {
			t.Fatalf("metric keys %v", got)
		}
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal(d["attributes"], &attrs); err != nil {
			t.Fatal(err)
		}
		if got := sortedKeys(attrs); !slices.Equal(got, []string{"contains", "sample", "tainted", "type"}) {
			t.Fatalf("attribute keys %v", got)
		}
		var typ, id string
		_ = json.Unmarshal(attrs["type"], &typ)
		_ = json.Unmarshal(d["id"], &id)
		var sample map[string]float64
		if err := json.Unmarshal(attrs["sample"], &sample); err != nil {
			t.Fatal(err)
		}
		if got := sortedKeys(sample); !slices.Equal(got, sampleKeys[typ]) {
			t.Errorf("%s (%s) sample keys %v, want %v", id, typ, got, sampleKeys[typ])
		}
		seen[typ] = true
		tainted := string(attrs["tainted"])
		switch id {
		case "http_req_duration":
			if tainted != "true" {
				t.Errorf("http_req_duration tainted %s, want true (p(95)=10 is not < 5)", tainted)
			}
		case "checks", "http_req_failed":
			if tainted != "false" {
				t.Errorf("checks tainted %s, want false", tainted)
			}
		default:
			if tainted != "null" {
				t.Errorf("%s tainted %s, want null (no thresholds)", id, tainted)
			}
		}
	}
	for typ := range sampleKeys {
		if !seen[typ] {
			t.Errorf("no %s metric listed", typ)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestGroups: the group tree with k6's ids (the MD5 of the path: the ids of k6's
// documented example), relationships and checks.
func TestGroups(t *testing.T) {
	r := startRun(t, twoVUs, "", false, &script{})
	if res := <-r.done; res.ExitCode() != 0 {
		t.Fatalf("exit %d", res.ExitCode())
	}
	const rootID, childID = "d41d8cd98f00b204e9800998ecf8427e", "b0470a9324a4ae563b04e9ac49fbc9cf" // k6's docs
	got := call(t, http.MethodGet, r.base+"/v1/groups", "", 200, nil)
	want := `{"data":[` +
		`{"type":"groups","id":"` + rootID + `","attributes":{"path":"","name":"","checks":null},"relationships":{"groups":{"data":[{"type":"groups","id":"` + childID + `"}]},"parent":{"data":null}}},` +
		`{"type":"groups","id":"` + childID + `","attributes":{"path":"::visit homepage","name":"visit homepage","checks":[{"id":"` + ID("::visit homepage::status is 200") + `","path":"::visit homepage::status is 200","name":"status is 200","passes":6,"fails":0}]},"relationships":{"groups":{"data":[]},"parent":{"data":{"type":"groups","id":"` + rootID + `"}}}}]}`
	if string(got) != want {
		t.Fatalf("GET /v1/groups:\n got %s\nwant %s", got, want)
	}
	var one GroupDoc
	call(t, http.MethodGet, r.base+"/v1/groups/"+childID, "", 200, &one)
	if one.Data.Attributes.Path != "::visit homepage" || one.Data.Relationships.Parent.Data.ID != rootID {
		t.Fatalf("GET /v1/groups/{id}: %+v", one)
	}
	if got := call(t, http.MethodGet, r.base+"/v1/groups/nope", "", 404, nil); !strings.Contains(string(got), "No group with that ID was found") {
		t.Fatalf("unknown group: %s", got)
	}
}

// TestGroupTreeNesting: nested groups come depth first, each after its parent, with
// checks summed over scenarios.
func TestGroupTreeNesting(t *testing.T) {
	g := engine.GroupsSnapshot{
		Paths: []string{"", "::a", "::b", "::a::x"},
		Checks: []engine.CheckResult{
			{Scenario: "s1", Group: "::a::x", Name: "ok", Passes: 2, Fails: 1},
			{Scenario: "s2", Group: "::a::x", Name: "ok", Passes: 3},
		},
	}
	var paths []string
	for _, d := range groupTree(g) {
		paths = append(paths, d.Attributes.Path)
		if d.Attributes.Path == "::a::x" {
			if c := d.Attributes.Checks; len(c) != 1 || c[0].Passes != 5 || c[0].Fails != 1 {
				t.Errorf("checks %+v", c)
			}
			if d.Relationships.Parent.Data.ID != ID("::a") {
				t.Errorf("parent %+v", d.Relationships.Parent.Data)
			}
		}
	}
	if want := []string{"", "::a", "::a::x", "::b"}; !slices.Equal(paths, want) {
		t.Fatalf("order %q, want %q", paths, want)
	}
}

// TestSetupTeardown: GET, PUT and POST /v1/setup and POST /v1/teardown, with k6's
// documents; PUT's body becomes the data the scenarios get.
func TestSetupTeardown(t *testing.T) {
	s := &script{}
	r := startRun(t, twoVUs, "", true, s)
	r.waitFor(t, "paused", func(st Status) bool { return st.Status == engine.ExecPausedBeforeRun })
	base := r.base + "/v1/setup"
	if got := call(t, http.MethodGet, base, "", 200, nil); string(got) != `{"data":{"type":"setupData","id":"default","attributes":{}}}` {
		t.Fatalf("no setup data: %s", got)
	}
	if got := call(t, http.MethodPost, base, "", 200, nil); string(got) != `{"data":{"type":"setupData","id":"default","attributes":{"data":{"a":1}}}}` {
		t.Fatalf("POST /v1/setup: %s", got)
	}
	if s.setups.Load() != 1 {
		t.Fatalf("setups %d", s.setups.Load())
	}
	if got := call(t, http.MethodPut, base, `{"a":1,"b":2}`, 200, nil); string(got) != `{"data":{"type":"setupData","id":"default","attributes":{"data":{"a":1,"b":2}}}}` {
		t.Fatalf("PUT /v1/setup: %s", got)
	}
	if got := call(t, http.MethodPut, base, `{"a":`, 400, nil); !strings.Contains(string(got), `"title":"Error parsing request body"`) {
		t.Fatalf("PUT bad JSON: %s", got)
	}
	if got := call(t, http.MethodGet, base, "", 200, nil); !bytes.Contains(got, []byte(`"data":{"a":1,"b":2}`)) {
		t.Fatalf("a bad PUT changed the data: %s", got)
	}
	call(t, http.MethodPost, r.base+"/v1/teardown", "", 200, nil)
	if s.teardowns.Load() != 1 {
		t.Fatalf("teardowns %d", s.teardowns.Load())
	}
	s.teardownErr = errors.New("teardown failed")
	if got := call(t, http.MethodPost, r.base+"/v1/teardown", "", 500, nil); !strings.Contains(string(got), `"title":"Error executing teardown","detail":"teardown failed"`) {
		t.Fatalf("teardown error: %s", got)
	}
	s.teardownErr = nil
	call(t, http.MethodPatch, r.base+"/v1/status", resume, 200, nil)
	<-r.done
}

// TestMethodsAndPing: k6's 405 for other methods, and its ping.
func TestMethodsAndPing(t *testing.T) {
	r := startRun(t, twoVUs, "", true, &script{})
	for _, c := range []struct{ method, path string }{
		{http.MethodDelete, "/v1/status"}, {http.MethodPost, "/v1/metrics"}, {http.MethodPut, "/v1/metrics/vus"},
		{http.MethodPost, "/v1/groups"}, {http.MethodDelete, "/v1/setup"}, {http.MethodGet, "/v1/teardown"},
	} {
		call(t, c.method, r.base+c.path, "", http.StatusMethodNotAllowed, nil)
	}
	for _, p := range []string{"/ping", "/"} {
		if got := call(t, http.MethodGet, r.base+p, "", 200, nil); string(got) != "ok" {
			t.Fatalf("%s: %q", p, got)
		}
	}
	call(t, http.MethodPatch, r.base+"/v1/status", resume, 200, nil)
	<-r.done
}

// TestListenBusyPort: a port in use is an error naming the address.
func TestListenBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String(), engine.NewControl(&engine.Test{}, false), false)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Listen on a busy port: %v", err)
	}
}

// TestProcessEndpoints: pprof only with profiling (else k6's hint), expvar's and the Go
// collector's metrics always, on the server's own address.
func TestProcessEndpoints(t *testing.T) {
	for _, profiling := range []bool{false, true} {
		srv, err := Listen("127.0.0.1:0", engine.NewControl(&engine.Test{}, false), profiling)
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + srv.Addr()
		index := string(call(t, http.MethodGet, base+"/debug/pprof/", "", http.StatusOK, nil))
		if profiling != strings.Contains(index, "goroutine") || profiling == strings.Contains(index, "--profiling-enabled") {
			t.Errorf("profiling %v: /debug/pprof/ says %.200q", profiling, index)
		}
		if profiling {
			heap := call(t, http.MethodGet, base+"/debug/pprof/heap", "", http.StatusOK, nil)
			if len(heap) < 2 || heap[0] != 0x1f || heap[1] != 0x8b { // a gzipped profile
				t.Errorf("/debug/pprof/heap is not a profile: %.40q", heap)
			}
		}
		var vars map[string]json.RawMessage
		call(t, http.MethodGet, base+"/debug/vars/", "", http.StatusOK, &vars)
		if _, ok := vars["memstats"]; !ok {
			t.Errorf("/debug/vars/ has no memstats: %d keys", len(vars))
		}
		if m := string(call(t, http.MethodGet, base+"/metrics", "", http.StatusOK, nil)); !strings.Contains(m, "go_goroutines ") {
			t.Errorf("/metrics has no go_goroutines: %.200q", m)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
