package metrics

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseThreshold(t *testing.T) {
	cases := []struct {
		name, expr string
		agg        Aggregation
		op         Op
		value      float64
	}{
		{"percentile", "p(95)<500", Aggregation{AggPercentile, 95}, OpLT, 500},
		{"fractional percentile", "p(99.9) <= 1e3", Aggregation{AggPercentile, 99.9}, OpLE, 1000},
		{"spaces everywhere", "  p ( 90 )  >=  -2.5 ", Aggregation{AggPercentile, 90}, OpGE, -2.5},
		{"avg", "avg<250", Aggregation{Kind: AggAvg}, OpLT, 250},
		{"rate", "rate>0.99", Aggregation{Kind: AggRate}, OpGT, 0.99},
		{"count", "count==10", Aggregation{Kind: AggCount}, OpEQ, 10},
		{"strict eq", "value===3", Aggregation{Kind: AggValue}, OpStrictEQ, 3},
		{"ne", "max!=0", Aggregation{Kind: AggMax}, OpNE, 0},
		{"med", "med<1", Aggregation{Kind: AggMed}, OpLT, 1},
		{"min", "min>0", Aggregation{Kind: AggMin}, OpGT, 0},
		{"p0", "p(0)<1", Aggregation{AggPercentile, 0}, OpLT, 1},
		{"p100", "p(100)<1", Aggregation{AggPercentile, 100}, OpLT, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			th, err := ParseThreshold(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			if th.Agg != c.agg || th.Op != c.op || th.Value != c.value || th.Source != c.expr {
				t.Errorf("got %+v", th)
			}
		})
	}
}

func TestParseThresholdErrors(t *testing.T) {
	cases := []struct{ name, expr, want string }{
		{"empty", "", "expected an aggregation"},
		{"unknown agg", "mean<1", "column 1: expected an aggregation"},
		{"p without paren", "p95<1", `column 2: expected "(" after p`},
		{"no op", "avg 5", "column 5: expected an operator"},
		{"no value", "avg<", "column 5: expected a number"},
		{"bad value", "avg<abc", "expected a number"},
		{"trailing", "avg<5 ms", "column 7: expected end of expression"},
		{"percentile range", "p(101)<5", "percentile in [0,100]"},
		{"unclosed", "p(95<5", `")" closing p(`},
		{"no paren", "p 95<5", `"(" after p`},
		{"single eq", "avg=5", "expected an operator"},
		{"inf", "avg<1e999", "expected a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseThreshold(c.expr)
			if err == nil {
				t.Fatalf("%q accepted", c.expr)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "threshold \""+c.expr+"\"") {
				t.Errorf("error %q: want it to quote the expression and say %q", err, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		expr string
		mt   MetricType
		ok   bool
	}{
		{"count>1", Counter, true}, {"rate>1", Counter, true}, {"avg>1", Counter, false},
		{"value>1", Gauge, true}, {"min>1", Gauge, true}, {"max>1", Gauge, true}, {"rate>1", Gauge, false},
		{"rate<0.1", Rate, true}, {"count<1", Rate, false},
		{"avg<1", Trend, true}, {"p(95)<1", Trend, true}, {"med<1", Trend, true}, {"min<1", Trend, true},
		{"max<1", Trend, true}, {"count<1", Trend, false}, {"value<1", Trend, false},
	}
	for _, c := range cases {
		th, err := ParseThreshold(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if err := th.Validate(c.mt); (err == nil) != c.ok {
			t.Errorf("%s on %s: err=%v, want ok=%v", c.expr, c.mt, err, c.ok)
		}
	}
}

func TestParseMetricKey(t *testing.T) {
	cases := []struct {
		name, key, metric, tags string
		err                     bool
	}{
		{"plain", "http_req_duration", "http_req_duration", "", false},
		{"one tag", "http_req_duration{name:infer}", "http_req_duration", "name=infer", false},
		{"group value with colons", "http_req_duration{group:::inference}", "http_req_duration", "group=::inference", false},
		{"two tags spaced", "http_reqs{ status : 200 , method:GET }", "http_reqs", "method=GET,status=200", false},
		{"quoted", `checks{check:"a b"}`, "checks", "check=a b", false},
		{"missing colon", "x{name}", "", "", true},
		{"unclosed", "x{name:a", "", "", true},
		{"empty braces", "x{}", "", "", true},
		{"bad name", "1x", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, tags, err := ParseMetricKey(c.key)
			if (err != nil) != c.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), c.key) {
					t.Errorf("error %q does not quote the key", err)
				}
				return
			}
			if m != c.metric || tags.String() != c.tags {
				t.Errorf("got %q %q", m, tags.String())
			}
		})
	}
}

