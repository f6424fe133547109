package summary

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mode is the text summary's level of detail (k6's --summary-mode).
type Mode uint8

// The summary modes.
const (
	// Compact is k6's default: thresholds, then the totals, with only the main HTTP metrics.
	Compact Mode = iota
	// Full adds every HTTP timing metric and a section per scenario and per group.
	Full
	// Disabled prints no summary (and, as in k6, skips handleSummary); callers skip Text,
	// which would print it as Compact.
	Disabled
)

// ParseMode parses k6's --summary-mode: "compact" ("" too), "full" or "disabled" (k6 also
// accepts "legacy", which is not supported). It is the one parser of the summary mode.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "compact", "":
		return Compact, nil
	case "full":
		return Full, nil
	case "disabled":
		return Disabled, nil
	}
	return 0, fmt.Errorf("invalid --summary-mode %q (want compact, full or disabled)", s)
}

// TextOptions control Text.
type TextOptions struct {
	Mode Mode
	// NoColor disables ANSI colours (k6's --no-color, or stdout not a terminal).
	NoColor bool
}

// metrics hidden from the text summary in every mode (checks has its own paragraph).
var hiddenAlways = map[string]bool{"checks": true, "group_duration": true}

// metrics shown only in full mode.
var fullOnly = map[string]bool{
	"http_req_blocked": true, "http_req_connecting": true, "http_req_receiving": true,
	"http_req_sending": true, "http_req_tls_handshaking": true, "http_req_waiting": true,
}

// sections in print order; section picks a metric's section by its name.
var sectionOrder = []string{"CUSTOM", "HTTP", "EXECUTION", "NETWORK", "BROWSER", "GRPC", "WEBSOCKET"}

func section(name string) string {
	switch name {
	case "iteration_duration", "iterations", "vus", "vus_max", "dropped_iterations":
		return "EXECUTION"
	case "data_received", "data_sent":
		return "NETWORK"
	}
	switch {
	case strings.HasPrefix(name, "http_"):
		return "HTTP"
	case strings.HasPrefix(name, "ws_"):
		return "WEBSOCKET"
	case strings.HasPrefix(name, "grpc_"):
		return "GRPC"
	case strings.HasPrefix(name, "browser_"):
		return "BROWSER"
	}
	return "CUSTOM"
}

const (
	ansiReset = "\x1b[0m"
	ansiGreen = "\x1b[32m"
	ansiRed   = "\x1b[31m"
	ansiCyan  = "\x1b[36m"
	ansiFaint = "\x1b[2m"
	ansiBold  = "\x1b[1m"
)

// printer writes the summary, remembering the first write error.
type printer struct {
	w        *bufio.Writer
	color    bool
	stats    []string
	timeUnit string
	dur      float64 // test run duration, s
}

func (p *printer) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (p *printer) line(s string) {
	p.w.WriteString(s)
	p.w.WriteByte('\n')
}

// Text writes k6's end-of-test summary: the "█ THRESHOLDS" block (when any metric has
// thresholds), the "█ TOTAL RESULTS" block and, in Full mode, a "█ SCENARIO: name" block
// per scenario with its groups. The first line is the first block's header; the text ends
// with the last line's newline. In k6's stdout two blank lines precede it and four blank
// lines separate it from the final progress line (see k6-reference/samples/*-stdout.txt).
//
// Layout rules (observed in k6's output): metrics are grouped in sections (CUSTOM, HTTP,
// EXECUTION, NETWORK, BROWSER, GRPC, WEBSOCKET; by name: http_*, ws_*, grpc_*, browser_*,
// the execution and network built-ins, everything else is CUSTOM), sorted by name, with
// their submetrics ("{ tag:value }") under them in the totals. checks and group_duration
// are not listed; compact mode also leaves out http_req_blocked, _connecting, _receiving,
// _sending, _tls_handshaking and _waiting. Within a block, names are padded with dots to
// the longest name plus three, and every value column is padded to its widest entry.
func Text(w io.Writer, d *Data, opts TextOptions) error {
	p := &printer{
		w:        bufio.NewWriter(w),
		color:    !opts.NoColor,
		stats:    d.Options.SummaryTrendStats,
		timeUnit: d.Options.SummaryTimeUnit,
		dur:      d.State.TestRunDurationMs / 1000,
	}
	if len(p.stats) == 0 {
		p.stats = []string{"avg", "min", "med", "max", "p(90)", "p(95)"}
	}
	blocks := 0
	sep := func() {
		if blocks > 0 {
			p.line("")
			p.line("")
		}
		blocks++
	}
	if hasThresholds(d.Metrics) {
		sep()
		p.thresholds(d.Metrics)
	}
	sep()
	p.line("  " + p.paint(ansiBold, "█ TOTAL RESULTS") + " ")
	p.block("    ", d.Metrics, d.RootGroup.allChecks(), opts.Mode, true)
	if opts.Mode == Full {
		for _, sc := range d.Scenarios {
			sep()
			p.line("  " + p.paint(ansiBold, "█ SCENARIO: "+sc.Name) + " ")
			p.block("    ", sc.Metrics, sc.RootGroup.allChecks(), Full, false)
			if sc.RootGroup != nil {
				p.groups("    ", sc.RootGroup.Groups)
			}
		}
	}
	return p.w.Flush()
}

