package summary

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTextFullGolden renders --summary-mode=full for the run captured in
// rest-full-stdout.txt. That run has no NDJSON or export file, so its Data is rebuilt from
// the printed numbers themselves (parseFullBlock); the test therefore checks the layout —
// sections, per-scenario and per-group blocks, indentation, column widths, check lists —
// and that re-formatting printed values is stable. The THRESHOLDS block is the compact
// mode's and is covered by TestTextGolden, so the comparison starts at TOTAL RESULTS.
func TestTextFullGolden(t *testing.T) {
	raw, err := os.ReadFile(samplePath(t, "rest-full-stdout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := summaryPart(t, string(raw))
	want = want[strings.Index(want, "  █ TOTAL RESULTS"):]

	total, rest, _ := strings.Cut(want, "  █ SCENARIO: pixel_rest \n")
	scen, groupsText, _ := strings.Cut(rest, "    ↳ GROUP: ")
	d := &Data{
		Options: Options{SummaryTrendStats: []string{"avg", "min", "med", "max", "p(90)", "p(95)"}},
		// The run's duration is not printed; this one reproduces every printed rate
		// (365 iterations at 36.097871/s, 1460 checks at 144.391486/s).
		State:   State{TestRunDurationMs: 365 / 36.09787144 * 1000},
		Metrics: map[string]*Metric{},
	}
	d.RootGroup = NewRootGroup()
	parseFullBlock(t, total, d.Metrics, nil)
	sc := &Scenario{Name: "pixel_rest", Metrics: map[string]*Metric{}, RootGroup: NewRootGroup()}
	parseFullBlock(t, scen, sc.Metrics, nil)
	for _, gt := range strings.Split(groupsText, "    ↳ GROUP: ") {
		name, body, _ := strings.Cut(gt, " \n")
		g := sc.RootGroup.Group(name)
		g.Metrics = map[string]*Metric{}
		parseFullBlock(t, body, g.Metrics, g)
		// The totals list every check, group by group.
		tg := d.RootGroup.Group(name)
		for _, c := range g.Checks {
			*tg.Check(c.Name) = *c
		}
	}
	d.Scenarios = []*Scenario{sc}

	var got bytes.Buffer
	if err := Text(&got, d, TextOptions{Mode: Full, NoColor: true}); err != nil {
		t.Fatal(err)
	}
	compareLines(t, got.String(), want)
}

var (
	metricLineRE = regexp.MustCompile(`^\s+(\{ .* \}|[a-z_0-9]+)\.*: (.*)$`)
	checkLineRE  = regexp.MustCompile(`^\s+✓ (.*)$`)
	outOfRE      = regexp.MustCompile(`^(\S+)%\s+(\d+) out of (\d+)$`)
)

// parseFullBlock reads one printed block back into metrics (and, for a group, its checks).
func parseFullBlock(t *testing.T, text string, ms map[string]*Metric, g *Group) {
	t.Helper()
	parent := ""
	for _, line := range strings.Split(text, "\n") {
		if m := checkLineRE.FindStringSubmatch(line); m != nil {
			if g != nil {
				g.Check(m[1]).Passes = 1
			}
			continue
		}
		m := metricLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name, val := m[1], strings.TrimSpace(m[2])
		switch {
		case name == "checks_total" || name == "checks_failed":
			continue
		case name == "checks_succeeded":
			o := outOfRE.FindStringSubmatch(val)
			p, _ := strconv.ParseFloat(o[2], 64)
			n, _ := strconv.ParseFloat(o[3], 64)
			ms["checks"] = &Metric{Type: "rate", Contains: "default", Values: map[string]float64{"rate": p / n, "passes": p, "fails": n - p}}
			continue
		case strings.HasPrefix(name, "{ "):
			name = parent + "{" + strings.TrimSuffix(strings.TrimPrefix(name, "{ "), " }") + "}"
		default:
			parent = name
		}
		ms[name] = parseValues(t, val)
	}
}

func parseValues(t *testing.T, val string) *Metric {
	t.Helper()
	fields := strings.Fields(val)
	switch {
	case strings.HasPrefix(val, "avg="):
		m := &Metric{Type: "trend", Contains: "time", Values: map[string]float64{}}
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			m.Values[k] = parseDur(t, v)
		}
		return m
	case strings.Contains(val, " out of "):
		o := outOfRE.FindStringSubmatch(val)
		pct, _ := strconv.ParseFloat(o[1], 64)
		p, _ := strconv.ParseFloat(o[2], 64)
		n, _ := strconv.ParseFloat(o[3], 64)
		return &Metric{Type: "rate", Contains: "default", Values: map[string]float64{"rate": pct / 100, "passes": p, "fails": n - p}}
	case strings.Contains(val, "min="):
		v, _ := strconv.ParseFloat(fields[0], 64)
		lo, _ := strconv.ParseFloat(strings.TrimPrefix(fields[1], "min="), 64)
		hi, _ := strconv.ParseFloat(strings.TrimPrefix(fields[2], "max="), 64)
		return &Metric{Type: "gauge", Contains: "default", Values: map[string]float64{"value": v, "min": lo, "max": hi}}
	case strings.Contains(val, "B"):
		return &Metric{Type: "counter", Contains: "data", Values: map[string]float64{
			"count": parseBytes(t, fields[0], fields[1]), "rate": parseBytes(t, fields[2], strings.TrimSuffix(fields[3], "/s"))}}
	}
	c, _ := strconv.ParseFloat(fields[0], 64)
	r, _ := strconv.ParseFloat(strings.TrimSuffix(fields[1], "/s"), 64)
	return &Metric{Type: "counter", Contains: "default", Values: map[string]float64{"count": c, "rate": r}}
}

func parseDur(t *testing.T, s string) float64 {
	t.Helper()
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"µs", 1e-3}, {"ms", 1}, {"ns", 1e-6}, {"s", 1000}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				t.Fatalf("duration %q: %v", s, err)
			}
			return v * u.ms
		}
	}
	t.Fatalf("duration %q: no unit", s)
	return 0
}

func parseBytes(t *testing.T, num, unit string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		t.Fatalf("bytes %q: %v", num, err)
	}
	mult := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
	return v * mult
}
