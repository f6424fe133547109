package simulator

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Risk levels of a crisis label, lowest first. RiskNone means no crisis was detected.
const (
	RiskNone     = "none"
	RiskLow      = "low"
	RiskMedium   = "medium"
	RiskHigh     = "high"
	RiskImminent = "imminent"
)

// Bias categories, in the order they appear in Bias.Categories.
const (
	BiasGender        = "gender"
	BiasRace          = "race"
	BiasAge           = "age"
	BiasReligion      = "religion"
	BiasDisability    = "disability"
	BiasSocioeconomic = "socioeconomic"
)

// riskLevels indexes risk levels by severity: 0 = none … 4 = imminent.
var riskLevels = [...]string{RiskNone, RiskLow, RiskMedium, RiskHigh, RiskImminent}

// biasCategories is the canonical order of bias categories; index = bit in a bias mask.
var biasCategories = [...]string{BiasGender, BiasRace, BiasAge, BiasReligion, BiasDisability, BiasSocioeconomic}

// crisisPhrases lists the crisis phrases per severity index (1 = low … 4 = imminent).
// Read-only after package initialisation; exported as copies by CrisisPhrases.
var crisisPhrases = [len(riskLevels)][]string{
	1: {"anxious", "overwhelming", "overwhelmed", "panic attack", "can't sleep", "stressed out", "feeling down", "lonely"},
	2: {"hopeless", "worthless", "can't go on", "self-harm", "hurt myself", "cutting myself", "nobody would care"},
	3: {"suicidal", "suicide", "want to die", "kill myself", "end my life", "no reason to live"},
	4: {"going to kill myself tonight", "end my life tonight", "i have a plan to die", "taking all my pills", "this is my goodbye"},
}

// biasPhrases lists the bias phrases per category index (same order as biasCategories).
var biasPhrases = [len(biasCategories)][]string{
	{"women are too emotional", "men don't cry", "like a girl", "man up", "women can't lead"},
	{"because of your race", "go back to your country", "people like them are all", "your kind"},
	{"too old to", "ok boomer", "kids these days", "at your age"},
	{"your religion is", "nonbelievers are", "heathens", "godless people"},
	{"crazy person", "psycho", "retarded", "lame excuse"},
	{"poor people are lazy", "welfare queen", "trailer trash"},
}

// Phrase is one entry of a phrase list: Text is matched as a whole-word, case-insensitive
// substring of the input, Label is the risk level or bias category it signals.
type Phrase struct {
	Text  string
	Label string
}

// CrisisPhrases returns a copy of the crisis phrase list, lowest risk level first.
func CrisisPhrases() []Phrase {
	var out []Phrase
	for lvl := 1; lvl < len(crisisPhrases); lvl++ {
		for _, p := range crisisPhrases[lvl] {
			out = append(out, Phrase{Text: p, Label: riskLevels[lvl]})
		}
	}
	return out
}

// BiasPhrases returns a copy of the bias phrase list in category order.
func BiasPhrases() []Phrase {
	var out []Phrase
	for i, ps := range biasPhrases {
		for _, p := range ps {
			out = append(out, Phrase{Text: p, Label: biasCategories[i]})
		}
	}
	return out
}

// RiskLevels returns the risk levels from "none" to "imminent".
func RiskLevels() []string { return append([]string(nil), riskLevels[:]...) }

// BiasCategories returns the bias categories in their canonical order.
func BiasCategories() []string { return append([]string(nil), biasCategories[:]...) }

// Crisis is the crisis part of an inference result.
type Crisis struct {
	Detected bool `json:"detected"`
	// RiskLevel is one of none, low, medium, high, imminent.
	RiskLevel string `json:"risk_level"`
	// Confidence ∈ [0,1].
	Confidence float64 `json:"confidence"`
}

// Bias is the bias part of an inference result.
type Bias struct {
	Detected bool `json:"detected"`
	// Categories lists the detected categories in canonical order; empty (not null) when none.
	Categories []string `json:"categories"`
	// Score ∈ [0,1].
	Score float64 `json:"score"`
}

