package modules

import (
	"slices"

	"github.com/pixelk6/pixelk6/metrics"
)

// systemTagNames are the tags k6 attaches itself; options.systemTags selects which of them
// samples carry. true marks k6's default set (what a run attaches when systemTags is unset).
var systemTagNames = map[string]bool{
	"proto": true, "subproto": true, "status": true, "method": true, "url": true, "name": true,
	"group": true, "check": true, "error": true, "error_code": true, "tls_version": true,
	"scenario": true, "service": true, metrics.ExpectedResponseTag: true,
	"vu": false, "iter": false, "ip": false, "ocsp_status": false,
}

// IsSystemTag reports whether name is one of k6's system tags (proto, subproto, status,
// method, url, name, group, check, error, error_code, tls_version, scenario, service,
// expected_response, vu, iter, ip, ocsp_status).
func IsSystemTag(name string) bool {
	_, ok := systemTagNames[name]
	return ok
}

// DefaultSystemTags returns k6's default set of system tags (what a run attaches when
// options.systemTags is unset), sorted.
func DefaultSystemTags() []string {
	var out []string
	for name, def := range systemTagNames {
		if def {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// SystemTagEnabled reports whether the run attaches the system tag name to samples: it is
// listed in options.systemTags (State.Options.SystemTags), or systemTags is unset (nil) and
// name is in k6's default set (every system tag but vu, iter, ip and ocsp_status). A name
// that is not a system tag is always enabled: a module's own tags are not filtered.
func SystemTagEnabled(st *State, name string) bool {
	def, system := systemTagNames[name]
	if !system {
		return true
	}
	if st.Options.SystemTags == nil {
		return def
	}
	return slices.Contains(st.Options.SystemTags, name)
}

// WithSystemTag returns ts with the system tag key=value added when the run enables it (see
// SystemTagEnabled), else ts unchanged. Modules add url, status, subproto, error and the
// like this way.
func WithSystemTag(st *State, ts metrics.TagSet, key, value string) metrics.TagSet {
	if !SystemTagEnabled(st, key) {
		return ts
	}
	return ts.With(key, value)
}

// SampleTags returns the tag set of a sample the VU emits now, the way k6 tags a custom
// metric's sample: the VU's tags (options.tags, scenario tags, vu.tags), then the scenario
// (when the VU runs one) and group system tags when the run enables them, then custom (the
// call's own tags, e.g. a `tags` option), which override. Add further system tags with
// WithSystemTag.
func SampleTags(st *State, custom map[string]string) metrics.TagSet {
	m := map[string]string{}
	if st.Tags != nil {
		m = st.Tags.Clone()
	}
	if st.Scenario != "" && SystemTagEnabled(st, "scenario") {
		m["scenario"] = st.Scenario
	}
	if SystemTagEnabled(st, "group") {
		m["group"] = st.Group
	}
	for k, v := range custom {
		m[k] = v
	}
	return metrics.NewTagSet(m)
}
