package k6file

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

// trickySamples are samples whose names, tags and metadata need escaping or quoting.
func trickySamples() []metrics.Sample {
	reg := metrics.NewRegistry()
	m1 := reg.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time)
	m2 := reg.MustNewMetric("crisis_detections", metrics.Counter, metrics.Default)
	t0 := time.Date(2026, 11, 28, 2, 32, 40, 266820642, time.UTC)
	return []metrics.Sample{
		{Metric: m1, Time: t0, Value: 3.698876, Tags: metrics.TagsFromPairs("name", "infer", "status", "200", "url", "http://x/?a=1,b=\"2\"", "suite", "pixel")},
		{Metric: m2, Time: t0.Add(time.Millisecond), Value: 1, Tags: metrics.TagsFromPairs("risk_level", "high & \"urgent\"", "note", "é😀 tab\there", "pct", "50%=half"), Metadata: map[string]string{"vu": "3", "trace": "a&b=c"}},
		{Metric: m1, Time: t0.Add(-time.Hour), Value: -0.5, Tags: metrics.TagsFromPairs("group", " leading space", "check", "line\nbreak")},
		{Metric: m2, Time: t0, Value: 1e-9},
	}
}

// TestNDJSONRoundTrip: what the encoder writes scans back to the same records.
func TestNDJSONRoundTrip(t *testing.T) {
	samples := trickySamples()
	info := MetricInfos(mustThresholds(t, `{"http_req_duration":["p(95)<500",{"threshold":"p(99)<900","abortOnFail":true,"delayAbortEval":"10s"}],"http_req_duration{name:infer}":["avg<300"]}`), nil)
	enc := NewEncoder(info)
	data := enc.AppendSamples(nil, samples)
	recs, sc := scanAll(t, data, NDJSON)
	if sc.BadLines() != 0 {
		t.Fatal(sc.SyntaxErrors())
	}
	var points []metrics.Sample
	for _, r := range recs {
		switch r.Kind {
		case MetricKind:
			if want := info[r.Metric.Name]; !reflect.DeepEqual(r.Metric.MetricInfo, want) && (len(want.Thresholds) > 0 || len(want.Submetrics) > 0) {
				t.Errorf("Metric %s: %+v, want %+v", r.Metric.Name, r.Metric.MetricInfo, want)
			}
		case PointKind:
			s := samples[len(points)]
			p := r.Point
			if p.Metric != s.Metric.Name || p.Time != s.Time.UnixNano() || p.Value != s.Value || p.Tags != s.Tags || !reflect.DeepEqual(p.Metadata, s.Metadata) {
				t.Errorf("point %d: %+v, want %+v", len(points), p, s)
			}
			points = append(points, s)
		}
	}
	if len(points) != len(samples) {
		t.Fatalf("%d points, want %d", len(points), len(samples))
	}
}

func mustThresholds(t testing.TB, doc string) []metrics.MetricThresholds {
	t.Helper()
	mts, err := metrics.ParseThresholdsJSON(json.RawMessage(doc))
	if err != nil {
		t.Fatal(err)
	}
	return mts
}

// TestCSVRoundTrip: in every time format, what the encoder writes scans back to the same
// samples, to the format's precision.
func TestCSVRoundTrip(t *testing.T) {
	samples := trickySamples()
	precision := map[TimeFormat]time.Duration{
		TimeUnix: time.Second, TimeUnixMilli: time.Millisecond, TimeUnixMicro: time.Microsecond,
		TimeUnixNano: 1, TimeRFC3339: time.Second, TimeRFC3339Nano: 1,
	}
	for tf, prec := range precision {
		t.Run(tf.String(), func(t *testing.T) {
			if got, err := ParseTimeFormat(tf.String()); err != nil || got != tf {
				t.Fatalf("ParseTimeFormat(%q) = %v, %v", tf, got, err)
			}
			enc := CSVEncoder{TimeFormat: tf}
			data := enc.AppendSamples(AppendCSVHeader(nil), samples)
			recs, sc := scanAll(t, data, CSV)
			if sc.BadLines() != 0 || len(recs) != len(samples) {
				t.Fatalf("%d records, bad lines %v\n%s", len(recs), sc.SyntaxErrors(), data)
			}
			for i, r := range recs {
				s, p := samples[i], r.Point
				wantT := s.Time.Truncate(prec).UnixNano()
				if p.Metric != s.Metric.Name || p.Time != wantT || p.Value != round6(s.Value) || p.Tags != s.Tags || !reflect.DeepEqual(p.Metadata, s.Metadata) {
					t.Errorf("row %d: %+v\nwant %+v", i, p, s)
				}
			}
		})
	}
}

