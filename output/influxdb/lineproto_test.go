package influxdb

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/pixelk6/pixelk6/metrics"
)

// parseBack parses one encoded line with the client library's own line-protocol parser
// (the server's parser, vendored in the client).
func parseBack(t *testing.T, line []byte, precision string) models.Point {
	t.Helper()
	pts, err := models.ParsePointsWithPrecision(line, time.Time{}, precision)
	if err != nil || len(pts) != 1 {
		t.Fatalf("parsing %q: %v (%d points)", line, err, len(pts))
	}
	return pts[0]
}

// checkRoundTrip encodes a sample and parses it back: measurement, tags, fields and time
// must be the sample's.
func checkRoundTrip(t *testing.T, name string, tags map[string]string, meta map[string]string, v float64, at time.Time) {
	t.Helper()
	cfg := defaultConfig()
	cfg.TagsAsFields = []fieldSpec{{"vu", kindInt}, {"url", kindString}, {"ok", kindBool}, {"f", kindFloat}}
	e := newEncoder(cfg)
	reg := metrics.NewRegistry()
	m := reg.MustNewMetric(name, metrics.Trend, metrics.Default)
	s := metrics.Sample{Metric: m, Tags: metrics.NewTagSet(tags), Metadata: meta, Time: at, Value: v}
	line := e.appendSample(nil, s)
	p := parseBack(t, line, "ns")
	if string(p.Name()) != name {
		t.Errorf("%q: name %q, want %q", line, p.Name(), name)
	}
	fields, err := p.Fields()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if fields["value"] != v {
		t.Errorf("%q: value %v, want %v", line, fields["value"], v)
	}
	wantTags := 0
	for k, val := range tags {
		if k == "" || val == "" {
			continue
		}
		if _, isField := e.fields[k]; isField {
			if fields[k] == nil {
				t.Errorf("%q: field %q missing", line, k)
			}
			continue
		}
		wantTags++
		if got := p.Tags().GetString(k); got != val {
			t.Errorf("%q: tag %q = %q, want %q", line, k, got, val)
		}
	}
	if len(p.Tags()) != wantTags {
		t.Errorf("%q: %d tags, want %d", line, len(p.Tags()), wantTags)
	}
	if !p.Time().Equal(at) {
		t.Errorf("%q: time %v, want %v", line, p.Time(), at)
	}
}

func TestLineProtocolRoundTrip(t *testing.T) {
	at := time.Unix(1_700_000_000, 123456789)
	for _, tc := range []struct {
		name       string
		metric     string
		tags, meta map[string]string
		v          float64
	}{
		{"plain", "http_reqs", map[string]string{"method": "GET", "status": "200"}, nil, 1},
		{"escapes", "my_metric", map[string]string{"name": `a b,c=d "q"`, "k y": "v=w"}, nil, -0.25},
		{"tags as fields", "vus", map[string]string{"url": "http://x/a b", "vu": "7", "ok": "true", "f": "1.5", "g": "h"}, nil, 3},
		{"bad int stays a string", "vus", map[string]string{"vu": "seven"}, nil, 3},
		{"metadata as field", "iterations", nil, map[string]string{"vu": "3", "trace": "dropped"}, 1},
		{"empty tag value", "x", map[string]string{"a": "", "b": "1"}, nil, 1e-300},
		{"big", "x", nil, nil, math.MaxFloat64},
	} {
		t.Run(tc.name, func(t *testing.T) { checkRoundTrip(t, tc.metric, tc.tags, tc.meta, tc.v, at) })
	}
}

