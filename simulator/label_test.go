package simulator

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLabel(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		crisis Crisis
		bias   Bias
	}{
		{"empty", "", Crisis{false, RiskNone, 0.02}, Bias{false, []string{}, 0}},
		{"neutral", "Can you help me understand my thoughts?", Crisis{false, RiskNone, 0.02}, Bias{false, []string{}, 0}},
		{"low from rest.js", "I have been feeling really anxious lately", Crisis{true, RiskLow, 0.55}, Bias{false, []string{}, 0}},
		{"low case-insensitive", "Everything feels OVERWHELMING today", Crisis{true, RiskLow, 0.55}, Bias{false, []string{}, 0}},
		{"medium", "I feel hopeless", Crisis{true, RiskMedium, 0.7}, Bias{false, []string{}, 0}},
		{"medium two phrases", "hopeless and worthless", Crisis{true, RiskMedium, 0.71}, Bias{false, []string{}, 0}},
		{"high beats low", "anxious and suicidal", Crisis{true, RiskHigh, 0.85}, Bias{false, []string{}, 0}},
		{"imminent beats high", "I am going to kill myself tonight", Crisis{true, RiskImminent, 0.95}, Bias{false, []string{}, 0}},
		{"whole words only", "my psychologist said the suicidenet forum is gone", Crisis{false, RiskNone, 0.02}, Bias{false, []string{}, 0}},
		{"punctuation is a boundary", "suicide.", Crisis{true, RiskHigh, 0.85}, Bias{false, []string{}, 0}},
		{"bias one category", "ok boomer", Crisis{false, RiskNone, 0.02}, Bias{true, []string{BiasAge}, 0.6}},
		{"bias canonical order", "Welfare queen, man up!", Crisis{false, RiskNone, 0.02}, Bias{true, []string{BiasGender, BiasSocioeconomic}, 0.7}},
		{"crisis and bias", "Trailer trash like me should just end my life", Crisis{true, RiskHigh, 0.85}, Bias{true, []string{BiasSocioeconomic}, 0.6}},
		{"unicode around phrase", "éanxious", Crisis{false, RiskNone, 0.02}, Bias{false, []string{}, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := judge(tt.text), judgeByIndex(tt.text); got != want {
				t.Errorf("judge = %+v, reference = %+v", got, want)
			}
			c, b := Label(tt.text)
			if diff := cmp.Diff(tt.crisis, c); diff != "" {
				t.Errorf("crisis (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.bias, b); diff != "" {
				t.Errorf("bias (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPhrasesSelfLabel checks that every listed phrase, alone, gets its own label.
func TestPhrasesSelfLabel(t *testing.T) {
	for _, p := range CrisisPhrases() {
		if c, _ := Label(strings.ToUpper(p.Text)); c.RiskLevel != p.Label {
			t.Errorf("crisis phrase %q: risk level %q, want %q", p.Text, c.RiskLevel, p.Label)
		}
	}
	for _, p := range BiasPhrases() {
		if _, b := Label("x " + p.Text + " x"); !slices.Contains(b.Categories, p.Label) {
			t.Errorf("bias phrase %q: categories %v, want %q", p.Text, b.Categories, p.Label)
		}
	}
}

// TestDocListsPhrases keeps the package documentation and the phrase lists in step.
func TestDocListsPhrases(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		f := strings.Fields(strings.TrimPrefix(l, "//"))
		if len(f) > 1 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	check := func(kind string, labels []string, phrases []Phrase) {
		for _, label := range labels {
			var want []string
			for _, p := range phrases {
				if p.Label == label {
					want = append(want, p.Text)
				}
			}
			if got := lines[label]; got != strings.Join(want, ", ") {
				t.Errorf("doc.go %s line %q = %q, want %q", kind, label, got, strings.Join(want, ", "))
			}
		}
	}
	check("crisis", RiskLevels()[1:], CrisisPhrases())
	check("bias", BiasCategories(), BiasPhrases())
}

func FuzzLabel(f *testing.F) {
	f.Add("I want to die")
	f.Add("ok BOOMER \xff suicide")
	f.Fuzz(func(t *testing.T, s string) {
		c, b := Label(s)
		if !slices.Contains(RiskLevels(), c.RiskLevel) || c.Detected != (c.RiskLevel != RiskNone) {
			t.Fatalf("Label(%q) crisis = %+v", s, c)
		}
		if b.Detected != (len(b.Categories) > 0) || b.Score < 0 || b.Score > 1 {
			t.Fatalf("Label(%q) bias = %+v", s, b)
		}
		if got, want := judge(s), judgeByIndex(s); got != want {
			t.Fatalf("judge(%q) = %+v, the reference gives %+v", s, got, want)
		}
		c2, b2 := Label(strings.ToLower(s))
		if c2 != c || !slices.Equal(b.Categories, b2.Categories) {
			t.Fatalf("Label(%q) = %+v %+v but Label(lower) = %+v %+v", s, c, b, c2, b2)
		}
	})
}

// judgeByIndex is the plain reference implementation of judge: one containsWord search
// per phrase.
func judgeByIndex(text string) verdict {
	lower := strings.ToLower(text)
	var v verdict
	for lvl := len(crisisPhrases) - 1; lvl >= 1 && v.risk == 0; lvl-- {
		for _, p := range crisisPhrases[lvl] {
			if containsWord(lower, p) {
				v.risk = lvl
				v.riskHits++
			}
		}
	}
	for i, ps := range biasPhrases {
		for _, p := range ps {
			if containsWord(lower, p) {
				v.biasMask |= 1 << i
				v.biasMatches++
			}
		}
	}
	return v
}