func TestScannerBadLines(t *testing.T) {
	point := `{"metric":"vus","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":1,"tags":{}}}`
	cases := []struct {
		name    string
		format  Format
		in      string
		records int
		lines   int64
		bad     []int64 // lines of the syntax errors
		trunc   bool    // the last syntax error is a truncated last line
	}{
		{"ndjson blank and crlf", NDJSON, point + "\r\n\n" + point + "\n", 2, 3, nil, false},
		{"ndjson garbage", NDJSON, point + "\nnope\n" + point + "\n{\"type\":\"Nope\"}\n", 2, 4, []int64{2, 4}, false},
		{"ndjson truncated last", NDJSON, point + "\n" + point[:40], 1, 2, []int64{2}, true},
		{"ndjson bad last with newline", NDJSON, point + "\n" + point[:40] + "\n", 1, 2, []int64{2}, false},
		{"ndjson no newline at end", NDJSON, point, 1, 1, nil, false},
		{"ndjson bad metric type", NDJSON, `{"type":"Metric","data":{"name":"x","type":"histogram"},"metric":"x"}` + "\n", 0, 1, []int64{1}, false},
		{"ndjson bad threshold", NDJSON, `{"type":"Metric","data":{"name":"x","type":"trend","thresholds":[5]},"metric":"x"}` + "\n", 0, 1, []int64{1}, false},
		{"csv", CSV, csvHeader + "vus,1795833160,1.000000\nvus,x,1\nvus,1795833160,NaN\nvus,1795833160,2\n", 2, 4, []int64{3, 4}, false},
		{"csv truncated last", CSV, csvHeader + "vus,1795833160,1\nvus,17958331", 1, 2, []int64{3}, true},
		{"csv bad quote", CSV, csvHeader + "vus,1795833160,1\n\"vus,1,1\n", 1, 2, []int64{3}, false},
		{"csv bad metric name", CSV, csvHeader + "a b,1795833160,1\n", 0, 1, []int64{2}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := NewScanner(strings.NewReader(c.in), c.format)
			var seen []*SyntaxError
			sc.OnSyntaxError = func(e *SyntaxError) error { seen = append(seen, e); return nil }
			n := 0
			for sc.Scan() {
				n++
			}
			if sc.Err() != nil {
				t.Fatal(sc.Err())
			}
			if n != c.records || sc.Lines() != c.lines || sc.BadLines() != int64(len(c.bad)) {
				t.Fatalf("%d records, %d lines, %d bad (%v)", n, sc.Lines(), sc.BadLines(), seen)
			}
			for i, e := range seen {
				if e.Line != c.bad[i] {
					t.Errorf("syntax error %d at line %d, want %d: %v", i, e.Line, c.bad[i], e)
				}
				if want := c.trunc && i == len(seen)-1; e.Truncated != want {
					t.Errorf("%v: Truncated = %v", e, e.Truncated)
				}
			}
			if !reflect.DeepEqual(seen, sc.SyntaxErrors()) {
				t.Errorf("SyntaxErrors() = %v", sc.SyntaxErrors())
			}
		})
	}
}

// TestScannerStops: an error from OnSyntaxError ends scanning and is Err.
func TestScannerStops(t *testing.T) {
	errStop := errors.New("too many")
	sc := NewScanner(strings.NewReader("a\nb\nc\n"), NDJSON)
	sc.OnSyntaxError = func(e *SyntaxError) error {
		if e.Line == 2 {
			return errStop
		}
		return nil
	}
	for sc.Scan() {
		t.Fatal("a record")
	}
	if !errors.Is(sc.Err(), errStop) || sc.Lines() != 2 {
		t.Fatalf("Err %v after %d lines", sc.Err(), sc.Lines())
	}
}