func TestParseThresholdsJSON(t *testing.T) {
	raw := json.RawMessage(`{
		"http_req_duration{name:infer}": ["p(95)<300"],
		"http_req_failed": [{"threshold": "rate<0.01", "abortOnFail": true, "delayAbortEval": "10s"}],
		"checks": "rate>0.99",
		"iterations": [{"threshold": "count>1", "delayAbortEval": 1500}]
	}`)
	mts, err := ParseThresholdsJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, m := range mts {
		keys = append(keys, m.Key)
	}
	if strings.Join(keys, " ") != "checks http_req_duration{name:infer} http_req_failed iterations" {
		t.Fatalf("keys %v not sorted", keys)
	}
	f := mts[2]
	if !f.Thresholds[0].AbortOnFail || f.Thresholds[0].DelayAbortEval != 10*time.Second || f.HasSubmetric {
		t.Errorf("object form: %+v", f.Thresholds[0])
	}
	if string(f.Raw[0]) == "" || !strings.Contains(string(f.Raw[0]), "abortOnFail") {
		t.Errorf("raw %s", f.Raw[0])
	}
	if d := mts[3].Thresholds[0].DelayAbortEval; d != 1500*time.Millisecond {
		t.Errorf("ms delay %v", d)
	}
	if s := mts[1]; !s.HasSubmetric || s.Metric != "http_req_duration" || s.Submetric.String() != "name=infer" {
		t.Errorf("submetric %+v", s)
	}
	bad := []string{`[]`, `{"x": [1]}`, `{"x": ["avg<"]}`, `{"x{": ["avg<1"]}`, `{"x": [{"abortOnFail": true}]}`, `{"x": [{"threshold": "avg<1", "bogus": 1}]}`, `{"x": [{"threshold":"avg<1","delayAbortEval":"soon"}]}`}
	for _, b := range bad {
		if _, err := ParseThresholdsJSON(json.RawMessage(b)); err == nil {
			t.Errorf("%s accepted", b)
		}
	}
}

func TestCheck(t *testing.T) {
	tr := NewSink(Trend)
	for _, v := range []float64{1, 2, 3, 4} {
		tr.AddValue(v, time.Time{})
	}
	c := NewSink(Counter)
	for range 10 {
		c.AddValue(1, time.Time{})
	}
	cases := []struct {
		name    string
		expr    string
		s       Sink
		elapsed time.Duration
		obs     float64
		pass    bool
	}{
		{"avg pass", "avg<3", tr, 0, 2.5, true},
		{"p95 fail", "p(95)<3", tr, 0, 3.85, false},
		{"counter rate", "rate>4", c, 2 * time.Second, 5, true},
		{"counter count", "count==10", c, 0, 10, true},
		{"empty passes", "avg<0", NewSink(Trend), 0, math.NaN(), true},
		{"undefined agg fails", "value<1", tr, 0, math.NaN(), false},
	}
	for _, cc := range cases {
		t.Run(cc.name, func(t *testing.T) {
			th, err := ParseThreshold(cc.expr)
			if err != nil {
				t.Fatal(err)
			}
			obs, pass := th.Check(cc.s, cc.elapsed)
			if pass != cc.pass || !(math.Abs(obs-cc.obs) < 1e-12 || (math.IsNaN(obs) && math.IsNaN(cc.obs))) {
				t.Errorf("got %v %v, want %v %v", obs, pass, cc.obs, cc.pass)
			}
		})
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p(95)<500", "avg<1", "rate>=0.5", "p(99.9)!=1e3", "count===2", " med < -1 ", "p(", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			if !strings.Contains(err.Error(), "threshold") {
				t.Errorf("error without context: %v", err)
			}
			return
		}
		// A parsed threshold re-parses from its canonical form to the same meaning.
		canon := th.Agg.String() + th.Op.String() + formatFloat(th.Value)
		th2, err := ParseThreshold(canon)
		if err != nil {
			t.Fatalf("canonical %q of %q: %v", canon, s, err)
		}
		if th2.Agg != th.Agg || th2.Op != th.Op || th2.Value != th.Value {
			t.Fatalf("%q → %q: %+v vs %+v", s, canon, th, th2)
		}
	})
}

func FuzzParseMetricKey(f *testing.F) {
	for _, s := range []string{"a", "a{b:c}", "a{group:::x,b:'y'}", "a{", "{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, _, err := ParseMetricKey(s)
		if err == nil && !ValidMetricName(name) {
			t.Errorf("%q: invalid name %q accepted", s, name)
		}
	})
}
