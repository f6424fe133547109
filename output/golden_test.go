package output

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
)

// testdata holds real k6 v2.2.0 output of the same runs in both formats: rest.json and
// rest.csv, fail.*, ws.*.

// reference is a k6 NDJSON file decoded into what an output receives.
type reference struct {
	raw     []byte
	samples []metrics.Sample
	params  Params
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("golden file missing: %v", err)
	}
	return b
}

func loadReference(t testing.TB, name string) *reference {
	t.Helper()
	ref := &reference{raw: readTestdata(t, name), params: Params{Metrics: map[string]k6file.MetricInfo{}}}
	reg := metrics.NewRegistry()
	sc := k6file.NewScanner(bytes.NewReader(ref.raw), k6file.NDJSON)
	for sc.Scan() {
		switch r := sc.Record(); r.Kind {
		case k6file.MetricKind:
			reg.MustNewMetric(r.Metric.Name, r.Metric.Type, r.Metric.Contains)
			ref.params.Metrics[r.Metric.Name] = r.Metric.MetricInfo
		case k6file.PointKind:
			p := r.Point
			ref.samples = append(ref.samples, metrics.Sample{
				Metric: reg.Get(p.Metric), Tags: p.Tags, Metadata: p.Metadata, Time: time.Unix(0, p.Time).UTC(), Value: p.Value,
			})
		}
	}
	if err := sc.Err(); err != nil || sc.BadLines() != 0 {
		t.Fatalf("%s: %v %v", name, err, sc.SyntaxErrors())
	}
	return ref
}

// runOutput writes samples one batch per sample through the output that spec asks for and
// returns the file.
func runOutput(t *testing.T, typ string, ref *reference) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out")
	o, err := New(typ+"="+path, ref.params)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range ref.samples {
		o.AddSamples(ref.samples[i : i+1])
	}
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	return readTestdataAbs(t, path)
}

func readTestdataAbs(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJSONGolden: --out json writes k6's files byte for byte.
func TestJSONGolden(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			ref := loadReference(t, name+".json")
			got := runOutput(t, "json", ref)
			compareRecords(t, got, bytes.Split(bytes.TrimSuffix(ref.raw, []byte("\n")), []byte("\n")))
		})
	}
}

// TestCSVGolden: --out csv writes k6's files byte for byte (extra_tags sorted).
func TestCSVGolden(t *testing.T) {
	for _, name := range []string{"rest", "fail", "ws"} {
		t.Run(name, func(t *testing.T) {
			ref := loadReference(t, name+".json")
			want := readTestdata(t, name+".csv")
			got := runOutput(t, "csv", ref)
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
