package analyzer

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/summary"
)

// formatValue formats an observed value the way k6's summary does (percentages for rates,
// durations for time metrics, "/s" for counter rates, kB/MB for data), with the summary
// package's formatter: one spelling of k6's values for pixelk6 and k6verdict.
func formatValue(agg metrics.Aggregation, typ metrics.MetricType, contains metrics.ValueType, v float64) string {
	return summary.FormatAggregate(typ.String(), contains.String(), agg.String(), v, "")
}

type palette struct{ green, red, yellow, dim, reset string }

func colours(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"}
}

func (r *Result) metricType(name string) (metrics.MetricType, metrics.ValueType) {
	if r.data == nil {
		return 0, metrics.Default
	}
	mi := r.data.info[name]
	return mi.Type, mi.Contains
}

func (r *Result) observedText(tr ThresholdResult) string {
	if tr.Error != "" {
		return "error: " + tr.Error
	}
	if tr.Observed == nil {
		return "no data"
	}
	typ, contains := r.metricType(tr.Metric)
	return tr.Aggregation + "=" + formatValue(tr.agg, typ, contains, *tr.Observed)
}

// WriteText writes the human report: a THRESHOLDS block like k6's, then the key metrics.
func (r *Result) WriteText(w io.Writer, colour bool) error {
	c := colours(colour)
	var b strings.Builder
	fmt.Fprintf(&b, "  k6verdict: %d samples from %d input(s)", r.Points, len(r.Inputs))
	if r.Points > 0 {
		fmt.Fprintf(&b, ", %s → %s (%s)", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), r.Elapsed.Round(time.Millisecond))
	}
	b.WriteString("\n\n")
	if len(r.Thresholds) > 0 {
		b.WriteString("  █ THRESHOLDS \n")
		r.writeThresholdBlocks(&b, c)
		b.WriteString("\n")
	}
	b.WriteString("\n  █ METRICS \n\n")
	width := 0
	for _, m := range r.Metrics {
		width = max(width, len(displayName(m.Name))+3)
	}
	for _, m := range r.Metrics {
		name := displayName(m.Name)
		b.WriteString("    " + name + " " + strings.Repeat(".", max(3, width-len(name))) + ": ")
		b.WriteString(r.metricLine(m))
		b.WriteString("\n")
	}
	if r.BadLineCount > 0 || len(r.Warnings) > 0 {
		b.WriteString("\n")
	}
	if r.BadLineCount > 0 {
		fmt.Fprintf(&b, "  %s%d bad line(s)%s:\n", c.yellow, r.BadLineCount, c.reset)
		for _, bl := range r.BadLines {
			fmt.Fprintf(&b, "    %s:%d: %s\n", bl.File, bl.Line, bl.Err)
		}
		if int64(len(r.BadLines)) < r.BadLineCount {
			fmt.Fprintf(&b, "    … and %d more\n", r.BadLineCount-int64(len(r.BadLines)))
		}
	}
	for i, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "  %s[%d] %s%s\n", c.dim, i+1, wmsg, c.reset)
	}
	verdict := c.green + "PASS" + c.reset
	if why := r.Refusal(); why != "" {
		verdict = c.red + r.Verdict() + c.reset + ": " + why
	} else if !r.Pass() {
		verdict = c.red + "FAIL" + c.reset + ": thresholds on metrics '" + strings.Join(r.crossed(), ", ") + "' have been crossed"
	}
	fmt.Fprintf(&b, "\n  verdict: %s\n", verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// displayName shows a submetric as k6 does: "{ name:infer }" indented under its metric.
func displayName(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		return "  { " + key[i+1:len(key)-1] + " }"
	}
	return key
}

// crossed lists the keys with a failed threshold, sorted, as in k6's error message.
func (r *Result) crossed() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range r.Thresholds {
		if !t.Pass && !seen[t.Key] {
			seen[t.Key] = true
			out = append(out, t.Key)
		}
	}
	sort.Strings(out)
	return out
}

