package dashboard

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

//go:embed page.html
var page string

// dataMarker is where page.html takes its Report.
const dataMarker = "/*DATA*/null"

// MaxPoints bounds the points of a rendered page's time series (Render downsamples to it),
// which bounds the size of a report whatever the size of its input: more than one point
// per pixel of a chart (560 wide) would not show.
const MaxPoints = 720

// digits are the significant digits of the values a page carries (what a chart or a table
// can show, and a third of the bytes of a float64's shortest form).
const digits = 6

// Render writes the page showing r: one self-contained HTML file (styles, script and data
// inline; nothing fetched from the network). Its time series, and the baseline's, are
// downsampled to MaxPoints; r itself is not modified.
func Render(w io.Writer, r *Report) error {
	c := *r
	c.Points = rounded(Downsample(r.Points, MaxPoints))
	if r.Baseline != nil {
		b := *r.Baseline
		b.Points = rounded(Downsample(b.Points, MaxPoints))
		c.Baseline = &b
	}
	if n := len(r.Points); n > 0 && len(c.Points) < n {
		c.Period = r.Period * float64((n+MaxPoints-1)/MaxPoints)
	}
	if c.Points == nil {
		c.Points = []Point{}
	}
	if c.Thresholds == nil {
		c.Thresholds = []Threshold{}
	}
	data, err := json.Marshal(&c) // escapes <, > and &: safe inside <script>
	if err != nil {
		return fmt.Errorf("dashboard: encode the report: %w", err)
	}
	before, after, ok := strings.Cut(page, dataMarker)
	if !ok {
		return fmt.Errorf("dashboard: page.html has no %s marker", dataMarker)
	}
	for _, part := range []string{before, string(data), after} {
		if _, err := io.WriteString(w, part); err != nil {
			return fmt.Errorf("dashboard: write the page: %w", err)
		}
	}
	return nil
}

// rounded returns a copy of points with values rounded to digits significant digits.
func rounded(points []Point) []Point {
	out := make([]Point, len(points))
	for i, p := range points {
		v := make(map[string]float64, len(p.V))
		for k, x := range p.V {
			v[k], _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
		}
		out[i] = Point{T: math.Round(p.T*1000) / 1000, V: v}
	}
	return out
}
