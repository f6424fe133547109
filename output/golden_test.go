package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// samplesDir holds real k6 v2.2.0 output, kept in the repository (see its README.md).
const samplesDir = "../testdata/k6-reference/samples"

func samplePath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(samplesDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference sample %s is missing from the repository: %v", p, err)
	}
	return p
}

// reference is a k6 NDJSON file decoded into what an output receives.
type reference struct {
	lines   [][]byte
	samples []metrics.Sample
	params  Params
}

func loadReference(t testing.TB, name string) *reference {
	t.Helper()
	raw, err := os.ReadFile(samplePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	ref := &reference{params: Params{Metrics: map[string]MetricInfo{}}}
	reg := metrics.NewRegistry()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		ref.lines = append(ref.lines, line)
		var rec struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
			Data   struct {
				Type       string            `json:"type"`
				Contains   string            `json:"contains"`
				Thresholds []json.RawMessage `json:"thresholds"`
				Submetrics []Submetric       `json:"submetrics"`
				Time       time.Time         `json:"time"`
				Value      float64           `json:"value"`
				Tags       map[string]string `json:"tags"`
				Metadata   map[string]string `json:"metadata"`
			} `json:"data"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch rec.Type {
		case "Metric":
			mt, err := metrics.ParseMetricType(rec.Data.Type)
			if err != nil {
				t.Fatal(err)
			}
			vt, err := metrics.ParseValueType(rec.Data.Contains)
			if err != nil {
				t.Fatal(err)
			}
			reg.MustNewMetric(rec.Metric, mt, vt)
			ref.params.Metrics[rec.Metric] = MetricInfo{Thresholds: rec.Data.Thresholds, Submetrics: rec.Data.Submetrics}
		case "Point":
			ref.samples = append(ref.samples, metrics.Sample{
				Metric: reg.Get(rec.Metric), Tags: metrics.NewTagSet(rec.Data.Tags),
				Metadata: rec.Data.Metadata, Time: rec.Data.Time, Value: rec.Data.Value,
			})
		default:
			t.Fatalf("%s: unknown record type %q", name, rec.Type)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestJSONGolden(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			ref := loadReference(t, name+".json")
			enc := newJSONEncoder(ref.params.Metrics)
			var got []byte
			for i := range ref.samples {
				got = enc.encode(got, ref.samples[i:i+1])
			}
			compareRecords(t, got, ref.lines)
		})
	}
}

func TestCSVGolden(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			ref := loadReference(t, name+".json")
			want, err := os.ReadFile(samplePath(t, name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			enc := &csvEncoder{}
			got := append([]byte(nil), csvHeader...)
			got = enc.encode(got, ref.samples)
			// k6 writes extra_tags in Go map order (the samples have both
			// "suite=pixel&endpoint=infer" and "endpoint=infer&suite=pixel"); pixelk6 sorts them,
			// so the reference's extra_tags field is sorted before comparing.
			lines := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
			for i, l := range lines {
				lines[i] = sortExtraTags(l)
			}
			compareRecords(t, got, lines)
		})
	}
}

// compareRecords compares got line by line with want, reporting the first few differences.
func compareRecords(t *testing.T, got []byte, want [][]byte) {
	t.Helper()
	if len(got) == 0 || got[len(got)-1] != '\n' {
		t.Fatal("output does not end with a newline")
	}
	lines := strings.Split(string(got[:len(got)-1]), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d", len(lines), len(want))
	}
	bad := 0
	for i := 0; i < min(len(lines), len(want)); i++ {
		if lines[i] != string(want[i]) {
			if bad++; bad <= 5 {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
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
	ref := loadReference(t, "rest.json")
	keys := []struct{ key, list string }{
		{"http_req_duration", `["p(50)<200","p(95)<500","p(99)<1000"]`},
		{"http_req_failed", `["rate<0.01"]`},
		{"http_req_duration{name:infer}", `["p(95)<300"]`},
		{"http_req_duration{group:::inference}", `["avg<250"]`},
		{"inference_latency", `["p(95)<100"]`},
		{"inference_success_rate", `["rate>0.95"]`},
		{"checks", `["rate>0.99"]`},
	}
	var mts []metrics.MetricThresholds
	for _, k := range keys {
		// One key at a time, so the script's order survives (ParseThresholdsJSON sorts).
		parsed, err := metrics.ParseThresholdsJSON(json.RawMessage(`{"` + k.key + `":` + k.list + `}`))
		if err != nil {
			t.Fatal(err)
		}
		mts = append(mts, parsed...)
	}
	infos := MetricInfos(mts)
	for _, line := range ref.lines {
		if !bytes.HasPrefix(line, []byte(`{"type":"Metric"`)) {
			continue
		}
		var rec struct{ Metric string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		var m *metrics.Metric
		for _, s := range ref.samples {
			if s.Metric.Name == rec.Metric {
				m = s.Metric
				break
			}
		}
		got := appendMetricRecord(nil, m, infos[rec.Metric])
		if string(got) != string(line)+"\n" {
			t.Errorf("got  %s\nwant %s", got, line)
		}
	}
}
