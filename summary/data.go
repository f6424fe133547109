// Package summary owns pixelk6's end-of-test summary: the data that k6 hands to a script's
// handleSummary(data) (type Data, whose JSON encoding is exactly k6's), the human-readable
// text summary that k6 prints on stdout (Text, compact and full modes) and the
// --summary-export JSON file (Export).
//
// The command line builds one Data at the end of a test run from the engine's sinks and
// thresholds; the summary package only formats it and computes nothing from samples.
package summary

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pixelk6/pixelk6/metrics"
)

// Data is the end-of-test summary. Its JSON encoding is the object k6 passes to
// handleSummary(data):
//
//	{"options": {...}, "state": {...}, "metrics": {name: {...}}, "root_group": {...}}
//
// Fields tagged json:"-" are not part of k6's handleSummary data; they carry what the text
// summary needs beyond it (threshold observed values, per-scenario and per-group metrics
// for --summary-mode=full).
type Data struct {
	Options Options `json:"options"`
	State   State   `json:"state"`
	// Metrics maps a metric name, or a submetric key such as
	// "http_req_duration{expected_response:true}", to its summary.
	Metrics map[string]*Metric `json:"metrics"`
	// RootGroup is the test's root group ("", path "") with its groups and checks.
	RootGroup *Group `json:"root_group"`
	// SetupData is what setup() returned, as JSON (k6's data.setup_data); omitted when the
	// test had no setup data.
	SetupData json.RawMessage `json:"setup_data,omitempty"`

	// Scenarios holds, for --summary-mode=full, each scenario's own metrics (samples tagged
	// scenario=<name>) and its group tree with per-group metrics and checks, in print
	// order. Only Text in Full mode reads it; it may be nil otherwise.
	Scenarios []*Scenario `json:"-"`
}

// Options are the summary options of the run (k6's data.options).
type Options struct {
	// SummaryTrendStats are the trend stats to show, e.g. ["avg","min","med","max","p(90)","p(95)"].
	SummaryTrendStats []string `json:"summaryTrendStats"`
	// SummaryTimeUnit is "" (automatic) or one of "s", "ms", "us".
	SummaryTimeUnit string `json:"summaryTimeUnit"`
	NoColor         bool   `json:"noColor"`
}

// State describes the run (k6's data.state).
type State struct {
	IsStdOutTTY bool `json:"isStdOutTTY"`
	IsStdErrTTY bool `json:"isStdErrTTY"`
	// TestRunDurationMs is the test run's duration in milliseconds; counter rates are
	// count / (TestRunDurationMs/1000).
	TestRunDurationMs float64 `json:"testRunDurationMs"`
}

// Metric is one metric's or submetric's summary.
type Metric struct {
	// Type is "counter", "gauge", "rate" or "trend".
	Type string `json:"type"`
	// Contains is "default", "time" (milliseconds) or "data" (bytes).
	Contains string `json:"contains"`
	// Values are k6's summary values: counter {count, rate (per second)}; gauge {value,
	// min, max}; rate {rate ∈ [0,1], passes, fails}; trend: the SummaryTrendStats keys
	// ("avg", "min", "med", "max", "p(90)", ...), in the metric's unit (ms for time).
	// metrics.Sink.Values returns exactly this map.
	Values map[string]float64 `json:"values"`
	// Thresholds are the metric's thresholds in the order they were written; omitted from
	// the JSON when there are none.
	Thresholds Thresholds `json:"thresholds,omitempty"`
}

// NewMetric returns the summary of a metric of type t holding contains values.
func NewMetric(t metrics.MetricType, contains metrics.ValueType, values map[string]float64) *Metric {
	return &Metric{Type: t.String(), Contains: contains.String(), Values: values}
}

// Threshold is the outcome of one threshold expression.
type Threshold struct {
	// Source is the expression as written, e.g. "p(95)<500".
	Source string
	// OK is false when the threshold was crossed.
	OK bool
	// Agg is the aggregation that was compared, as k6 prints it ("p(95)", "rate", "avg");
	// Observed is its value at the end of the run in the metric's unit. Text prints
	// "<Agg>=<Observed>". Neither is part of the JSON.
	Agg      string
	Observed float64
}

