package dashboard

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/metrics"
)

func TestDownsample(t *testing.T) {
	pts := func(n int, f func(i int) map[string]float64) []Point {
		out := make([]Point, n)
		for i := range out {
			out[i] = Point{T: float64(i), V: f(i)}
		}
		return out
	}
	tests := []struct {
		name string
		in   []Point
		max  int
		want []Point
	}{
		{"fits: unchanged", pts(3, func(i int) map[string]float64 { return map[string]float64{"vus:value": float64(i)} }), 3,
			pts(3, func(i int) map[string]float64 { return map[string]float64{"vus:value": float64(i)} })},
		{"pairs: mean, sum, max", pts(4, func(i int) map[string]float64 {
			return map[string]float64{"http_reqs:rate": float64(10 * i), "http_reqs:count": 1, "http_req_duration:p95": float64(100 - i), "x:max": float64(i)}
		}), 2, []Point{
			{T: 0, V: map[string]float64{"http_reqs:rate": 5, "http_reqs:count": 2, "http_req_duration:p95": 100, "x:max": 1}},
			{T: 2, V: map[string]float64{"http_reqs:rate": 25, "http_reqs:count": 2, "http_req_duration:p95": 98, "x:max": 3}},
		}},
		{"a key missing in part of a run is averaged over the points that have it", []Point{
			{T: 0, V: map[string]float64{"checks:rate": 1}}, {T: 1, V: map[string]float64{}}, {T: 2, V: map[string]float64{"checks:rate": 0.5}},
		}, 1, []Point{{T: 0, V: map[string]float64{"checks:rate": 0.75}}}},
		{"odd length: last group shorter", pts(5, func(i int) map[string]float64 { return map[string]float64{"vus:value": float64(i)} }), 2,
			[]Point{{T: 0, V: map[string]float64{"vus:value": 1}}, {T: 3, V: map[string]float64{"vus:value": 3.5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Downsample(tt.in, tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Downsample (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDownsampleBound: whatever the number of points, at most max are left.
func TestDownsampleBound(t *testing.T) {
	for _, n := range []int{0, 1, MaxPoints, MaxPoints + 1, 2*MaxPoints - 1, 1_000_003} {
		in := make([]Point, n)
		for i := range in {
			in[i] = Point{T: float64(i), V: map[string]float64{"vus:value": 1}}
		}
		for _, m := range []int{1, 7, MaxPoints} {
			if got := len(Downsample(in, m)); got > m {
				t.Errorf("Downsample(%d points, %d) = %d points", n, m, got)
			}
		}
	}
}

func TestStats(t *testing.T) {
	reg := metrics.NewRegistry()
	mk := func(name string, typ metrics.MetricType, vals ...float64) (*metrics.Metric, metrics.Sink) {
		m, err := reg.NewMetric(name, typ, metrics.Default)
		if err != nil {
			t.Fatal(err)
		}
		s := metrics.NewSink(typ)
		for _, v := range vals {
			s.AddValue(v, time.Unix(0, 0))
		}
		return m, s
	}
	got := map[string]float64{}
	for _, c := range []struct {
		typ  metrics.MetricType
		name string
		vals []float64
	}{
		{metrics.Counter, "http_reqs", []float64{1, 1, 1, 1}},
		{metrics.Gauge, "vus", []float64{3, 7, 5}},
		{metrics.Rate, "checks", []float64{1, 0, 1, 1}},
		{metrics.Trend, "http_req_duration", []float64{10, 20, 30, 40, 50}},
		{metrics.Trend, "chunk_latency", nil},
	} {
		m, s := mk(c.name, c.typ, c.vals...)
		Stats(m.Name, m.Type, s, 2*time.Second, got)
	}
	want := map[string]float64{
		"http_reqs:count": 4, "http_reqs:rate": 2,
		"vus:value": 5, "vus:max": 7,
		"checks:rate":           0.75,
		"http_req_duration:p50": 30, "http_req_duration:p95": 48, "http_req_duration:p99": 49.6, "http_req_duration:avg": 30, "http_req_duration:max": 50,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestTimeline(t *testing.T) {
	reg := metrics.NewRegistry()
	vus, _ := reg.NewMetric("vus", metrics.Gauge, metrics.Default)
	reqs, _ := reg.NewMetric("http_reqs", metrics.Counter, metrics.Default)
	dur, _ := reg.NewMetric("http_req_duration", metrics.Trend, metrics.Time)
	other, _ := reg.NewMetric("my_trend", metrics.Trend, metrics.Default)
	at := time.Unix(100, 0)
	tl := NewTimeline()
	tl.Add([]metrics.Sample{{Metric: vus, Value: 4, Time: at}, {Metric: reqs, Value: 1, Time: at}, {Metric: reqs, Value: 1, Time: at},
		{Metric: dur, Value: 12, Time: at}, {Metric: other, Value: 1, Time: at}})
	p1 := tl.Flush(1, time.Second)
	tl.Add([]metrics.Sample{{Metric: reqs, Value: 1, Time: at}})
	p2 := tl.Flush(2, 500*time.Millisecond)
	p3 := tl.Flush(3, time.Second)
	want := []Point{
		{T: 1, V: map[string]float64{"vus:value": 4, "vus:max": 4, "http_reqs:count": 2, "http_reqs:rate": 2,
			"http_req_duration:p50": 12, "http_req_duration:p95": 12, "http_req_duration:p99": 12, "http_req_duration:avg": 12, "http_req_duration:max": 12}},
		{T: 2, V: map[string]float64{"vus:value": 4, "vus:max": 4, "http_reqs:count": 1, "http_reqs:rate": 2}},
		{T: 3, V: map[string]float64{"vus:value": 4, "vus:max": 4}},
	}
	if diff := cmp.Diff(want, []Point{p1, p2, p3}); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	// A short last period joins the one before it.
	tl.Add([]metrics.Sample{{Metric: reqs, Value: 1, Time: at}, {Metric: vus, Value: 6, Time: at.Add(time.Second)}})
	p4 := tl.Flush(4, time.Second)
	tl.Add([]metrics.Sample{{Metric: reqs, Value: 1, Time: at}, {Metric: dur, Value: 30, Time: at}})
	p5 := tl.Extend(4.5, 1500*time.Millisecond)
	wantP4 := Point{T: 4, V: map[string]float64{"vus:value": 6, "vus:max": 6, "http_reqs:count": 1, "http_reqs:rate": 1}}
	wantP5 := Point{T: 4.5, V: map[string]float64{"vus:value": 6, "vus:max": 6, "http_reqs:count": 2, "http_reqs:rate": 2 / 1.5,
		"http_req_duration:p50": 30, "http_req_duration:p95": 30, "http_req_duration:p99": 30, "http_req_duration:avg": 30, "http_req_duration:max": 30}}
	if diff := cmp.Diff([]Point{wantP4, wantP5}, []Point{p4, p5}); diff != "" {
		t.Errorf("extended point (-want +got):\n%s", diff)
	}
	if p := NewTimeline().Extend(1, time.Second); len(p.V) != 0 {
		t.Errorf("Extend of an empty timeline = %+v", p)
	}
	tot := tl.Totals(3 * time.Second)
	if tot["http_reqs:count"] != 5 || tot["http_reqs:rate"] != 5.0/3 || tot["vus:max"] != 6 {
		t.Errorf("totals = %v", tot)
	}
	if _, ok := tot["http_req_duration:p95"]; ok {
		t.Errorf("totals keep trends: %v", tot)
	}
}

// TestRender: the page is one file with its data inline, nothing fetched, and data cannot
// end the script element early.
func TestRender(t *testing.T) {
	r := &Report{Title: `evil </script><script>alert(1)</script>`, Breaking: -1,
		Points:     []Point{{T: 1, V: map[string]float64{"vus:value": 2}}},
		Thresholds: []Threshold{{Key: "http_req_duration", Expr: "p(95)<500", Observed: Finite(12), Limit: Finite(500), OK: true, Unit: "ms"}}}
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if strings.Count(html, "</script>") != 2 {
		t.Errorf("the data ends a script element early: %d </script>", strings.Count(html, "</script>"))
	}
	for _, banned := range []string{"http://", "https://", "src=", "@import", "url("} {
		if i := strings.Index(html, banned); i >= 0 && !strings.Contains(html[max(0, i-40):i], "xmlns") && !strings.Contains(html[i:min(len(html), i+30)], "www.w3.org/2000/svg") {
			t.Errorf("the page refers to something outside itself: %q at %q", banned, html[max(0, i-40):min(len(html), i+40)])
		}
	}
	start := strings.Index(html, `<script id="report-data" type="application/json">`)
	end := strings.Index(html[start:], "</script>")
	data := html[start+len(`<script id="report-data" type="application/json">`) : start+end]
	var back Report
	if err := json.Unmarshal([]byte(data), &back); err != nil {
		t.Fatalf("embedded data: %v", err)
	}
	if back.Title != r.Title || len(back.Points) != 1 || *back.Thresholds[0].Limit != 500 {
		t.Errorf("embedded data = %+v", back)
	}
}

// TestRenderBound: a page's size does not grow with the length of the run past MaxPoints.
func TestRenderBound(t *testing.T) {
	size := func(n int) int {
		r := &Report{Breaking: -1, Period: 1}
		for i := range n {
			v := map[string]float64{}
			for _, m := range Charted {
				v[m+":p95"] = float64(i) + 0.123456789
			}
			r.Points = append(r.Points, Point{T: float64(i), V: v})
		}
		r.Baseline = &Baseline{Points: r.Points}
		var b bytes.Buffer
		if err := Render(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	small, large := size(MaxPoints), size(50*MaxPoints)
	if large > small*11/10 {
		t.Errorf("%d points render to %d bytes, %d points to %d bytes: not bounded", MaxPoints, small, 50*MaxPoints, large)
	}
	if large > 8<<20 {
		t.Errorf("a page of %d charted series is %d bytes, more than 8 MiB", len(Charted), large)
	}
	t.Logf("page with %d series × %d points (and a baseline as long): %d bytes", len(Charted), MaxPoints, large)
}
