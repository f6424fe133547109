package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pixelk6/pixelk6/metrics"
)

// DefaultAlpha is the significance level of compare's tests: a change is a regression only
// when the test says it is unlikely to be noise (p < alpha) and it is beyond the tolerance.
const DefaultAlpha = 0.01

// DefaultTolerances are compare's tolerances: relative for trend statistics (0.10 = +10 %),
// absolute for rates (0.01 = 1 percentage point).
var DefaultTolerances = map[string]float64{"avg": 0.10, "med": 0.10, "p(95)": 0.10, "p(99)": 0.10, "rate": 0.01}

// ParseTolerances parses "p(95)=5%,avg=10%,rate=0.5%" (a bare number is a fraction) over
// the defaults.
func ParseTolerances(specs []string) (map[string]float64, error) {
	out := map[string]float64{}
	for k, v := range DefaultTolerances {
		out[k] = v
	}
	for _, spec := range specs {
		for _, part := range strings.Split(spec, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, v, ok := strings.Cut(part, "=")
			k = strings.TrimSpace(k)
			if k == "p95" || k == "p99" {
				k = "p(" + k[1:] + ")"
			}
			if _, known := DefaultTolerances[k]; !ok || !known {
				return nil, fmt.Errorf("--tolerance %q: expected stat=N%% with stat one of avg, med, p(95), p(99), rate", part)
			}
			v = strings.TrimSpace(v)
			scale := 1.0
			if strings.HasSuffix(v, "%") {
				v, scale = strings.TrimSuffix(v, "%"), 0.01
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return nil, fmt.Errorf("--tolerance %q: %q is not a non-negative number", part, v)
			}
			out[k] = f * scale
		}
	}
	return out, nil
}

// Change is the comparison of one statistic of one metric.
type Change struct {
	Metric     string  `json:"metric"`
	Stat       string  `json:"stat"`
	Baseline   float64 `json:"baseline"`
	New        float64 `json:"new"`
	Delta      float64 `json:"delta"`          // new − baseline
	Relative   float64 `json:"relative"`       // delta / baseline (0 when baseline is 0)
	Test       string  `json:"test"`           // "mann-whitney-u", "two-proportion-z", "" (none)
	PValue     float64 `json:"p_value"`        // one-sided, in the worse direction; 1 when untested
	Tolerance  float64 `json:"tolerance"`      // relative (trends) or absolute (rates)
	Regression bool    `json:"regression"`     // beyond tolerance in the worse direction and p < alpha
	Note       string  `json:"note,omitempty"` // e.g. "higher is better"
}

// Comparison is the result of compare.
type Comparison struct {
	Baseline   string   `json:"baseline"`
	New        string   `json:"new"`
	Alpha      float64  `json:"alpha"`
	MinDeltaMs float64  `json:"min_delta_ms"`
	Changes    []Change `json:"changes"`
	Regression bool     `json:"regression"`
}

// CompareOptions are compare's decision rules.
type CompareOptions struct {
	Tolerances map[string]float64 // see DefaultTolerances; nil = the defaults
	Alpha      float64            // significance level; 0 = DefaultAlpha
	// MinDeltaMs is the smallest worsening of a time trend statistic, in ms, that can be a
	// regression: sub-millisecond shifts of tiny timings (http_req_blocked) are not.
	MinDeltaMs float64
}

// DefaultMinDeltaMs is compare's default MinDeltaMs.
const DefaultMinDeltaMs = 1.0