// FuzzLineProtocol is the differential test of the encoder against the library's parser.
func FuzzLineProtocol(f *testing.F) {
	f.Add("http_req_duration", "name", "a b,c=d", 1.5, int64(1))
	f.Add("m", "k y", `"q"`, -3.0, int64(1_700_000_000_000_000_000))
	f.Fuzz(func(t *testing.T, metric, k, v string, val float64, ns int64) {
		if !metrics.ValidMetricName(metric) || math.IsNaN(val) || math.IsInf(val, 0) || ns < 0 {
			return
		}
		for _, s := range []string{k, v} {
			for _, r := range s {
				// line protocol cannot carry these in a tag (no escape for them)
				if r == '\\' || r == '\n' || r == '\r' || r < ' ' || !strconv.IsPrint(r) {
					return
				}
			}
		}
		if k == "time" || k == "_field" || k == "_measurement" || (len(k) > 0 && k[0] == '"') {
			return
		}
		checkRoundTrip(t, metric, map[string]string{k: v}, nil, val, time.Unix(0, ns))
	})
}

func TestPrecision(t *testing.T) {
	cfg := defaultConfig()
	cfg.Precision = "ms"
	e := newEncoder(cfg)
	m := metrics.NewRegistry().MustNewMetric("x", metrics.Counter, metrics.Default)
	at := time.Unix(1_700_000_000, 987654321)
	line := e.appendSample(nil, metrics.Sample{Metric: m, Time: at, Value: 1})
	if p := parseBack(t, line, "ms"); !p.Time().Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("%q: time %v", line, p.Time())
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, arg string
		env       map[string]string
		check     func(Config) bool
		err       bool
	}{
		{"defaults", "", nil, func(c Config) bool {
			return c.Addr == "http://localhost:8086" && c.DB == "k6" && c.PushInterval == time.Second && c.ConcurrentWrites == 4
		}, false},
		{"url", "http://u:p@127.0.0.1:9/prefix/db?precision=ms", nil, func(c Config) bool {
			return c.Addr == "http://127.0.0.1:9/prefix" && c.DB == "db" && c.Username == "u" && c.Password == "p" && c.Precision == "ms"
		}, false},
		{"trailing slash keeps the db", "http://h:1/pre/", map[string]string{"K6_INFLUXDB_DB": "x"}, func(c Config) bool {
			return c.Addr == "http://h:1/pre" && c.DB == "x"
		}, false},
		{"env", "http://h:1/db", map[string]string{"K6_INFLUXDB_PUSH_INTERVAL": "250ms", "K6_INFLUXDB_CONCURRENT_WRITES": "2",
			"K6_INFLUXDB_TAGS_AS_FIELDS": "vu:int,url", "K6_INFLUXDB_INSECURE": "true", "K6_INFLUXDB_USERNAME": "a", "K6_INFLUXDB_PASSWORD": "b",
			"K6_INFLUXDB_PRECISION": "1us", "K6_INFLUXDB_PAYLOAD_SIZE": "100", "K6_INFLUXDB_RETENTION": "r", "K6_INFLUXDB_CONSISTENCY": "all"},
			func(c Config) bool {
				return c.PushInterval == 250*time.Millisecond && c.ConcurrentWrites == 2 && len(c.TagsAsFields) == 2 &&
					c.TagsAsFields[0] == fieldSpec{"vu", kindInt} && c.Insecure && c.Username == "a" && c.Password == "b" &&
					c.Precision == "u" && c.PayloadSize == 100 && c.Retention == "r" && c.Consistency == "all"
			}, false},
		{"bad writes", "http://h:1/db", map[string]string{"K6_INFLUXDB_CONCURRENT_WRITES": "0"}, nil, true},
		{"bad precision", "http://h:1/db?precision=d", nil, nil, true},
		{"bad field type", "", map[string]string{"K6_INFLUXDB_TAGS_AS_FIELDS": "vu:long"}, nil, true},
		{"unknown query", "http://h:1/db?nope=1", nil, nil, true},
		{"not a url", "localhost:8086", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig(tc.arg, tc.env)
			if tc.err {
				if err == nil {
					t.Fatalf("no error: %+v", c)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Fatalf("%+v, %v", c, err)
			}
		})
	}
}