// verdict is the compact, allocation-free form of a label.
type verdict struct {
	risk        int    // index into riskLevels
	riskHits    int    // phrases matched at the winning level
	biasMask    uint32 // bit i = biasCategories[i]
	biasMatches int    // phrases matched over all categories
}

// Label returns the deterministic crisis and bias labels of text. The highest risk level
// with a matching phrase wins; every bias category with a matching phrase is listed.
func Label(text string) (Crisis, Bias) {
	v := judge(text)
	return v.crisis(), v.bias()
}

// phraseRef is one phrase of either list, as indexed for judge.
type phraseRef struct {
	text  string
	bias  bool // a bias phrase (else crisis)
	label int  // risk level index or bias category index
	id    uint // bit in judge's set of matched phrases
}

// phraseIndex maps the first byte of every phrase to the phrases starting with it,
// so judge scans the text once. Built once at package initialisation, read-only.
var phraseIndex = func() (idx [256][]phraseRef) {
	var id uint
	add := func(text string, bias bool, label int) {
		if id >= 64 {
			panic("simulator: more than 64 phrases; widen judge's match set")
		}
		idx[text[0]] = append(idx[text[0]], phraseRef{text, bias, label, id})
		id++
	}
	for lvl, ps := range crisisPhrases {
		for _, p := range ps {
			add(p, false, lvl)
		}
	}
	for cat, ps := range biasPhrases {
		for _, p := range ps {
			add(p, true, cat)
		}
	}
	return idx
}()

// judge labels text: a phrase matches where it starts at a word start and ends at a word
// end (see containsWord); each phrase counts once however often it occurs.
func judge(text string) verdict {
	lower := strings.ToLower(text)
	var matched uint64
	var riskHits [len(riskLevels)]int
	var v verdict
	prevWord := false
	for i, r := range lower {
		if !prevWord {
			for _, p := range phraseIndex[lower[i]] {
				if matched&(1<<p.id) != 0 || !strings.HasPrefix(lower[i:], p.text) || isWordRuneAt(lower, i+len(p.text)) {
					continue
				}
				matched |= 1 << p.id
				if p.bias {
					v.biasMask |= 1 << p.label
					v.biasMatches++
				} else {
					riskHits[p.label]++
					v.risk = max(v.risk, p.label)
				}
			}
		}
		prevWord = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	v.riskHits = riskHits[v.risk]
	return v
}

// crisisBase is the confidence of a detection at each level with a single phrase match.
var crisisBase = [len(riskLevels)]float64{0.02, 0.55, 0.7, 0.85, 0.95}

func (v verdict) crisis() Crisis {
	c := Crisis{Detected: v.risk > 0, RiskLevel: riskLevels[v.risk], Confidence: crisisBase[v.risk]}
	if v.riskHits > 1 {
		c.Confidence = round2(c.Confidence + 0.01*float64(min(v.riskHits-1, 4)))
	}
	return c
}

func (v verdict) bias() Bias {
	b := Bias{Categories: []string{}}
	if v.biasMask == 0 {
		return b
	}
	b.Detected = true
	b.Categories = make([]string, 0, 2)
	for i, c := range biasCategories {
		if v.biasMask&(1<<i) != 0 {
			b.Categories = append(b.Categories, c)
		}
	}
	b.Score = v.biasScore()
	return b
}

// biasScore is min(0.99, 0.6 + 0.1·(matches−1)), 0 without a match.
func (v verdict) biasScore() float64 {
	if v.biasMask == 0 {
		return 0
	}
	return round2(min(0.99, 0.6+0.1*float64(v.biasMatches-1)))
}

// round2 rounds to two decimals, so scores print as 0.7, not 0.7000000000000001.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// containsWord reports whether phrase occurs in s with no letter or digit directly before
// or after it. Both are expected in lower case.
func containsWord(s, phrase string) bool {
	for off := 0; off <= len(s)-len(phrase); {
		i := strings.Index(s[off:], phrase)
		if i < 0 {
			return false
		}
		start := off + i
		end := start + len(phrase)
		if !isWordRuneBefore(s, start) && !isWordRuneAt(s, end) {
			return true
		}
		off = start + 1
	}
	return false
}

func isWordRuneBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isWordRuneAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