// TestScannerLongLines: no 64 KiB line limit; a 17 MiB line is one record.
func TestScannerLongLines(t *testing.T) {
	long := strings.Repeat("x", 17<<20)
	line := `{"metric":"vus","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":1,"tags":{"big":"` + long + `"}}}`
	in := line + "\n" + line // the second without its newline
	recs, sc := scanAll(t, []byte(in), NDJSON)
	if len(recs) != 2 || sc.BadLines() != 0 {
		t.Fatalf("%d records, %v", len(recs), sc.SyntaxErrors())
	}
	if v, _ := recs[1].Point.Tags.Get("big"); v != long || recs[1].Line != 2 {
		t.Fatalf("tag of %d bytes at line %d", len(v), recs[1].Line)
	}
	row := "vus,1795833160,1,,,,,,,,,,,,,,," + "big=" + long + ",\n"
	recs, sc = scanAll(t, []byte(csvHeader+row), CSV)
	if len(recs) != 1 || sc.BadLines() != 0 {
		t.Fatalf("CSV: %d records, %v", len(recs), sc.SyntaxErrors())
	}
}

func TestDetectFormat(t *testing.T) {
	for in, want := range map[string]Format{"metric_name,timestamp": CSV, "\xef\xbb\xbfmetric_name,": CSV, `{"type":"Metric"`: NDJSON, "": NDJSON} {
		if got := DetectFormat([]byte(in)); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestFastPoint(t *testing.T) {
	cases := []struct {
		name, line string
		ok         bool
		metric     string
		value      float64
		tags, meta string
	}{
		{"k6 shape", `{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":1,"tags":{"name":"a","status":"200"}}}`, true, "http_reqs", 1, `{"name":"a","status":"200"}`, ""},
		{"empty tags", `{"metric":"vus","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":0,"tags":{}}}`, true, "vus", 0, `{}`, ""},
		{"metadata", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40.1Z","value":-2.5,"tags":{"a":"b"},"metadata":{"vu":"1","iter":"2"}}}`, true, "x", -2.5, `{"a":"b"}`, `{"vu":"1","iter":"2"}`},
		{"escaped tag value", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"u":"a\"b\\"}}}`, true, "x", 3, `{"u":"a\"b\\"}`, ""},
		{"exponent value", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":1.5e-07,"tags":{}}}`, true, "x", 1.5e-07, `{}`, ""},
		{"crlf", "{\"metric\":\"x\",\"type\":\"Point\",\"data\":{\"time\":\"2026-11-28T02:32:40Z\",\"value\":3,\"tags\":{}}} ", true, "x", 3, `{}`, ""},
		{"metric record", `{"type":"Metric","data":{"name":"vus","type":"gauge"},"metric":"vus"}`, false, "", 0, "", ""},
		{"other key order", `{"type":"Point","metric":"x","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{}}}`, false, "", 0, "", ""},
		{"escaped name", `{"metric":"a\u0062","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{}}}`, false, "", 0, "", ""},
		{"nested tags are left to DecodeTags", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"a":{"b":1}}}}`, true, "x", 3, `{"a":{"b":1}}`, ""},
		{"bad metadata escape", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{},"metadata":{"a":"\q"}}}`, false, "", 0, "", ""},
		{"truncated", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"a":"b"`, false, "", 0, "", ""},
		{"trailing garbage", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{}}}x`, false, "", 0, "", ""},
		{"bad number", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":NaN,"tags":{}}}`, false, "", 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p FastPoint
			ok := p.Parse([]byte(c.line))
			if ok != c.ok {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (string(p.Name) != c.metric || p.Value != c.value || string(p.Tags) != c.tags || string(p.Metadata) != c.meta) {
				t.Errorf("got %q %v %q %q", p.Name, p.Value, p.Tags, p.Metadata)
			}
		})
	}
}

