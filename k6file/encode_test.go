package k6file

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pixelk6/pixelk6/metrics"
)

func TestCSVTimeFormats(t *testing.T) {
	at := time.Date(2026, 11, 28, 2, 32, 40, 235067218, time.UTC)
	tests := []struct {
		format TimeFormat
		want   string
	}{
		{TimeUnix, "1795833160"},
		{TimeUnixMilli, "1795833160235"},
		{TimeUnixMicro, "1795833160235067"},
		{TimeUnixNano, "1795833160235067218"},
		{TimeRFC3339, "2026-11-28T02:32:40Z"},
		{TimeRFC3339Nano, "2026-11-28T02:32:40.235067218Z"},
	}
	for _, tc := range tests {
		e := &CSVEncoder{TimeFormat: tc.format}
		if got := string(e.appendTime(nil, at)); got != tc.want {
			t.Errorf("format %d: got %s, want %s", tc.format, got, tc.want)
		}
	}
}

func testSamples() []metrics.Sample {
	reg := metrics.NewRegistry()
	d := reg.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time)
	c := reg.MustNewMetric("crisis_detections", metrics.Counter, metrics.Default)
	at := time.Date(2026, 11, 28, 2, 32, 40, 5e8, time.UTC)
	return []metrics.Sample{
		{Metric: d, Tags: metrics.TagsFromPairs("name", "infer", "status", "200", "url", "http://x/?a=1,b=\"2\""), Time: at, Value: 3.5},
		{Metric: c, Tags: metrics.TagsFromPairs("risk_level", "high", "suite", "pixel"), Metadata: map[string]string{"vu": "1", "iter": "7"}, Time: at, Value: 1},
	}
}

