package analyzer

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/metrics"
)

func TestParsePoint(t *testing.T) {
	cases := []struct {
		name, line string
		ok         bool
		metric     string
		value      float64
		tags       string
	}{
		{"k6 shape", `{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":1,"tags":{"name":"a","status":"200"}}}`, true, "http_reqs", 1, `{"name":"a","status":"200"}`},
		{"empty tags", `{"metric":"vus","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":0,"tags":{}}}`, true, "vus", 0, `{}`},
		{"metadata", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40.1Z","value":-2.5,"tags":{"a":"b"},"metadata":{"vu":"1","iter":"2"}}}`, true, "x", -2.5, `{"a":"b"}`},
		{"escaped tag value", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"u":"a\"b\\"}}}`, true, "x", 3, `{"u":"a\"b\\"}`},
		{"exponent value", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":1.5e-07,"tags":{}}}`, true, "x", 1.5e-07, `{}`},
		{"crlf", "{\"metric\":\"x\",\"type\":\"Point\",\"data\":{\"time\":\"2026-11-28T02:32:40Z\",\"value\":3,\"tags\":{}}} ", true, "x", 3, `{}`},
		{"metric record", `{"type":"Metric","data":{"name":"vus","type":"gauge"},"metric":"vus"}`, false, "", 0, ""},
		{"other key order", `{"type":"Point","metric":"x","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{}}}`, false, "", 0, ""},
		{"nested tags are left to decodeTags", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"a":{"b":1}}}}`, true, "x", 3, `{"a":{"b":1}}`},
		{"bad metadata escape", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{},"metadata":{"a":"\q"}}}`, false, "", 0, ""},
		{"truncated", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{"a":"b"`, false, "", 0, ""},
		{"trailing garbage", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":3,"tags":{}}}x`, false, "", 0, ""},
		{"bad number", `{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40Z","value":NaN,"tags":{}}}`, false, "", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p point
			ok := parsePoint([]byte(c.line), &p)
			if ok != c.ok {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (string(p.name) != c.metric || p.v != c.value || string(p.tags) != c.tags) {
				t.Errorf("got %q %v %q", p.name, p.v, p.tags)
			}
		})
	}
}

func TestParseNumber(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "3.698876", "0.000001", "123456789012345", "1234567890123456789", "0.1", "1e5", "-2.5E-3", "110853", "9007199254740993", "0.30000000000000004"} {
		want, _ := json.Number(s).Float64()
		got, ok := parseNumber([]byte(s))
		if !ok || got != want {
			t.Errorf("%s: got %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", "1.", ".5", "+1", "1e", "NaN", "Inf", "0x10", "1_0", "1e999"} {
		if _, ok := parseNumber([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
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
	for _, s := range []string{"", "2026-11-28", "2026-13-01T00:00:00Z", "2026-11-28T02:32:40", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-28T02:32:40+70:00", "x026-11-28T02:32:40Z", "2026-11-28T02:32:40.Z"} {
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
		{"rfc3339_nano", "2026-11-28T02:32:40.266820642Z", ref.UnixNano()},
		{"rfc3339 offset", "2026-11-28T03:32:40.266820642+01:00", ref.UnixNano()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseCSVTime(c.in)
			if err != nil || got != c.want {
				t.Errorf("got %v %v, want %v", got, err, c.want)
			}
		})
	}
	for _, s := range []string{"", "abc", "2026-11-28Tnope-xxxxxxxx"} {
		if _, err := parseCSVTime(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzParsePoint: whenever the fast path accepts a line, encoding/json reads the same record.
func FuzzParsePoint(f *testing.F) {
	f.Add(`{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":1,"tags":{"name":"a","status":"200"}}}`)
	f.Add(`{"metric":"x","type":"Point","data":{"time":"2026-11-28T02:32:40.1+02:00","value":-2.5e3,"tags":{"a":"b\"c"},"metadata":{"vu":"1"}}}`)
	f.Add(`{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}`)
	f.Fuzz(func(t *testing.T, line string) {
		var p point
		if !parsePoint([]byte(line), &p) {
			return
		}
		ts, err := decodeTags(p.tags)
		if err != nil {
			return // the reader falls back to encoding/json for this line
		}
		var rec struct {
			Metric string `json:"metric"`
			Type   string `json:"type"`
			Data   struct {
				Time  time.Time       `json:"time"`
				Value float64         `json:"value"`
				Tags  json.RawMessage `json:"tags"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("fast path accepted a line encoding/json rejects: %v\n%s", err, line)
		}
		if rec.Type != "Point" || rec.Metric != string(p.name) || rec.Data.Value != p.v || rec.Data.Time.UnixNano() != p.t {
			t.Fatalf("disagree: %+v vs %q %v %v", rec, p.name, p.v, p.t)
		}
		if want, err := decodeTags(rec.Data.Tags); err != nil || ts != want {
			t.Fatalf("tags disagree: %v %v", ts, err)
		}
	})
}

// FuzzCSVRow: any row either folds in or is an error; no panics, no NaN counted.
func FuzzCSVRow(f *testing.F) {
	f.Add("http_reqs,1795833160,1.000000,,,,true,::health,GET,health,HTTP/1.1,pixel_rest,,200,,,health,suite=pixel,")
	f.Add("vus,2026-11-28T02:32:40Z,3,,,,,,,,,,,,,,,a=b&c=d%20e,")
	f.Add("x,1795833160266820642,NaN")
	head := strings.Split("metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata", ",")
	cols, err := parseCSVHeader(head)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, row string) {
		sh := newShard(newTypeTable(), 0)
		var key []byte
		err := csvRow(sh, cols, strings.Split(row, ","), &key, map[string]int32{})
		if err == nil && sh.points > 1 {
			t.Fatalf("one row gave %d points", sh.points)
		}
		for _, a := range sh.series {
			if math.IsNaN(a.sum) {
				t.Fatal("NaN folded in")
			}
		}
	})
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