// writeThresholdBlocks groups thresholds as k6 does: by metric, submetrics indented under
// their metric when it has thresholds of its own, else on their own.
func (r *Result) writeThresholdBlocks(b *strings.Builder, c palette) {
	byKey := map[string][]ThresholdResult{}
	parentHas := map[string]bool{}
	for _, t := range r.Thresholds {
		byKey[t.Key] = append(byKey[t.Key], t)
		if t.Submetric == nil {
			parentHas[t.Metric] = true
		}
	}
	type group struct {
		title string
		keys  []string
	}
	groups := map[string]*group{}
	for k, ts := range byKey {
		m := ts[0].Metric
		title := m
		if ts[0].Submetric != nil && !parentHas[m] {
			title = k
		}
		g := groups[title]
		if g == nil {
			g = &group{title: title}
			groups[title] = g
		}
		g.keys = append(g.keys, k)
	}
	for _, title := range sortedKeys(groups) {
		g := groups[title]
		sort.Slice(g.keys, func(i, j int) bool {
			pi, pj := !strings.Contains(g.keys[i], "{"), !strings.Contains(g.keys[j], "{")
			if pi != pj {
				return pi
			}
			return g.keys[i] < g.keys[j]
		})
		fmt.Fprintf(b, "\n    %s\n", title)
		for _, k := range g.keys {
			indent := "    "
			if k != title && strings.Contains(k, "{") {
				indent = "      "
				fmt.Fprintf(b, "\n%s%s\n", indent, k[strings.IndexByte(k, '{'):])
			}
			for _, t := range byKey[k] {
				mark := c.green + "✓" + c.reset
				if !t.Pass {
					mark = c.red + "✗" + c.reset
				}
				src := ""
				if t.Source != "script" {
					src = " " + c.dim + "[" + t.Source + "]" + c.reset
				}
				fmt.Fprintf(b, "%s%s '%s' %s%s\n", indent, mark, t.Expression, r.observedText(t), src)
			}
		}
	}
}

func (r *Result) metricLine(m MetricSummary) string {
	v := m.Values
	switch m.typ {
	case metrics.Counter:
		return fmt.Sprintf("%-8s %s", formatValue(metrics.Aggregation{Kind: metrics.AggCount}, m.typ, m.contains, v["count"]),
			formatValue(metrics.Aggregation{Kind: metrics.AggRate}, m.typ, m.contains, v["rate"]))
	case metrics.Rate:
		return fmt.Sprintf("%-8s %s out of %s", formatValue(metrics.Aggregation{Kind: metrics.AggRate}, m.typ, m.contains, v["rate"]),
			summary.FormatNumber(v["passes"]), summary.FormatNumber(v["passes"]+v["fails"]))
	case metrics.Gauge:
		return fmt.Sprintf("%-8s min=%s max=%s", summary.FormatNumber(v["value"]), summary.FormatNumber(v["min"]), summary.FormatNumber(v["max"]))
	}
	parts := make([]string, 0, len(r.TrendStats))
	for _, st := range r.TrendStats {
		x, ok := v[st]
		if !ok {
			continue
		}
		s := summary.FormatNumber(x)
		if m.contains == metrics.Time && st != "count" {
			s = summary.FormatDuration(x, "")
		}
		parts = append(parts, fmt.Sprintf("%-15s", st+"="+s))
	}
	return strings.TrimRight(strings.Join(parts, ""), " ")
}

// JSONSchema names the version of the --format json document.
const JSONSchema = "k6verdict/v1"

// jsonDoc is the --format json document; see the package documentation for the schema.
type jsonDoc struct {
	Schema     string            `json:"schema"`
	Pass       bool              `json:"pass"`
	ExitCode   int               `json:"exit_code"`
	Verdict    string            `json:"verdict"`
	Reason     string            `json:"reason,omitempty"` // why there is no verdict (NO DATA, REFUSED)
	Inputs     []Input           `json:"inputs"`
	Run        jsonRun           `json:"run"`
	Thresholds []ThresholdResult `json:"thresholds"`
	Metrics    []jsonMetric      `json:"metrics"`
	Windows    []Window          `json:"windows,omitempty"`
	Breaking   *int              `json:"breaking_window,omitempty"` // first window with a failed threshold
	Warnings   []string          `json:"warnings"`
	BadLines   jsonBad           `json:"bad_lines"`
}

type jsonRun struct {
	Start           *time.Time `json:"start"`
	End             *time.Time `json:"end"`
	DurationSeconds float64    `json:"duration_seconds"`
	Samples         uint64     `json:"samples"`
	Metrics         int        `json:"metrics"`
}

type jsonMetric struct {
	Name     string             `json:"name"`
	Type     string             `json:"type"`
	Contains string             `json:"contains"`
	Samples  uint64             `json:"samples"`
	Values   map[string]float64 `json:"values"`
}

