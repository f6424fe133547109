package sentiment

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// fakeVU is a minimal modules.VU over a bare goja runtime: what a runner gives a module.
type fakeVU struct {
	ctx   context.Context
	rt    *goja.Runtime
	init  *modules.InitEnvironment // non-nil while "in the init context"
	state *modules.State
}

func (v *fakeVU) Context() context.Context          { return v.ctx }
func (v *fakeVU) Runtime() *goja.Runtime            { return v.rt }
func (v *fakeVU) InitEnv() *modules.InitEnvironment { return v.init }
func (v *fakeVU) State() *modules.State {
	if v.init != nil {
		return nil
	}
	return v.state
}
func (v *fakeVU) RegisterCallback() func(func() error) {
	panic("k6/x/sentiment is synchronous and must not register callbacks")
}

// capture is a metrics.Pusher that keeps every batch.
type capture struct {
	mu      sync.Mutex
	batches [][]metrics.Sample
}

func (c *capture) Push(_ context.Context, s []metrics.Sample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, append([]metrics.Sample(nil), s...))
}

func (c *capture) samples() []metrics.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []metrics.Sample
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

// newVU returns a VU in its init context, with the module instance's default export bound to
// the global `sentiment` (as `import sentiment from 'k6/x/sentiment'` would bind it).
func newVU(t *testing.T, ctx context.Context, reg *metrics.Registry, c *capture, vuTags map[string]string) *fakeVU {
	t.Helper()
	rt := goja.New()
	rt.SetFieldNameMapper(goja.UncapFieldNameMapper())
	vu := &fakeVU{ctx: ctx, rt: rt, init: &modules.InitEnvironment{Registry: reg}}
	mod, ok := modules.Lookup(ImportPath)
	if !ok {
		t.Fatalf("%s is not registered", ImportPath)
	}
	root, ok := mod.(modules.Module)
	if !ok {
		t.Fatalf("%s is registered as a %T, not a modules.Module", ImportPath, mod)
	}
	if err := rt.Set("sentiment", root.NewModuleInstance(vu).Exports().Default); err != nil {
		t.Fatal(err)
	}
	vu.state = &modules.State{
		VUID: 1, VUIDGlobal: 1, Scenario: "default", Group: "::inference",
		Tags:     modules.NewTagMap(vuTags),
		Registry: reg, Samples: c,
	}
	return vu
}

// enterIterations ends the init context.
func (v *fakeVU) enterIterations() { v.init = nil }

func (v *fakeVU) run(t *testing.T, src string) goja.Value {
	t.Helper()
	val, err := v.rt.RunString(src)
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, src)
	}
	return val
}

func TestScoreFromJavaScriptPushesSamples(t *testing.T) {
	reg := metrics.NewRegistry()
	c := &capture{}
	vu := newVU(t, context.Background(), reg, c, map[string]string{"suite": "tone"})

	// The metrics exist after the init context, so a script's thresholds on them are valid.
	for name, typ := range map[string]metrics.MetricType{MetricScore: metrics.Trend, MetricNegative: metrics.Rate} {
		m := reg.Get(name)
		if m == nil || m.Type != typ {
			t.Fatalf("after init, registry has %s = %+v, want a %s", name, m, typ)
		}
	}
	vu.enterIterations()

	for _, tt := range []struct {
		call string
		want float64
	}{
		{`sentiment.score("Thank you for sharing, I'm glad you reached out")`, 1},
		{`sentiment.score("I feel hopeless and worried", {endpoint: "infer"})`, -1},
		{`sentiment.score("The meeting is at noon")`, 0},
	} {
		if got := vu.run(t, tt.call).ToFloat(); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.call, got, tt.want)
		}
	}

	if len(c.batches) != 3 {
		t.Fatalf("pushed %d batches, want one per call (3)", len(c.batches))
	}
	type row struct {
		metric string
		value  float64
		tags   string
	}
	var rows []row
	for _, s := range c.samples() {
		rows = append(rows, row{s.Metric.Name, s.Value, tagString(s.Tags)})
		if s.Time.IsZero() {
			t.Errorf("%s sample has no time", s.Metric.Name)
		}
	}
	// TagSet sorts by key.
	wantRows := []row{
		{MetricScore, 1, "group=::inference,polarity=positive,scenario=default,suite=tone"},
		{MetricNegative, 0, "group=::inference,scenario=default,suite=tone"},
		{MetricScore, -1, "endpoint=infer,group=::inference,polarity=negative,scenario=default,suite=tone"},
		{MetricNegative, 1, "endpoint=infer,group=::inference,scenario=default,suite=tone"},
		{MetricScore, 0, "group=::inference,polarity=neutral,scenario=default,suite=tone"},
		{MetricNegative, 0, "group=::inference,scenario=default,suite=tone"},
	}
	if len(rows) != len(wantRows) {
		t.Fatalf("got %d samples %+v, want %d", len(rows), rows, len(wantRows))
	}
	for i := range wantRows {
		if rows[i] != wantRows[i] {
			t.Errorf("sample %d = %+v, want %+v", i, rows[i], wantRows[i])
		}
	}

	stats := vu.run(t, `JSON.stringify(sentiment.stats())`).String()
	if stats != `{"scored":3,"negative":1}` {
		t.Errorf("stats() = %s, want scored 3, negative 1", stats)
	}
}

