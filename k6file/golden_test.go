package k6file

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// The files in testdata are real k6 v2.2.0 output (`--out json` and `--out csv` of the
// same runs): rest (REST scenario with thresholds on submetrics), fail (failing
// thresholds), ws (k6/ws sessions).
var goldenRuns = []string{"rest", "fail", "ws"}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("golden file missing: %v", err)
	}
	return b
}

// scanAll scans data and fails on a fatal error.
func scanAll(t testing.TB, data []byte, f Format) ([]Record, *Scanner) {
	t.Helper()
	sc := NewScanner(bytes.NewReader(data), f)
	var out []Record
	for sc.Scan() {
		out = append(out, *sc.Record())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out, sc
}

// samplesOf turns scanned records into what an output receives: samples of registered
// metrics, and the Metric-record metadata.
func samplesOf(t testing.TB, recs []Record) ([]metrics.Sample, map[string]MetricInfo) {
	t.Helper()
	reg := metrics.NewRegistry()
	info := map[string]MetricInfo{}
	var out []metrics.Sample
	for _, r := range recs {
		switch r.Kind {
		case MetricKind:
			reg.MustNewMetric(r.Metric.Name, r.Metric.Type, r.Metric.Contains)
			info[r.Metric.Name] = r.Metric.MetricInfo
		case PointKind:
			m := reg.Get(r.Point.Metric)
			if m == nil {
				t.Fatalf("line %d: Point of %q before its Metric record", r.Line, r.Point.Metric)
			}
			out = append(out, metrics.Sample{Metric: m, Tags: r.Point.Tags, Metadata: r.Point.Metadata, Time: time.Unix(0, r.Point.Time).UTC(), Value: r.Point.Value})
		}
	}
	return out, info
}

// TestNDJSONGolden: k6's files scan without a bad line, and the encoder writes them back
// byte for byte, from samples (as the json output does) and from the records themselves.
func TestNDJSONGolden(t *testing.T) {
	for _, name := range goldenRuns {
		t.Run(name, func(t *testing.T) {
			want := readTestdata(t, name+".json")
			recs, sc := scanAll(t, want, NDJSON)
			if sc.BadLines() != 0 {
				t.Fatalf("bad lines: %v", sc.SyntaxErrors())
			}
			if n := int64(bytes.Count(want, []byte("\n"))); sc.Lines() != n || int64(len(recs)) != n {
				t.Fatalf("%d lines, %d records; the file has %d lines", sc.Lines(), len(recs), n)
			}
			samples, info := samplesOf(t, recs)
			enc := NewEncoder(info)
			var got []byte
			for i := range samples {
				got = enc.AppendSamples(got, samples[i:i+1])
			}
			compareLines(t, got, want)
			got = got[:0]
			for i := range recs {
				got = enc.AppendRecord(got, &recs[i])
			}
			compareLines(t, got, want)
		})
	}
}

// TestCSVGolden: k6's CSV files scan without a bad line, hold the same samples as the
// NDJSON file of the same run (to CSV's precision: seconds, six decimals), and the encoder
// writes them back byte for byte.
func TestCSVGolden(t *testing.T) {
	for _, name := range goldenRuns {
		t.Run(name, func(t *testing.T) {
			raw := readTestdata(t, name+".csv")
			recs, sc := scanAll(t, raw, CSV)
			if sc.BadLines() != 0 {
				t.Fatalf("bad lines: %v", sc.SyntaxErrors())
			}
			jrecs, _ := scanAll(t, readTestdata(t, name+".json"), NDJSON)
			var points []Point
			for _, r := range jrecs {
				if r.Kind == PointKind {
					points = append(points, r.Point)
				}
			}
			if len(points) != len(recs) {
				t.Fatalf("%d CSV rows, %d NDJSON points", len(recs), len(points))
			}
			for i, r := range recs {
				p, c := points[i], r.Point
				if c.Metric != p.Metric || c.Tags != withoutEmpty(p.Tags) || c.Time != p.Time/1e9*1e9 || c.Value != round6(p.Value) || r.Line != int64(i+2) {
					t.Fatalf("row %d: %+v (line %d), NDJSON %+v", i, c, r.Line, p)
				}
			}
			var enc CSVEncoder
			got := AppendCSVHeader(nil)
			for i := range recs {
				got = enc.AppendRecord(got, &recs[i])
			}
			// k6 writes extra_tags in Go map order (the samples have both
			// "suite=pixel&endpoint=infer" and "endpoint=infer&suite=pixel"); the encoder
			// sorts them, so the reference's field is sorted before comparing.
			lines := bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
			for i, l := range lines {
				lines[i] = sortExtraTags(l)
			}
			compareLines(t, got, bytes.Join(lines, []byte("\n")))
		})
	}
}

// withoutEmpty drops the tags with an empty value, which CSV cannot tell from missing ones.
func withoutEmpty(ts metrics.TagSet) metrics.TagSet {
	m := ts.Map()
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return metrics.NewTagSet(m)
}

func round6(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 6, 64), 64)
	return f
}