type jsonBad struct {
	Count int64     `json:"count"`
	First []BadLine `json:"first"`
}

// WriteJSON writes the --format json document.
func (r *Result) WriteJSON(w io.Writer, windows []Window) error {
	doc := jsonDoc{Schema: JSONSchema, Pass: r.Pass(), ExitCode: r.ExitCode(), Verdict: r.Verdict(), Reason: r.Refusal(), Inputs: r.Inputs,
		Thresholds: r.Thresholds, Windows: windows, Warnings: r.Warnings,
		BadLines: jsonBad{Count: r.BadLineCount, First: r.BadLines}}
	if doc.Inputs == nil {
		doc.Inputs = []Input{}
	}
	if doc.Thresholds == nil {
		doc.Thresholds = []ThresholdResult{}
	}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	if doc.BadLines.First == nil {
		doc.BadLines.First = []BadLine{}
	}
	for i := range windows {
		if len(windows[i].Failed) > 0 {
			doc.Breaking = &windows[i].Index
			break
		}
	}
	doc.Run = jsonRun{DurationSeconds: r.Elapsed.Seconds(), Samples: r.Points}
	if r.Points > 0 {
		s, e := r.Start, r.End
		doc.Run.Start, doc.Run.End = &s, &e
	}
	names := map[string]bool{}
	doc.Metrics = []jsonMetric{}
	for _, m := range r.Metrics {
		if !strings.Contains(m.Name, "{") {
			names[m.Name] = true
		}
		doc.Metrics = append(doc.Metrics, jsonMetric{m.Name, m.Type, m.Contains, m.Samples, finite(m.Values)})
	}
	doc.Run.Metrics = len(names)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// ExitCode is 0 when every threshold passed, 99 otherwise (as k6), and 2 when there is no
// verdict (Refusal: no samples, or --strict and data warnings).
func (r *Result) ExitCode() int {
	if r.Refusal() != "" {
		return ExitUsage
	}
	if r.Pass() {
		return ExitOK
	}
	return ExitThresholds
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes one test case per threshold; failures carry the observed value.
func (r *Result) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "k6verdict thresholds", Time: strconv.FormatFloat(r.Elapsed.Seconds(), 'f', 3, 64)}
	for _, t := range r.Thresholds {
		c := junitCase{Name: t.Key + " " + t.Expression, Classname: "k6verdict." + t.Source, Output: r.observedText(t)}
		if !t.Pass {
			msg := r.observedText(t) + " does not satisfy " + t.Expression
			c.Failure = &junitFailure{Message: msg, Type: "threshold", Text: t.Key + ": " + msg}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	if why := r.Refusal(); why != "" {
		s.Cases = append(s.Cases, junitCase{Name: "k6verdict input", Classname: "k6verdict.input",
			Failure: &junitFailure{Message: r.Verdict() + ": " + why, Type: "input", Text: why}})
		s.Tests++
		s.Failures++
	}
	doc := junitSuites{Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteMarkdown writes a table of the thresholds (for a CI job summary) and of key metrics.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict := "✅ all thresholds passed"
	if why := r.Refusal(); why != "" {
		verdict = "⛔ " + r.Verdict() + ": " + why
	} else if !r.Pass() {
		verdict = "❌ thresholds crossed: " + strings.Join(r.crossed(), ", ")
	}
	fmt.Fprintf(&b, "## k6verdict: %s\n\n", verdict)
	fmt.Fprintf(&b, "%d samples, %s\n\n", r.Points, r.Elapsed.Round(time.Millisecond))
	if len(r.Thresholds) > 0 {
		b.WriteString("| | metric | threshold | observed | source |\n|---|---|---|---|---|\n")
		for _, t := range r.Thresholds {
			mark := "✅"
			if !t.Pass {
				mark = "❌"
			}
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", mark, mdEscape(t.Key), mdEscape(t.Expression), mdEscape(r.observedText(t)), mdEscape(t.Source))
		}
		b.WriteString("\n")
	}
	if len(r.Metrics) > 0 {
		b.WriteString("| metric | values |\n|---|---|\n")
		for _, m := range r.Metrics {
			fmt.Fprintf(&b, "| `%s` | %s |\n", mdEscape(m.Name), mdEscape(strings.Join(strings.Fields(r.metricLine(m)), " ")))
		}
	}
	for i, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "\n[%d] %s\n", i+1, mdEscape(wmsg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
