package sentiment

import (
	"math"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules/modulestest"
	"github.com/pixelk6/pixelk6/metrics"
)

// newVU returns a VU in its init context, with the module instance's default export bound to
// the global `sentiment` (as `import sentiment from 'k6/x/sentiment'` would bind it): the
// SDK's fake VU, with the module found through its registration.
func newVU(t *testing.T, vuTags map[string]string) *modulestest.Runtime {
	t.Helper()
	rt := modulestest.New(t)
	for k, v := range vuTags {
		rt.State.Tags.Set(k, v)
	}
	rt.State.Group = "::inference"
	rt.Import(ImportPath, "sentiment")
	t.Cleanup(func() {
		if n := rt.VU.Callbacks(); n != 0 {
			t.Errorf("k6/x/sentiment is synchronous but registered %d event-loop callbacks", n)
		}
	})
	return rt
}

func TestScoreFromJavaScriptPushesSamples(t *testing.T) {
	vu := newVU(t, map[string]string{"suite": "tone"})
	reg, c := vu.Registry, vu.Samples

	// The metrics exist after the init context, so a script's thresholds on them are valid.
	for name, typ := range map[string]metrics.MetricType{MetricScore: metrics.Trend, MetricNegative: metrics.Rate} {
		m := reg.Get(name)
		if m == nil || m.Type != typ {
			t.Fatalf("after init, registry has %s = %+v, want a %s", name, m, typ)
		}
	}
	vu.MoveToVUContext()

	for _, tt := range []struct {
		call string
		want float64
	}{
		{`sentiment.score("Thank you for sharing, I'm glad you reached out")`, 1},
		{`sentiment.score("I feel hopeless and worried", {endpoint: "infer"})`, -1},
		{`sentiment.score("The meeting is at noon")`, 0},
	} {
		if got := vu.MustRunString(tt.call).ToFloat(); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.call, got, tt.want)
		}
	}

	if n := len(c.Batches()); n != 3 {
		t.Fatalf("pushed %d batches, want one per call (3)", n)
	}
	type row struct {
		metric string
		value  float64
		tags   string
	}
	var rows []row
	for _, s := range c.Samples() {
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

	stats := vu.MustRunString(`JSON.stringify(sentiment.stats())`).String()
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
	vu := newVU(t, nil)
	c := vu.Samples
	_, err := vu.RunString(`sentiment.score("hello")`)
	if err == nil || !strings.Contains(err.Error(), "not available in the init context") {
		t.Fatalf("score in init: err = %v, want an init-context exception", err)
	}
	if n := len(c.Samples()); n != 0 {
		t.Errorf("init-context call pushed %d samples", n)
	}
}

func TestInstancesArePerVU(t *testing.T) {
	a := newVU(t, nil)
	b := a.AnotherVU() // the same run: registry and sample sink shared
	b.State.Group = "::inference"
	b.Import(ImportPath, "sentiment")
	c := a.Samples
	a.MoveToVUContext()
	b.MoveToVUContext()
	a.MustRunString(`sentiment.score("great"); sentiment.score("awful")`)
	b.MustRunString(`sentiment.score("calm")`)
	if got := a.MustRunString(`sentiment.stats().scored`).ToInteger(); got != 2 {
		t.Errorf("VU a scored %d, want 2", got)
	}
	if got := b.MustRunString(`sentiment.stats().scored`).ToInteger(); got != 1 {
		t.Errorf("VU b scored %d, want 1", got)
	}
	// Both VUs share the run's metrics.
	ss := c.Samples()
	if len(ss) != 6 || ss[0].Metric != ss[4].Metric {
		t.Errorf("got %d samples; VUs must push into the same registry's metrics", len(ss))
	}
}

func TestNoPushAfterContextDone(t *testing.T) {
	vu := newVU(t, nil)
	c := vu.Samples
	vu.MoveToVUContext()
	vu.Cancel()
	if got := vu.MustRunString(`sentiment.score("sad")`).ToFloat(); got != -1 {
		t.Errorf("score = %v, want -1", got)
	}
	if n := len(c.Samples()); n != 0 {
		t.Errorf("pushed %d samples after the VU's context was done", n)
	}
}

func TestConflictingMetricTypeThrows(t *testing.T) {
	vu := modulestest.New(t)
	if _, err := vu.Registry.NewMetric(MetricScore, metrics.Counter, metrics.Default); err != nil {
		t.Fatal(err)
	}
	vu.Import(ImportPath, "sentiment")
	vu.MoveToVUContext()
	_, err := vu.RunString(`sentiment.score("good")`)
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

func TestSystemTagsOption(t *testing.T) {
	vu := newVU(t, map[string]string{"suite": "tone"})
	vu.MoveToVUContext()
	vu.State.Options.SystemTags = []string{"url"} // neither scenario nor group
	vu.MustRunString(`sentiment.score("great", {endpoint: "infer"})`)
	for _, s := range vu.Samples.Samples() {
		if got := tagString(s.Tags); got != "endpoint=infer,polarity=positive,suite=tone" && got != "endpoint=infer,suite=tone" {
			t.Errorf("%s tags %s: systemTags without scenario and group must drop them", s.Metric.Name, got)
		}
	}
}
