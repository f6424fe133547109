package modules

import (
	"testing"

	"github.com/pixelk6/pixelk6/metrics"
)

func TestSampleTags(t *testing.T) {
	tests := []struct {
		name       string
		vuTags     map[string]string
		scenario   string
		group      string
		systemTags []string
		custom     map[string]string
		want       string
	}{
		{name: "default system tags", vuTags: map[string]string{"suite": "a"}, scenario: "default", group: "::g",
			want: "group=::g,scenario=default,suite=a"},
		{name: "top-level group is an empty tag", scenario: "s", want: "group=,scenario=s"},
		{name: "no scenario, no scenario tag", group: "::g", want: "group=::g"},
		{name: "custom tags override", vuTags: map[string]string{"suite": "a"}, scenario: "s",
			custom: map[string]string{"suite": "b", "flow": "x"}, want: "flow=x,group=,scenario=s,suite=b"},
		{name: "systemTags without scenario and group", vuTags: map[string]string{"suite": "a"}, scenario: "s", group: "::g",
			systemTags: []string{"url", "status"}, want: "suite=a"},
		{name: "systemTags with group only", scenario: "s", group: "::g",
			systemTags: []string{"group"}, want: "group=::g"},
		{name: "VU and custom tags are never filtered", vuTags: map[string]string{"name": "n"}, scenario: "s",
			systemTags: []string{}, custom: map[string]string{"url": "u"}, want: "name=n,url=u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &State{Tags: NewTagMap(tt.vuTags), Scenario: tt.scenario, Group: tt.group}
			st.Options.SystemTags = tt.systemTags
			if got := tagString(SampleTags(st, tt.custom)); got != tt.want {
				t.Errorf("SampleTags = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSampleTagsNilTagMap(t *testing.T) {
	if got := tagString(SampleTags(&State{Scenario: "s"}, nil)); got != "group=,scenario=s" {
		t.Errorf("SampleTags with no TagMap = %s", got)
	}
}

func TestSystemTagEnabled(t *testing.T) {
	tests := []struct {
		name       string
		systemTags []string
		tag        string
		want       bool
	}{
		{"default set has url", nil, "url", true},
		{"default set has expected_response", nil, "expected_response", true},
		{"default set lacks vu", nil, "vu", false},
		{"default set lacks iter", nil, "iter", false},
		{"listed", []string{"vu", "url"}, "vu", true},
		{"not listed", []string{"url"}, "status", false},
		{"empty list disables every system tag", []string{}, "url", false},
		{"a module's own tag is always on", []string{}, "risk_level", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &State{Options: Options{SystemTags: tt.systemTags}}
			if got := SystemTagEnabled(st, tt.tag); got != tt.want {
				t.Errorf("SystemTagEnabled(%v, %q) = %v, want %v", tt.systemTags, tt.tag, got, tt.want)
			}
		})
	}
}

func TestWithSystemTag(t *testing.T) {
	base := metrics.TagsFromPairs("a", "1")
	on := &State{}
	off := &State{Options: Options{SystemTags: []string{"status"}}}
	if got := tagString(WithSystemTag(on, base, "url", "u")); got != "a=1,url=u" {
		t.Errorf("enabled: %s", got)
	}
	if got := tagString(WithSystemTag(off, base, "url", "u")); got != "a=1" {
		t.Errorf("disabled: %s", got)
	}
	if !IsSystemTag("ocsp_status") || IsSystemTag("flow") {
		t.Error("IsSystemTag misclassifies")
	}
}

func tagString(ts metrics.TagSet) string {
	s := ""
	for i, tg := range ts.Tags() {
		if i > 0 {
			s += ","
		}
		s += tg.Key + "=" + tg.Value
	}
	return s
}