func TestFastPointNoAlloc(t *testing.T) {
	line := []byte(`{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":3.698876,"tags":{"expected_response":"true","name":"health"},"metadata":{"vu":"1"}}}`)
	var p FastPoint
	if a := testing.AllocsPerRun(100, func() { p.Parse(line) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}

func TestParseRFC3339(t *testing.T) {
	for _, s := range []string{"2026-11-28T02:32:40.266820642Z", "2026-11-28T02:32:40Z", "2026-11-28T02:32:40.1Z", "1969-12-31T23:59:59.5Z", "2026-02-28T10:00:00.123+02:00", "2000-03-01T00:00:00-05:30", "2024-02-29T23:59:59.999999999Z"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseRFC3339([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Errorf("%s: got %v, want %v", s, got, want.UnixNano())
		}
	}
	for _, s := range []string{"", "2026-11-28", "2026-13-01T00:00:00Z", "2026-11-28T02:32:40", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-28T02:32:40+70:00", "x026-11-28T02:32:40Z", "2026-11-28T02:32:40.Z", "1600-01-01T00:00:00Z"} {
		if _, ok := parseRFC3339([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestParseCSVTime(t *testing.T) {
	ref := time.Date(2026, 11, 28, 2, 32, 40, 266820642, time.UTC)
	cases := []struct {
		name, in string
		want     int64
	}{
		{"unix", "1795833160", time.Unix(1795833160, 0).UnixNano()},
		{"unix_milli", "1795833160266", ref.Truncate(time.Millisecond).UnixNano()},
		{"unix_micro", "1795833160266820", ref.Truncate(time.Microsecond).UnixNano()},
		{"unix_nano", "1795833160266820642", ref.UnixNano()},
		{"rfc3339", "2026-11-28T02:32:40Z", ref.Truncate(time.Second).UnixNano()},
		{"rfc3339_nano", "2026-11-28T02:32:40.266820642Z", ref.UnixNano()},
		{"rfc3339 offset", "2026-11-28T03:32:40.266820642+01:00", ref.UnixNano()},
		{"fractional seconds", "1795833160.5", time.Unix(1795833160, 5e8).UnixNano()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCSVTime(c.in)
			if err != nil || got != c.want {
				t.Errorf("got %v %v, want %v", got, err, c.want)
			}
		})
	}
	for _, s := range []string{"", "abc", "2026-11-28Tnope-xxxxxxxx"} {
		if _, err := ParseCSVTime(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzFastPoint: whenever the fast path accepts a line, encoding/json reads the same record.
func FuzzFastPoint(f *testing.F) {
	f.Add(`{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":1,"tags":{"name":"a","status":"200"}}}`)
	f.Add(`{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40.1+02:00","value":-2.5e3,"tags":{"a":"b\"c"},"metadata":{"vu":"1"}}}`)
	f.Add(`{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}`)
	f.Fuzz(func(t *testing.T, line string) {
		var p FastPoint
		if !p.Parse([]byte(line)) {
			return
		}
		ts, err := DecodeTags(p.Tags)
		if err != nil {
			return // ParseLine falls back to encoding/json for this line
		}
		var rec struct {
			Metric string `json:"metric"`
			Type   string `json:"type"`
			Data   struct {
				Time     time.Time       `json:"time"`
				Value    float64         `json:"value"`
				Tags     json.RawMessage `json:"tags"`
				Metadata json.RawMessage `json:"metadata"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("fast path accepted a line encoding/json rejects: %v\n%s", err, line)
		}
		if rec.Type != "Point" || rec.Metric != string(p.Name) || rec.Data.Value != p.Value || rec.Data.Time.UnixNano() != p.Time {
			t.Fatalf("disagree: %+v vs %q %v %v", rec, p.Name, p.Value, p.Time)
		}
		if want, err := DecodeTags(rec.Data.Tags); err != nil || ts != want {
			t.Fatalf("tags disagree: %v %v", ts, err)
		}
		if !reflect.DeepEqual(decodeMetadata(p.Metadata), decodeMetadata(rec.Data.Metadata)) {
			t.Fatalf("metadata disagree: %s vs %s", p.Metadata, rec.Data.Metadata)
		}
		// The fast path and the slow path give the same record.
		fast, err := ParseLine([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		slow, err := parseSlow([]byte(line))
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %+v, slow %+v (%v)", fast, slow, err)
		}
	})
}

// FuzzNDJSON: the Scanner never panics, and every record it accepts re-encodes and
// re-scans to the same record.
func FuzzNDJSON(f *testing.F) {
	for _, name := range goldenRuns {
		lines := bytes.SplitAfter(readTestdata(f, name+".json"), []byte("\n"))
		f.Add(bytes.Join(lines[:min(len(lines), 40)], nil))
	}
	f.Add([]byte(`{"type":"Point","metric":"x\u00e9","data":{"value":1e3,"time":"2026-11-28T02:32:40+01:00","tags":{"a":null,"b":[1]},"metadata":{"k":"v"}}}` + "\n" + `{"type":"Metric","metric":"m","data":{"type":"rate","thresholds":"rate<1","submetrics":[{"name":"m{a:b}","suffix":"a:b"}]}}`))
	f.Add([]byte("\n\r\n{}\n[]\nnull"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := NewScanner(bytes.NewReader(data), NDJSON)
		var recs []Record
		for sc.Scan() {
			recs = append(recs, *sc.Record())
		}
		if sc.Err() != nil {
			t.Fatal(sc.Err())
		}
		if sc.Lines() < int64(len(recs))+sc.BadLines() {
			t.Fatalf("%d lines < %d records + %d bad", sc.Lines(), len(recs), sc.BadLines())
		}
		enc := NewEncoder(nil)
		var out []byte
		for i := range recs {
			out = enc.AppendRecord(out, &recs[i])
		}
		again, sc2 := scanAll(t, out, NDJSON)
		if sc2.BadLines() != 0 || len(again) != len(recs) {
			t.Fatalf("re-encoded %d records: %d back, bad %v\n%s", len(recs), len(again), sc2.SyntaxErrors(), out)
		}
		for i := range recs {
			again[i].Line = recs[i].Line
			if !reflect.DeepEqual(recs[i], again[i]) {
				t.Fatalf("record %d:\n%+v\nre-scanned as\n%+v\nfrom %s", i, recs[i], again[i], out)
			}
		}
	})
}

// FuzzCSV: the Scanner never panics, and every row it accepts re-encodes (in
// rfc3339_nano, which keeps every time) and re-scans to the same row, its value rounded to
// CSV's six decimals once.
func FuzzCSV(f *testing.F) {
	for _, name := range goldenRuns {
		lines := bytes.SplitAfter(readTestdata(f, name+".csv"), []byte("\n"))
		f.Add(bytes.Join(lines[1:min(len(lines), 40)], nil))
	}
	f.Add([]byte("vus,2026-11-28T02:32:40Z,3,,,,,,,,,,,,,,,a=b&c=d%20e&=x&%41=%zz,vu=1\n\"x,y\",1,1\nx,1795833160266820642,NaN\n"))
	f.Fuzz(func(t *testing.T, rows []byte) {
		data := append([]byte(csvHeader), rows...)
		sc := NewScanner(bytes.NewReader(data), CSV)
		var recs []Record
		for sc.Scan() {
			recs = append(recs, *sc.Record())
		}
		if sc.Err() != nil {
			t.Fatal(sc.Err())
		}
		enc := CSVEncoder{TimeFormat: TimeRFC3339Nano}
		out := AppendCSVHeader(nil)
		for i := range recs {
			if math.IsNaN(recs[i].Point.Value) || math.IsInf(recs[i].Point.Value, 0) {
				t.Fatalf("row %d: value %v accepted", i, recs[i].Point.Value)
			}
			out = enc.AppendRecord(out, &recs[i])
		}
		again, sc2 := scanAll(t, out, CSV)
		if sc2.BadLines() != 0 || len(again) != len(recs) {
			t.Fatalf("re-encoded %d rows: %d back, bad %v\n%s", len(recs), len(again), sc2.SyntaxErrors(), out)
		}
		for i := range recs {
			want := recs[i]
			want.Point.Value = round6(want.Point.Value)
			want.Line = again[i].Line
			if !reflect.DeepEqual(want, again[i]) {
				t.Fatalf("row %d:\n%+v\nre-scanned as\n%+v\nfrom %s", i, want, again[i], out)
			}
		}
	})
}