// Thresholds is a metric's threshold outcomes in written order. It encodes as k6's object
// {"p(95)<500": {"ok": true}, ...}.
type Thresholds []Threshold

// MarshalJSON encodes the thresholds as {"<source>": {"ok": <bool>}} in written order.
func (ts Thresholds) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encodeNoEscape(&b, t.Source); err != nil {
			return nil, err
		}
		if t.OK {
			b.WriteString(`:{"ok":true}`)
		} else {
			b.WriteString(`:{"ok":false}`)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encodeNoEscape writes v as JSON without HTML escaping and without a trailing newline.
func encodeNoEscape(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1)
	return nil
}

// JSON returns d's encoding, the handleSummary data, without HTML escaping (k6 writes
// "p(95)<500", not "p(95)\u003c500"; json.Marshal would escape it).
func (d *Data) JSON() ([]byte, error) {
	var b bytes.Buffer
	if err := encodeNoEscape(&b, d); err != nil {
		return nil, fmt.Errorf("summary data: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalJSON decodes k6's {"<source>": {"ok": <bool>}} object. JSON objects carry no
// order, so the result is sorted by source.
func (ts *Thresholds) UnmarshalJSON(p []byte) error {
	var m map[string]struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal(p, &m); err != nil {
		return fmt.Errorf("thresholds: %w", err)
	}
	out := make(Thresholds, 0, len(m))
	for src, v := range m {
		out = append(out, Threshold{Source: src, OK: v.OK})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	*ts = out
	return nil
}

// Group is a group of the test with its subgroups and checks. The root group has name
// and path "".
type Group struct {
	Name string `json:"name"`
	// Path is the parent's path, "::", and the name: "::inference", "::a::b".
	Path string `json:"path"`
	// ID is GroupID(Path).
	ID     string   `json:"id"`
	Groups []*Group `json:"groups"`
	Checks []*Check `json:"checks"`

	// Metrics are the metrics of the samples tagged with this group, for the full text
	// summary; not part of the JSON.
	Metrics map[string]*Metric `json:"-"`
}

// Check is one check's outcome.
type Check struct {
	Name string `json:"name"`
	// Path is the group's path, "::", and the name: "::inference::status is 200".
	Path   string `json:"path"`
	ID     string `json:"id"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// Scenario is one scenario's part of the full text summary.
type Scenario struct {
	Name string
	// Metrics are the metrics of the samples tagged scenario=Name.
	Metrics map[string]*Metric
	// RootGroup holds this scenario's checks (counted over its iterations only) and groups
	// with their per-group metrics.
	RootGroup *Group
}

// GroupID returns k6's id of a group or check: the hex MD5 of its path.
func GroupID(path string) string {
	sum := md5.Sum([]byte(path))
	return hex.EncodeToString(sum[:])
}

// NewRootGroup returns an empty root group.
func NewRootGroup() *Group { return &Group{ID: GroupID(""), Groups: []*Group{}, Checks: []*Check{}} }

// Group returns the subgroup called name, adding it (last) if needed.
func (g *Group) Group(name string) *Group {
	for _, c := range g.Groups {
		if c.Name == name {
			return c
		}
	}
	p := g.Path + "::" + name
	c := &Group{Name: name, Path: p, ID: GroupID(p), Groups: []*Group{}, Checks: []*Check{}}
	g.Groups = append(g.Groups, c)
	return c
}

// Check returns the check called name in g, adding it (last) if needed.
func (g *Group) Check(name string) *Check {
	for _, c := range g.Checks {
		if c.Name == name {
			return c
		}
	}
	p := g.Path + "::" + name
	c := &Check{Name: name, Path: p, ID: GroupID(p)}
	g.Checks = append(g.Checks, c)
	return c
}

// allChecks returns the checks of g and of its subgroups, depth first, g's own first.
func (g *Group) allChecks() []*Check {
	if g == nil {
		return nil
	}
	out := append([]*Check(nil), g.Checks...)
	for _, c := range g.Groups {
		out = append(out, c.allChecks()...)
	}
	return out
}

// NewThreshold records the end-of-run outcome of t, where observed and ok are what
// t.Check returned.
func NewThreshold(t *metrics.Threshold, observed float64, ok bool) Threshold {
	return Threshold{Source: t.Source, OK: ok, Agg: t.Agg.String(), Observed: observed}
}
