package analyzer

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
)

// readDump is what reading an input leaves behind, in a canonical form.
type readDump struct {
	lines    int64
	bad      int64
	badLines []BadLine // sorted by line; only compared when every bad line was kept
	warnings []string
	series   []string // one line per series: metric, tags, count, extremes, values
	sums     map[string]float64
	info     map[string]metricInfo
}

func dumpShards(tt *typeTable, shards []*shard) (series []string, sums map[string]float64, info map[string]metricInfo) {
	d := newDataset(0)
	for _, sh := range shards {
		d.absorb(sh)
	}
	sums = map[string]float64{}
	for k, a := range d.series {
		// Values are compared for trends only: a worker drops a series' values once it
		// learns the metric is not a trend, and when it learns that depends on the blocks.
		var vals []float64
		if mi, ok := tt.get(k.metric); !ok || mi.Type == metrics.Trend {
			a.eachChunk(func(c []float64) { vals = append(vals, c...) })
		}
		slices.Sort(vals)
		id := k.metric + "|" + k.tags.String()
		series = append(series, fmt.Sprintf("%s n=%d nz=%d min=%v max=%v vals=%v", id, a.n, a.nonzero, a.min, a.max, vals))
		sums[id] = a.sum
	}
	sort.Strings(series)
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	info = map[string]metricInfo{}
	for n, mi := range tt.types {
		if tt.declared[n] {
			info[n] = mi
		}
	}
	return series, sums, info
}

// readParallel reads data with the analyzer's parallel reader.
func readParallel(t testing.TB, data []byte, workers, blockSize int) readDump {
	t.Helper()
	tt := newTypeTable()
	shards := make([]*shard, workers)
	for i := range shards {
		shards[i] = newShard(tt, 0)
	}
	nr := &ndjsonReader{tt: tt, shards: shards, bad: newBadLines(math.MaxInt32), blockSize: blockSize}
	nr.bad.keep = math.MaxInt32
	if err := nr.read(context.Background(), "in", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	d := readDump{lines: nr.lines.Load(), bad: nr.bad.count.Load(), badLines: nr.bad.kept, warnings: nr.warnings}
	d.series, d.sums, d.info = dumpShards(tt, shards)
	return d
}

// readScanner reads data with k6file.Scanner, folding its records as the analyzer does.
func readScanner(t testing.TB, data []byte) readDump {
	t.Helper()
	tt := newTypeTable()
	sh := newShard(tt, 0)
	nr := &ndjsonReader{tt: tt, bad: newBadLines(math.MaxInt32)}
	nr.bad.keep = math.MaxInt32
	sc := k6file.NewScanner(bytes.NewReader(data), k6file.NDJSON)
	sc.OnSyntaxError = func(e *k6file.SyntaxError) error { nr.syntaxError("in", e); return nil }
	for sc.Scan() {
		foldRecord(tt, sh, sc.Record())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	d := readDump{lines: sc.Lines(), bad: nr.bad.count.Load(), badLines: nr.bad.kept, warnings: nr.warnings}
	d.series, d.sums, d.info = dumpShards(tt, []*shard{sh})
	return d
}

func compareDumps(t testing.TB, got, want readDump, exactSums bool) {
	t.Helper()
	sort.Slice(got.badLines, func(i, j int) bool { return got.badLines[i].Line < got.badLines[j].Line })
	sort.Slice(want.badLines, func(i, j int) bool { return want.badLines[i].Line < want.badLines[j].Line })
	if got.lines != want.lines || got.bad != want.bad || !slices.Equal(got.badLines, want.badLines) || !slices.Equal(got.warnings, want.warnings) {
		t.Fatalf("parallel: %d lines, %d bad %v, warnings %q\nscanner:  %d lines, %d bad %v, warnings %q",
			got.lines, got.bad, got.badLines, got.warnings, want.lines, want.bad, want.badLines, want.warnings)
	}
	if len(got.series) != len(want.series) {
		t.Fatalf("%d series, scanner %d", len(got.series), len(want.series))
	}
	for i := range got.series {
		if got.series[i] != want.series[i] {
			t.Fatalf("series differ:\nparallel %.300s\nscanner  %.300s", got.series[i], want.series[i])
		}
	}
	for k, s := range want.sums {
		g := got.sums[k]
		if exactSums && g != s || !exactSums && math.Abs(g-s) > 1e-9*math.Max(1, math.Abs(s)) {
			t.Fatalf("%s: sum %v, scanner %v", k, g, s)
		}
	}
	if fmt.Sprint(got.info) != fmt.Sprint(want.info) {
		t.Fatalf("metric info:\nparallel %v\nscanner  %v", got.info, want.info)
	}
}

// TestReaderMatchesScanner: the parallel reader is only an accelerator of k6file.Scanner —
// on k6's files, and on them with bad and truncated lines mixed in, it reads the same
// records, counts the same bad lines at the same line numbers, and forgives the same
// truncated last line, with any number of workers and any block size.
func TestReaderMatchesScanner(t *testing.T) {
	inputs := map[string][]byte{}
	for _, name := range []string{"rest", "fail", "ws"} {
		raw, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			t.Fatalf("golden file missing: %v", err)
		}
		inputs[name] = raw
	}
	// fail.json with bad lines, blank and CRLF lines, odd shapes and a torn last line.
	lines := strings.SplitAfter(string(inputs["fail"]), "\n")
	var mixed strings.Builder
	for i, l := range lines {
		mixed.WriteString(l)
		switch i % 97 {
		case 5:
			mixed.WriteString("not json\n")
		case 11:
			mixed.WriteString("\r\n\n")
		case 17:
			mixed.WriteString(`{"type":"Point","metric":"odd","data":{"value":2,"time":"2026-11-28T02:32:40+01:00","tags":{"n":1}}}` + "\r\n")
		case 23:
			mixed.WriteString(l[:len(l)/2] + "\n")
		}
	}
	mixed.WriteString(lines[len(lines)-2][:50])
	inputs["mixed"] = []byte(mixed.String())
	for name, data := range inputs {
		want := readScanner(t, data)
		if want.lines == 0 || len(want.series) == 0 {
			t.Fatalf("%s: nothing read", name)
		}
		if name == "mixed" && (want.bad == 0 || len(want.warnings) != 1) {
			t.Fatalf("mixed: %d bad lines, warnings %q", want.bad, want.warnings)
		}
		for _, workers := range []int{1, 3} {
			for _, bs := range []int{4 << 10, defaultBlockSize} {
				t.Run(fmt.Sprintf("%s/workers=%d/block=%d", name, workers, bs), func(t *testing.T) {
					compareDumps(t, readParallel(t, data, workers, bs), want, workers == 1)
				})
			}
		}
	}
}

// FuzzReaderMatchesScanner: on any input the parallel reader (small blocks, so lines
// straddle them) and k6file.Scanner read the same.
func FuzzReaderMatchesScanner(f *testing.F) {
	raw, err := os.ReadFile("testdata/ws.json")
	if err != nil {
		f.Fatalf("golden file missing: %v", err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	f.Add(bytes.Join(lines[:30], nil))
	f.Add(append(bytes.Join(lines[:5], nil), "x\n\r\n{\"type\":\"Metric\",\"metric\":\"m\",\"data\":{\"type\":\"rate\"}}\n{\"metric\":\"v"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareDumps(t, readParallel(t, data, 1, 64), readScanner(t, data), true)
		compareDumps(t, readParallel(t, data, 2, 128), readScanner(t, data), false)
	})
}

// TestCSVReadsLikeScanner: the analyzer's CSV input is k6file.Scanner's: k6's CSV file
// gives the series of the NDJSON file of the same run (to CSV's precision).
func TestCSVReadsLikeScanner(t *testing.T) {
	raw, err := os.ReadFile("testdata/fail.csv")
	if err != nil {
		t.Fatalf("golden file missing: %v", err)
	}
	tt := newTypeTable()
	sh := newShard(tt, 0)
	bad := newBadLines(0)
	var warnings []string
	lines, err := readCSV(context.Background(), "fail.csv", bytes.NewReader(raw), tt, sh, bad, func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) })
	if err != nil || bad.count.Load() != 0 || len(warnings) != 0 {
		t.Fatalf("%v, bad %v, warnings %q", err, bad.kept, warnings)
	}
	if want := int64(bytes.Count(raw, []byte("\n")) - 1); lines != want || int64(sh.points) != want {
		t.Fatalf("%d lines, %d points; want %d", lines, sh.points, want)
	}
	// A torn last row is a warning, a bad row in the middle a bad line with its position.
	torn := append(append([]byte(nil), raw...), "http_reqs,1795833184,1.0e"...)
	torn = bytes.Replace(torn, []byte("\nhttp_reqs,"), []byte("\nhttp reqs,"), 1)
	tt = newTypeTable()
	bad = newBadLines(10)
	warnings = nil
	if _, err := readCSV(context.Background(), "f.csv", bytes.NewReader(torn), tt, newShard(tt, 0), bad, func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }); err != nil {
		t.Fatal(err)
	}
	if bad.count.Load() != 1 || bad.kept[0].Line < 2 || len(warnings) != 1 || !strings.Contains(warnings[0], "truncated") {
		t.Fatalf("bad %v, warnings %q", bad.kept, warnings)
	}
}