func tagString(ts metrics.TagSet) string {
	var parts []string
	for _, tg := range ts.Tags() {
		parts = append(parts, tg.Key+"="+tg.Value)
	}
	return strings.Join(parts, ",")
}

func TestScoreInInitContextThrows(t *testing.T) {
	c := &capture{}
	vu := newVU(t, context.Background(), metrics.NewRegistry(), c, nil)
	_, err := vu.rt.RunString(`sentiment.score("hello")`)
	if err == nil || !strings.Contains(err.Error(), "not available in the init context") {
		t.Fatalf("score in init: err = %v, want an init-context exception", err)
	}
	if n := len(c.samples()); n != 0 {
		t.Errorf("init-context call pushed %d samples", n)
	}
}

func TestInstancesArePerVU(t *testing.T) {
	reg := metrics.NewRegistry()
	c := &capture{}
	a := newVU(t, context.Background(), reg, c, nil)
	b := newVU(t, context.Background(), reg, c, nil)
	a.enterIterations()
	b.enterIterations()
	a.run(t, `sentiment.score("great"); sentiment.score("awful")`)
	b.run(t, `sentiment.score("calm")`)
	if got := a.run(t, `sentiment.stats().scored`).ToInteger(); got != 2 {
		t.Errorf("VU a scored %d, want 2", got)
	}
	if got := b.run(t, `sentiment.stats().scored`).ToInteger(); got != 1 {
		t.Errorf("VU b scored %d, want 1", got)
	}
	// Both VUs share the run's metrics.
	ss := c.samples()
	if len(ss) != 6 || ss[0].Metric != ss[4].Metric {
		t.Errorf("got %d samples; VUs must push into the same registry's metrics", len(ss))
	}
}

func TestNoPushAfterContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &capture{}
	vu := newVU(t, ctx, metrics.NewRegistry(), c, nil)
	vu.enterIterations()
	cancel()
	if got := vu.run(t, `sentiment.score("sad")`).ToFloat(); got != -1 {
		t.Errorf("score = %v, want -1", got)
	}
	if n := len(c.samples()); n != 0 {
		t.Errorf("pushed %d samples after the VU's context was done", n)
	}
}

func TestConflictingMetricTypeThrows(t *testing.T) {
	reg := metrics.NewRegistry()
	if _, err := reg.NewMetric(MetricScore, metrics.Counter, metrics.Default); err != nil {
		t.Fatal(err)
	}
	vu := newVU(t, context.Background(), reg, &capture{}, nil)
	vu.enterIterations()
	_, err := vu.rt.RunString(`sentiment.score("good")`)
	if err == nil || !strings.Contains(err.Error(), MetricScore) {
		t.Fatalf("err = %v, want the metric conflict naming %s", err, MetricScore)
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name string
		text string
		want float64
	}{
		{"empty", "", 0},
		{"no listed words", "the meeting is at noon", 0},
		{"positive", "Thank you, that is helpful", 1},
		{"negative", "I feel hopeless", -1},
		{"mixed", "I am worried but hopeful and glad", 1.0 / 3},
		{"case and punctuation", "GREAT!!! ...sad?", 0},
		{"negation flips the next listed word", "you are not alone", 1},
		{"negation reaches three words", "I am not at all happy", -1},
		{"negation expires", "never mind, we went to the shop and it was good", 1},
		{"curly apostrophe negation", "I don’t feel safe", -1},
		{"pixelsim crisis reply", "Your safety matters most. Please contact emergency services or a crisis hotline immediately; you do not have to face this alone.", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Score(tt.text); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Score(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestPolarity(t *testing.T) {
	for _, tt := range []struct {
		score float64
		want  string
	}{{0.5, "positive"}, {-0.1, "negative"}, {0, "neutral"}} {
		if got := Polarity(tt.score); got != tt.want {
			t.Errorf("Polarity(%v) = %q, want %q", tt.score, got, tt.want)
		}
	}
}

func FuzzScore(f *testing.F) {
	for _, s := range []string{"", "not not good", "sad happy", "don’t", "\xff\xfe not"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := Score(text)
		if math.IsNaN(s) || s < -1 || s > 1 {
			t.Fatalf("Score(%q) = %v, outside [-1, 1]", text, s)
		}
	})
}

func BenchmarkScore(b *testing.B) {
	const text = "It sounds like things feel heavy right now. That is understandable, and you are not alone in it."
	b.ReportAllocs()
	for b.Loop() {
		Score(text)
	}
}