func TestMetadataAndQuoting(t *testing.T) {
	s := testSamples()
	gotJSON := string(NewEncoder(nil).AppendSamples(nil, s))
	wantJSON := `{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":[],"submetrics":null},"metric":"http_req_duration"}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T02:32:40.5Z","value":3.5,"tags":{"name":"infer","status":"200","url":"http://x/?a=1,b=\"2\""}}}
{"type":"Metric","data":{"name":"crisis_detections","type":"counter","contains":"default","thresholds":[],"submetrics":null},"metric":"crisis_detections"}
{"metric":"crisis_detections","type":"Point","data":{"time":"2026-11-28T02:32:40.5Z","value":1,"tags":{"risk_level":"high","suite":"pixel"},"metadata":{"iter":"7","vu":"1"}}}
`
	if gotJSON != wantJSON {
		t.Errorf("json:\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	gotCSV := string((&CSVEncoder{}).AppendSamples(nil, s))
	wantCSV := `http_req_duration,1795833160,3.500000,,,,,,,infer,,,,200,,,"http://x/?a=1,b=""2""",,
crisis_detections,1795833160,1.000000,,,,,,,,,,,,,,,risk_level=high&suite=pixel,iter=7&vu=1
`
	if gotCSV != wantCSV {
		t.Errorf("csv:\n%s\nwant\n%s", gotCSV, wantCSV)
	}
}

func TestMetricRecordThresholds(t *testing.T) {
	reg := metrics.NewRegistry()
	m := reg.MustNewMetric("inference_latency", metrics.Trend, metrics.Time)
	info := MetricInfo{
		Thresholds: []json.RawMessage{
			json.RawMessage(`"p(95)<100"`),
			json.RawMessage(`{"threshold":"avg<1","abortOnFail":false}`),
			json.RawMessage(`{"threshold":"p(99)<300","abortOnFail":true,"delayAbortEval":"10s"}`),
			json.RawMessage(`{"threshold":"max<900","abortOnFail":true,"delayAbortEval":1500}`),
			json.RawMessage(`{"threshold":"min<1","abortOnFail":true}`),
		},
		Submetrics: []Submetric{{Name: "inference_latency{endpoint:infer}", Suffix: "endpoint:infer", Tags: map[string]string{"endpoint": "infer"}}},
	}
	got := string(AppendMetric(nil, &Metric{Name: m.Name, Type: m.Type, Contains: m.Contains, MetricInfo: info}))
	want := `{"type":"Metric","data":{"name":"inference_latency","type":"trend","contains":"time","thresholds":["p(95)<100","avg<1",{"threshold":"p(99)<300","abortOnFail":true,"delayAbortEval":"10s"},{"threshold":"max<900","abortOnFail":true,"delayAbortEval":"1.5s"},{"threshold":"min<1","abortOnFail":true,"delayAbortEval":""}],"submetrics":[{"name":"inference_latency{endpoint:infer}","suffix":"endpoint:infer","tags":{"endpoint":"infer"}}]},"metric":"inference_latency"}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestJSONFloat(t *testing.T) {
	fs := []float64{0, math.Copysign(0, -1), 1, -1, 3.698876, 1e-7, 1.5e-9, 1e20, 1e21, 123456789012345678901234.0, 0.000001, -2.5e-8,
		1.7976931348623157e308, 1e15 - 1, 1e15, 1e15 + 1, -(1e15 - 1), 9007199254740993, 12345, 0.5, -0.5}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		fs = append(fs, math.Float64frombits(rng.Uint64()), float64(rng.Int64N(1<<53)-(1<<52)), math.Round(rng.Float64()*1e6)/1e3)
	}
	for _, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, _ := json.Marshal(f)
		if got := string(appendJSONFloat(nil, f)); got != string(want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a,b", `"q"`, " lead", "x\ny", `\.`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '\r') || !utf8.ValidString(s) {
			t.Skip() // encoding/csv normalises \r\n and rejects nothing else we care about
		}
		row := appendCSVField(nil, s)
		row = append(row, ",x\n"...)
		rec, err := csv.NewReader(bytes.NewReader(row)).Read()
		if err != nil {
			t.Fatalf("%q encoded as %q: %v", s, row, err)
		}
		if len(rec) != 2 || rec[0] != s {
			t.Fatalf("%q round-tripped to %q", s, rec)
		}
	})
}

// TestAppendTimeMatchesFormat: the per-second cache writes exactly what time.RFC3339Nano
// in UTC writes, for times in and across seconds, with and without fractions, and for
// years the cache leaves to the time package.
func TestAppendTimeMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 28, 2, 32, 40, 0, time.UTC)
	times := []time.Time{
		base, base.Add(1), base.Add(10), base.Add(100 * time.Millisecond), base.Add(time.Second - 1),
		base.Add(time.Second), time.Unix(0, 0), time.Unix(-1, 5), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		base.In(time.FixedZone("X", 5*3600+1800)),
	}
	for range 5000 {
		times = append(times, base.Add(time.Duration(rng.Int64N(int64(10*time.Second)))))
		times = append(times, time.Unix(0, rng.Int64()))
	}
	var c secondCache
	for _, tm := range times {
		want := tm.UTC().Format(time.RFC3339Nano)
		if got := string(c.appendTime(nil, tm)); got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}

// TestTagCacheMatchesEncoding: Points written through the tag cache equal Points whose tags
// are encoded afresh, for repeated sets, equal sets built apart, and more distinct sets than
// the cache holds.
func TestTagCacheMatchesEncoding(t *testing.T) {
	var sets []metrics.TagSet
	for i := range maxCachedTagSets + 100 {
		sets = append(sets, metrics.TagsFromPairs("url", fmt.Sprintf("http://h/%d", i), "status", "200"))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	enc := NewEncoder(nil)
	for i := range 3 * len(sets) {
		var ts metrics.TagSet
		switch i % 3 {
		case 0:
			ts = sets[i/3]
		case 1:
			ts = sets[rng.IntN(len(sets))]
		default:
			k := rng.IntN(len(sets))
			ts = metrics.TagsFromPairs("status", "200", "url", fmt.Sprintf("http://h/%d", k)) // equal to sets[k], built apart
		}
		got := string(enc.tags.json(ts))
		if want := string(appendTagSet(nil, ts)); got != want {
			t.Fatalf("sample %d: tags %s, want %s", i, got, want)
		}
	}
	if len(enc.tags.m) > maxCachedTagSets {
		t.Fatalf("cache holds %d sets, more than %d", len(enc.tags.m), maxCachedTagSets)
	}
}

// BenchmarkEncodeRun is the json output's per-sample cost in a run's shape: an HTTP request's
// nine samples share one tag set, an iteration adds four more, times increase.
func BenchmarkEncodeRun(b *testing.B) {
	reg := metrics.NewRegistry()
	bi := metrics.RegisterBuiltin(reg)
	httpMetrics := []*metrics.Metric{bi.HTTPReqs, bi.HTTPReqFailed, bi.HTTPReqDuration, bi.HTTPReqBlocked, bi.HTTPReqConnecting,
		bi.HTTPReqTLS, bi.HTTPReqSending, bi.HTTPReqWaiting, bi.HTTPReqReceiving}
	iterMetrics := []*metrics.Metric{bi.DataSent, bi.DataReceived, bi.IterationDuration, bi.Iterations}
	reqTags := metrics.NewTagSet(map[string]string{"expected_response": "true", "group": "", "method": "GET", "name": "http://127.0.0.1:5173/health",
		"proto": "HTTP/1.1", "scenario": "default", "status": "200", "url": "http://127.0.0.1:5173/health"})
	iterTags := metrics.TagsFromPairs("group", "", "scenario", "default")
	start := time.Date(2026, 11, 28, 2, 32, 40, 0, time.UTC)
	var samples []metrics.Sample
	for i := range 100 {
		now := start.Add(time.Duration(i) * 37 * time.Microsecond)
		for _, m := range httpMetrics {
			samples = append(samples, metrics.Sample{Metric: m, Tags: reqTags, Time: now, Value: 1.234567})
		}
		for _, m := range iterMetrics {
			samples = append(samples, metrics.Sample{Metric: m, Tags: iterTags, Time: now, Value: 89})
		}
	}
	enc := NewEncoder(nil)
	buf := enc.AppendSamples(nil, samples)
	b.SetBytes(int64(len(buf) / len(samples)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(samples) {
		buf = enc.AppendSamples(buf[:0], samples)
	}
}