// FuzzCriteria: a criteria file either parses into valid thresholds or is an error.
func FuzzCriteria(f *testing.F) {
	f.Add("thresholds:\n  http_req_duration: [\"p(95)<500\"]\n")
	f.Add("\"http_req_duration{name:infer}\":\n  - threshold: p(95)<300\n    abortOnFail: true\n")
	f.Add(`{"checks": ["rate>0.99"]}`)
	f.Add("- a\n- b\n")
	f.Fuzz(func(t *testing.T, doc string) {
		mts, err := ParseCriteria([]byte(doc))
		if err != nil {
			return
		}
		for _, m := range mts {
			if !metrics.ValidMetricName(m.Metric) {
				t.Fatalf("invalid metric %q accepted", m.Metric)
			}
			for _, th := range m.Thresholds {
				if th.Op == 0 || th.Agg.Kind == 0 {
					t.Fatalf("incomplete threshold %+v", th)
				}
			}
		}
	})
}

// TestCSVWithByteOrderMark: a CSV file that starts with a UTF-8 byte order mark is CSV,
// and its header is k6's (both were missed before the reader moved to k6file).
func TestCSVWithByteOrderMark(t *testing.T) {
	in := "\xef\xbb\xbfmetric_name,timestamp,metric_value\nvus,1795833160,3\n"
	r, closeFn, format, _, _, err := openInput("-", strings.NewReader(in))
	if err != nil || format != "csv" {
		t.Fatalf("format %q, %v", format, err)
	}
	defer closeFn()
	tt := newTypeTable()
	sh := newShard(tt, 0)
	bad := newBadLines(0)
	if n, err := readCSV(context.Background(), "-", r, tt, sh, bad, t.Logf); err != nil || n != 1 || sh.points != 1 {
		t.Fatalf("%d rows, %d points, %v, bad %v", n, sh.points, err, bad.kept)
	}
}
