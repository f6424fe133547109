// Package sentiment is an example third-party pixelk6 extension, k6/x/sentiment: it scores
// the tone of a text (an inference response, say) with a small word list and records the
// score as custom metrics. It is written only against pixelk6's extension SDK
// (github.com/pixelk6/pixelk6/js/modules) and metrics, in the shape of an xk6 extension:
//
//   - init registers a root module under "k6/x/sentiment" (modules.Register);
//   - the root module makes one instance per VU (Module.NewModuleInstance);
//   - the instance exports a JavaScript object (Instance.Exports) whose methods run on the
//     VU's goroutine, read the VU's state (modules.VU.State) and push samples through
//     State.Samples into the metrics registered in State.Registry.
//
// From a script:
//
//	import sentiment from 'k6/x/sentiment';
//	const s = sentiment.score(res.json('response'), { endpoint: 'infer' }); // s ∈ [-1, 1]
//
// Metrics (names and types are this extension's contract):
//
//	sentiment_score     trend   the score of every text, ∈ [-1, 1]; tag polarity =
//	                            positive (> 0), negative (< 0) or neutral (0)
//	sentiment_negative  rate    1 for a text with a negative score, else 0
//
// The word list is a toy, not a language model: the point is the extension's shape.
package sentiment

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// ImportPath is the module's import path.
const ImportPath = "k6/x/sentiment"

// Metric names.
const (
	MetricScore    = "sentiment_score"
	MetricNegative = "sentiment_negative"
)

func init() { modules.Register(ImportPath, New()) }

// RootModule is the process-wide module value. It holds no per-test state: the metrics
// live in each test run's registry, so one binary can run several tests.
type RootModule struct{}

var _ modules.Module = (*RootModule)(nil)

// New returns the root module.
func New() *RootModule { return &RootModule{} }

// NewModuleInstance implements modules.Module: it is called once per VU, in the VU's init
// context. It registers the metrics there too, so that a script's thresholds on them are
// valid before the first iteration (the runner checks threshold metrics after init).
func (*RootModule) NewModuleInstance(vu modules.VU) modules.Instance {
	mi := &ModuleInstance{vu: vu}
	mi.api = &API{mi: mi}
	if env := vu.InitEnv(); env != nil && env.Registry != nil {
		// An error here (a script defined sentiment_score as another type) is reported
		// again, as an exception, by the first call that needs the metrics.
		_, _ = mi.metricsIn(env.Registry)
	}
	return mi
}

// ModuleInstance is one VU's k6/x/sentiment.
type ModuleInstance struct {
	vu  modules.VU
	api *API

	reg      *metrics.Registry // the registry ms belongs to
	ms       metricSet
	scored   int64 // texts this VU scored: per-VU state
	negative int64
}

var _ modules.Instance = (*ModuleInstance)(nil)

// Exports implements modules.Instance: the default export is the API object; the runtime's
// field-name mapper exposes its methods as score and stats.
func (mi *ModuleInstance) Exports() modules.Exports { return modules.Exports{Default: mi.api} }

// metricSet is the extension's metrics in one registry.
type metricSet struct{ score, negative *metrics.Metric }

// metricsIn registers (or finds: Registry.NewMetric is idempotent for the same type) the
// metrics in r, caching them for the instance.
func (mi *ModuleInstance) metricsIn(r *metrics.Registry) (metricSet, error) {
	if mi.reg == r {
		return mi.ms, nil
	}
	score, err := r.NewMetric(MetricScore, metrics.Trend, metrics.Default)
	if err != nil {
		return metricSet{}, fmt.Errorf("%s: %w", ImportPath, err)
	}
	neg, err := r.NewMetric(MetricNegative, metrics.Rate, metrics.Default)
	if err != nil {
		return metricSet{}, fmt.Errorf("%s: %w", ImportPath, err)
	}
	mi.reg, mi.ms = r, metricSet{score: score, negative: neg}
	return mi.ms, nil
}