// Compare analyses two runs and compares every trend (avg, med, p(95), p(99); Mann-Whitney U
// on all values) and every rate (two-proportion z-test) present in both.
func Compare(ctx context.Context, base, next Options, co CompareOptions) (*Comparison, error) {
	tol, alpha := co.Tolerances, co.Alpha
	if tol == nil {
		tol = DefaultTolerances
	}
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	rb, err := Analyze(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	rn, err := Analyze(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	if rb.Points == 0 || rn.Points == 0 {
		return nil, fmt.Errorf("compare: no samples in the baseline or the new run")
	}
	c := &Comparison{Baseline: strings.Join(base.Files, ","), New: strings.Join(next.Files, ","), Alpha: alpha, MinDeltaMs: co.MinDeltaMs}
	for _, name := range rb.data.metricNames() {
		mb, okb := rb.data.info[name]
		mn, okn := rn.data.info[name]
		if !okb || !okn || mb.Type != mn.Type {
			continue
		}
		sb, err := rb.data.sink(name, metrics.TagSet{}, false, 0, 0)
		if err != nil {
			return nil, err
		}
		sn, err := rn.data.sink(name, metrics.TagSet{}, false, 0, 0)
		if err != nil {
			return nil, err
		}
		if sb == nil || sn == nil {
			continue
		}
		switch mb.Type {
		case metrics.Trend:
			tb, tn := sb.(*metrics.TrendSink), sn.(*metrics.TrendSink)
			p := MannWhitneyGreater(tb.Sorted(), tn.Sorted())
			for _, st := range []string{"avg", "med", "p(95)", "p(99)"} {
				a, _ := metrics.ParseAggregation(st)
				vb, _ := tb.Aggregate(a, 0)
				vn, _ := tn.Aggregate(a, 0)
				ch := Change{Metric: name, Stat: st, Baseline: vb, New: vn, Delta: vn - vb, Test: "mann-whitney-u", PValue: p, Tolerance: tol[st]}
				if vb != 0 {
					ch.Relative = (vn - vb) / math.Abs(vb)
				}
				ch.Regression = ch.Relative > ch.Tolerance && p < alpha
				if mb.Contains == metrics.Time && ch.Delta <= co.MinDeltaMs {
					ch.Regression = false
				}
				c.Changes = append(c.Changes, ch)
			}
		case metrics.Rate:
			rbk, rnk := sb.(*metrics.RateSink), sn.(*metrics.RateSink)
			higherWorse := rateHigherIsWorse(name)
			z := TwoProportionZ(rbk.Passes, rbk.Total, rnk.Passes, rnk.Total)
			if !higherWorse {
				z = -z
			}
			p := 0.5 * math.Erfc(z/math.Sqrt2)
			ch := Change{Metric: name, Stat: "rate", Baseline: rbk.Rate(), New: rnk.Rate(), Test: "two-proportion-z", PValue: p, Tolerance: tol["rate"]}
			ch.Delta = ch.New - ch.Baseline
			if ch.Baseline != 0 {
				ch.Relative = ch.Delta / ch.Baseline
			}
			worse := ch.Delta
			if !higherWorse {
				worse = -worse
				ch.Note = "higher is better"
			}
			ch.Regression = worse > ch.Tolerance && p < alpha
			c.Changes = append(c.Changes, ch)
		case metrics.Counter:
			vb, _ := sb.Aggregate(metrics.Aggregation{Kind: metrics.AggRate}, rb.Elapsed)
			vn, _ := sn.Aggregate(metrics.Aggregation{Kind: metrics.AggRate}, rn.Elapsed)
			ch := Change{Metric: name, Stat: "rate/s", Baseline: vb, New: vn, Delta: vn - vb, PValue: 1, Note: "informational"}
			if vb != 0 {
				ch.Relative = ch.Delta / vb
			}
			c.Changes = append(c.Changes, ch)
		}
	}
	for _, ch := range c.Changes {
		if ch.Regression {
			c.Regression = true
		}
	}
	return c, nil
}

// rateHigherIsWorse says whether a rise of a rate metric is bad: failure and error rates.
func rateHigherIsWorse(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "fail") || strings.Contains(n, "error")
}

// MannWhitneyGreater returns the one-sided p-value of the Mann-Whitney U test that values of
// b tend to be larger than values of a (normal approximation with tie correction). Both
// slices must be sorted ascending. It returns 1 when either is empty.
func MannWhitneyGreater(a, b []float64) float64 {
	n1, n2 := float64(len(a)), float64(len(b))
	if n1 == 0 || n2 == 0 {
		return 1
	}
	// Rank sum of b over the merged order, with average ranks for ties.
	var rankB, tieSum float64
	i, j := 0, 0
	rank := 1.0
	for i < len(a) || j < len(b) {
		var v float64
		switch {
		case i < len(a) && (j >= len(b) || a[i] <= b[j]):
			v = a[i]
		default:
			v = b[j]
		}
		ca, cb := 0, 0
		for i < len(a) && a[i] == v {
			i++
			ca++
		}
		for j < len(b) && b[j] == v {
			j++
			cb++
		}
		t := float64(ca + cb)
		avg := rank + (t-1)/2
		rankB += avg * float64(cb)
		tieSum += t*t*t - t
		rank += t
	}
	u := rankB - n2*(n2+1)/2
	n := n1 + n2
	mean := n1 * n2 / 2
	variance := n1 * n2 / 12 * ((n + 1) - tieSum/(n*(n-1)))
	if variance <= 0 {
		return 1
	}
	z := (u - mean - 0.5) / math.Sqrt(variance) // continuity correction
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// TwoProportionZ returns the z statistic of p2 − p1 for x1 of n1 and x2 of n2 (pooled).
func TwoProportionZ(x1, n1, x2, n2 uint64) float64 {
	if n1 == 0 || n2 == 0 {
		return 0
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	p := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0
	}
	return (p2 - p1) / se
}

// WriteText writes the comparison as a table.
func (c *Comparison) WriteText(w io.Writer, colour bool) error {
	pal := colours(colour)
	var b strings.Builder
	fmt.Fprintf(&b, "  k6verdict compare: %s → %s (α=%g)\n\n", c.Baseline, c.New, c.Alpha)
	fmt.Fprintf(&b, "    %-32s %-7s %14s %14s %10s %10s\n", "metric", "stat", "baseline", "new", "change", "p")
	ch := append([]Change(nil), c.Changes...)
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].Metric < ch[j].Metric })
	for _, x := range ch {
		mark := ""
		if x.Regression {
			mark = pal.red + "REGRESSION" + pal.reset
		} else if x.Note != "" {
			mark = pal.dim + x.Note + pal.reset
		}
		p := "-"
		if x.Test != "" {
			p = fmt.Sprintf("%.3g", x.PValue)
		}
		change := fmt.Sprintf("%+.1f%%", x.Relative*100)
		if x.Stat == "rate" { // a rate's change is in percentage points
			change = fmt.Sprintf("%+.2fpp", x.Delta*100)
		}
		fmt.Fprintf(&b, "    %-32s %-7s %14s %14s %10s %10s  %s\n", x.Metric, x.Stat, sig(x.Baseline), sig(x.New), change, p, mark)
	}
	if c.Regression {
		fmt.Fprintf(&b, "\n  verdict: %sREGRESSION%s\n", pal.red, pal.reset)
	} else {
		fmt.Fprintf(&b, "\n  verdict: %sno regression%s\n", pal.green, pal.reset)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sig formats v with 5 significant digits.
func sig(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

// WriteJSON writes the comparison as JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Schema string `json:"schema"`
		*Comparison
	}{"k6verdict-compare/v1", c})
}