func hasThresholds(ms map[string]*Metric) bool {
	for _, m := range ms {
		if len(m.Thresholds) > 0 {
			return true
		}
	}
	return false
}

// splitKey splits "name{tags}" into "name" and "tags" (sub false for a plain name).
func splitKey(key string) (name, tags string, sub bool) {
	i := strings.IndexByte(key, '{')
	if i < 0 || !strings.HasSuffix(key, "}") {
		return key, "", false
	}
	return key[:i], key[i+1 : len(key)-1], true
}

func sortedKeys(ms map[string]*Metric) []string {
	keys := make([]string, 0, len(ms))
	for k := range ms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (p *printer) thresholds(ms map[string]*Metric) {
	p.line("  " + p.paint(ansiBold, "█ THRESHOLDS") + " ")
	for _, key := range sortedKeys(ms) {
		m := ms[key]
		if len(m.Thresholds) == 0 {
			continue
		}
		name, tags, sub := splitKey(key)
		if sub {
			if parent := ms[name]; parent != nil && len(parent.Thresholds) > 0 {
				p.line("")
				p.line("      {" + tags + "}")
				p.thresholdLines("      ", m)
				continue
			}
		}
		p.line("")
		p.line("    " + key)
		p.thresholdLines("    ", m)
	}
}

func (p *printer) thresholdLines(indent string, m *Metric) {
	for _, t := range m.Thresholds {
		mark := p.paint(ansiGreen, "✓")
		if !t.OK {
			mark = p.paint(ansiRed, "✗")
		}
		obs := p.aggValue(m, t.Agg, t.Observed)
		p.line(indent + mark + " '" + t.Source + "' " + t.Agg + "=" + p.paint(ansiCyan, obs))
	}
}

// aggValue formats an aggregation's observed value.
func (p *printer) aggValue(m *Metric, agg string, v float64) string {
	return FormatAggregate(m.Type, m.Contains, agg, v, p.timeUnit)
}

// row is one metric line of a block before alignment.
type row struct {
	name   string // with its extra indent for submetrics
	trend  []string
	value  string
	extras []string
}

// block writes a block's checks paragraph and its metric sections at indent.
func (p *printer) block(indent string, ms map[string]*Metric, checks []*Check, mode Mode, subs bool) {
	p.checks(indent, ms["checks"], checks)

	bySection := map[string][]row{}
	for _, key := range sortedKeys(ms) {
		name, tags, sub := splitKey(key)
		if hiddenAlways[name] || (mode == Compact && fullOnly[name]) {
			continue
		}
		m := ms[key]
		r := p.metricRow(m)
		if sub {
			if !subs {
				continue
			}
			if ms[name] != nil {
				r.name = "  { " + tags + " }"
			} else {
				r.name = key
			}
		} else {
			r.name = key
		}
		sec := section(name)
		bySection[sec] = append(bySection[sec], r)
	}

	// Column widths shared by every section of the block.
	nameW, valueW := 0, 0
	var extraW [2]int
	var trendW []int
	for _, rows := range bySection {
		for _, r := range rows {
			nameW = max(nameW, runeLen(r.name))
			if r.trend != nil {
				for i, c := range r.trend {
					if i >= len(trendW) {
						trendW = append(trendW, 0)
					}
					trendW[i] = max(trendW[i], runeLen(c))
				}
				continue
			}
			valueW = max(valueW, runeLen(r.value))
			for i, e := range r.extras {
				if i < len(extraW) {
					extraW[i] = max(extraW[i], runeLen(e))
				}
			}
		}
	}
	nameW += 3

	for _, sec := range sectionOrder {
		rows := bySection[sec]
		if len(rows) == 0 {
			continue
		}
		p.line("")
		p.line(indent + sec)
		for _, r := range rows {
			var b strings.Builder
			b.WriteString(indent)
			b.WriteString(r.name)
			b.WriteString(p.paint(ansiFaint, strings.Repeat(".", nameW-runeLen(r.name))))
			b.WriteString(": ")
			if r.trend != nil {
				for i, c := range r.trend {
					if i > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(p.paintStat(c))
					b.WriteString(strings.Repeat(" ", trendW[i]-runeLen(c)))
				}
			} else {
				b.WriteString(p.paint(ansiCyan, r.value))
				b.WriteString(strings.Repeat(" ", valueW-runeLen(r.value)))
				if len(r.extras) == 1 {
					b.WriteByte(' ')
					b.WriteString(p.paint(ansiCyan, r.extras[0]))
				} else {
					for i, e := range r.extras {
						b.WriteByte(' ')
						b.WriteString(p.paintStat(e))
						if i < len(extraW) {
							b.WriteString(strings.Repeat(" ", extraW[i]-runeLen(e)))
						}
					}
				}
			}
			p.line(b.String())
		}
	}
}

// paintStat colours the value of "name=value".
func (p *printer) paintStat(s string) string {
	i := strings.IndexByte(s, '=')
	if !p.color || i < 0 {
		return s
	}
	return s[:i+1] + p.paint(ansiCyan, s[i+1:])
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// metricRow formats a metric's values.
func (p *printer) metricRow(m *Metric) row {
	v := m.Values
	switch m.Type {
	case "trend":
		cols := make([]string, len(p.stats))
		for i, s := range p.stats {
			x, ok := v[s]
			if !ok {
				cols[i] = s + "=N/A"
				continue
			}
			contains := m.Contains
			if s == "count" { // a number of samples, whatever the trend holds
				contains = "default"
			}
			cols[i] = s + "=" + formatValue(x, contains, p.timeUnit)
		}
		return row{trend: cols}
	case "counter":
		return row{
			value:  formatValue(v["count"], m.Contains, p.timeUnit),
			extras: []string{formatValue(v["rate"], m.Contains, p.timeUnit) + "/s"},
		}
	case "rate":
		passes, fails := v["passes"], v["fails"]
		return row{
			value:  formatPercent(v["rate"]),
			extras: []string{formatInt(passes) + " out of " + formatInt(passes+fails)},
		}
	case "gauge":
		return row{
			value: formatValue(v["value"], m.Contains, p.timeUnit),
			extras: []string{
				"min=" + formatValue(v["min"], m.Contains, p.timeUnit),
				"max=" + formatValue(v["max"], m.Contains, p.timeUnit),
			},
		}
	}
	return row{value: "?"}
}

func formatInt(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) }

// checks writes the checks paragraph: totals from the checks metric (or, without it, the
// sum of the checks), then one line per check.
func (p *printer) checks(indent string, m *Metric, checks []*Check) {
	var passes, fails float64
	if m != nil {
		passes, fails = m.Values["passes"], m.Values["fails"]
	} else {
		for _, c := range checks {
			passes += float64(c.Passes)
			fails += float64(c.Fails)
		}
	}
	total := passes + fails
	if total == 0 && len(checks) == 0 {
		return
	}
	rate := 0.0
	if p.dur > 0 {
		rate = total / p.dur
	}
	var succ, fail float64
	if total > 0 {
		succ, fail = passes/total, fails/total
	}
	vals := []string{formatInt(total), formatPercent(succ), formatPercent(fail)}
	w := 0
	for _, v := range vals {
		w = max(w, runeLen(v))
	}
	pad := func(s string) string { return p.paint(ansiCyan, s) + strings.Repeat(" ", w-runeLen(s)) }
	p.line("")
	p.line(indent + "checks_total" + p.paint(ansiFaint, ".......") + ": " + pad(vals[0]) + " " + p.paint(ansiCyan, formatNumber(rate)+"/s"))
	p.line(indent + "checks_succeeded" + p.paint(ansiFaint, "...") + ": " + pad(vals[1]) + " " + p.paint(ansiCyan, formatInt(passes)+" out of "+formatInt(total)))
	p.line(indent + "checks_failed" + p.paint(ansiFaint, "......") + ": " + pad(vals[2]) + " " + p.paint(ansiCyan, formatInt(fails)+" out of "+formatInt(total)))
	if len(checks) == 0 {
		return
	}
	p.line("")
	for _, c := range checks {
		if c.Fails == 0 {
			p.line(indent + p.paint(ansiGreen, "✓ "+c.Name))
			continue
		}
		p.line(indent + p.paint(ansiRed, "✗ "+c.Name))
		pct := int64(0)
		if t := c.Passes + c.Fails; t > 0 {
			pct = c.Passes * 100 / t
		}
		p.line(indent + "  " + p.paint(ansiFaint, fmt.Sprintf("↳  %d%% — ✓ %d / ✗ %d", pct, c.Passes, c.Fails)))
	}
}

// groups writes "↳ GROUP: name" sub-blocks, nested groups indented further.
func (p *printer) groups(indent string, gs []*Group) {
	for _, g := range gs {
		p.line("")
		p.line(indent + p.paint(ansiBold, "↳ GROUP: "+g.Name) + " ")
		p.block(indent+"  ", g.Metrics, g.Checks, Full, false)
		p.groups(indent+"  ", g.Groups)
	}
}