// API is the object a script imports. Its exported methods are the JavaScript functions
// (score, stats); goja converts the arguments and turns a returned error into an exception.
type API struct{ mi *ModuleInstance }

// errInit is returned when score is called in the init context, where no samples can be
// emitted (as k6's own modules refuse to measure there).
var errInit = errors.New(ImportPath + ": score() is not available in the init context; call it from the default function")

// Score scores text, records it and returns the score ∈ [-1, 1]. tags (may be nil) are added
// to the samples' tags, after the VU's own tags and the scenario and group tags
// (modules.SampleTags).
func (a *API) Score(text string, tags map[string]string) (float64, error) {
	mi := a.mi
	st := mi.vu.State()
	if st == nil {
		return 0, errInit
	}
	ms, err := mi.metricsIn(st.Registry)
	if err != nil {
		return 0, err
	}
	s := Score(text)
	mi.scored++
	neg := 0.0
	if s < 0 {
		mi.negative++
		neg = 1
	}
	ctx := mi.vu.Context()
	if st.Samples == nil || ctx.Err() != nil {
		// The iteration is being stopped: measuring now would push after the end.
		return s, nil
	}
	// The VU's tags, the scenario and group system tags (as the run's systemTags allow),
	// then the call's tags: the SDK tags a sample the way k6 tags a custom metric's.
	base := modules.SampleTags(st, tags)
	now := time.Now()
	st.Samples.Push(ctx, []metrics.Sample{
		{Metric: ms.score, Tags: base.With("polarity", Polarity(s)), Time: now, Value: s},
		{Metric: ms.negative, Tags: base, Time: now, Value: neg},
	})
	return s, nil
}

// Stats are a VU's own totals, returned by stats().
type Stats struct {
	Scored   int64 // texts scored
	Negative int64 // of which with a negative score
}

// Stats returns this VU's totals: instances are per VU, so every VU counts its own.
func (a *API) Stats() Stats { return Stats{Scored: a.mi.scored, Negative: a.mi.negative} }

// Polarity names the sign of a score: "positive", "negative" or "neutral".
func Polarity(score float64) string {
	switch {
	case score > 0:
		return "positive"
	case score < 0:
		return "negative"
	}
	return "neutral"
}

// Word lists of the toy scorer (lower case).
var (
	positiveWords = wordSet("thank thanks glad happy hope hopeful support supported help helpful safe safety " +
		"trust care caring listen understand understandable calm better good great well welcome matters " +
		"together comfort kind")
	negativeWords = wordSet("sad hopeless worthless worried worry concerned afraid scared angry alone " +
		"overwhelming overwhelmed heavy hurt pain die danger emergency bad terrible awful anxious")
	negations = wordSet("not no never don't doesn't isn't aren't can't won't without")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Score returns text's tone ∈ [-1, 1]: (positive − negative) / (positive + negative) over the
// words of the lists, 0 when none occurs. A negation word ("not", "never", ...) flips the
// polarity of the next listed word within three words ("you are not alone" is positive).
func Score(text string) float64 {
	var pos, neg float64
	flipWithin := 0 // words left in which a listed word is negated
	for _, w := range tokens(text) {
		switch {
		case negations[w]:
			flipWithin = 3
			continue
		case positiveWords[w]:
			if flipWithin > 0 {
				neg++
			} else {
				pos++
			}
			flipWithin = 0
			continue
		case negativeWords[w]:
			if flipWithin > 0 {
				pos++
			} else {
				neg++
			}
			flipWithin = 0
			continue
		}
		if flipWithin > 0 {
			flipWithin--
		}
	}
	if pos+neg == 0 {
		return 0
	}
	return (pos - neg) / (pos + neg)
}

// tokens splits text into lower-case words of letters and apostrophes.
func tokens(text string) []string {
	lower := strings.ReplaceAll(strings.ToLower(text), "’", "'")
	return strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
}