// compareLines compares got with want line by line, reporting the first few differences.
func compareLines(t *testing.T, got, want []byte) {
	t.Helper()
	g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	w := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	if len(g) != len(w) {
		t.Errorf("got %d lines, want %d", len(g), len(w))
	}
	bad := 0
	for i := 0; i < min(len(g), len(w)); i++ {
		if g[i] != w[i] {
			if bad++; bad <= 5 {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d differing lines in all", bad)
	}
}

// sortExtraTags sorts the k=v pairs of a CSV row's extra_tags field (the next to last; the
// reference rows have no quoted fields).
func sortExtraTags(row []byte) []byte {
	f := strings.Split(string(row), ",")
	if len(f) < 2 {
		return row
	}
	tags := strings.Split(f[len(f)-2], "&")
	slices.Sort(tags)
	f[len(f)-2] = strings.Join(tags, "&")
	return []byte(strings.Join(f, ","))
}

// TestMetricInfosFromThresholds rebuilds rest.js's thresholds (in the script's order) and
// checks that the Metric records match the reference file.
func TestMetricInfosFromThresholds(t *testing.T) {
	keys := []struct{ key, list string }{
		{"http_req_duration", `["p(50)<200","p(95)<500","p(99)<1000"]`},
		{"http_req_failed", `["rate<0.01"]`},
		{"http_req_duration{name:infer}", `["p(95)<300"]`},
		{"http_req_duration{group:::inference}", `["avg<250"]`},
		{"inference_latency", `["p(95)<100"]`},
		{"inference_success_rate", `["rate>0.95"]`},
		{"checks", `["rate>0.99"]`},
	}
	var obj []string
	var order []string
	for _, k := range keys {
		obj = append(obj, `"`+k.key+`":`+k.list)
		order = append(order, k.key)
	}
	mts, err := metrics.ParseThresholdsJSON(json.RawMessage("{" + strings.Join(obj, ",") + "}")) // sorted by key
	if err != nil {
		t.Fatal(err)
	}
	infos := MetricInfos(mts, order)
	recs, _ := scanAll(t, readTestdata(t, "rest.json"), NDJSON)
	n := 0
	for _, r := range recs {
		if r.Kind != MetricKind {
			continue
		}
		n++
		m := r.Metric
		m.MetricInfo = infos[m.Name]
		want := AppendMetric(nil, &r.Metric)
		if got := AppendMetric(nil, &m); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	if n == 0 {
		t.Fatal("no Metric records")
	}
}

// TestMetricInfosExpectedResponseOnce: a threshold on k6's own expected_response submetric
// does not list that submetric twice (cli's copy of this function did).
func TestMetricInfosExpectedResponseOnce(t *testing.T) {
	mts, err := metrics.ParseThresholdsJSON(json.RawMessage(`{"http_req_duration{expected_response:true}":["p(95)<500"],"http_req_duration":["p(99)<900"],"http_req_duration{name:infer}":["avg<300"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{nil, {"http_req_duration{name:infer}", metrics.ExpectedResponseSubmetric, "http_req_duration"}} {
		info := MetricInfos(mts, order)["http_req_duration"]
		var names []string
		for _, s := range info.Submetrics {
			names = append(names, s.Name)
		}
		want := []string{"http_req_duration{name:infer}", metrics.ExpectedResponseSubmetric}
		if !slices.Equal(names, want) {
			t.Errorf("order %q: submetrics %q, want %q", order, names, want)
		}
		if len(info.Thresholds) != 1 || string(info.Thresholds[0]) != `"p(99)<900"` {
			t.Errorf("order %q: thresholds %s", order, info.Thresholds)
		}
	}
	// Without any threshold, http_req_duration still declares the submetric, once.
	if s := MetricInfos(nil, nil)["http_req_duration"].Submetrics; len(s) != 1 || s[0].Name != metrics.ExpectedResponseSubmetric || s[0].Suffix != metrics.ExpectedResponseSuffix {
		t.Errorf("no thresholds: %+v", s)
	}
}
