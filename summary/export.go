package summary

import (
	"encoding/json"
	"fmt"
	"io"
)

// exportGroup is a group in k6's --summary-export layout: subgroups and checks are objects
// keyed by name.
type exportGroup struct {
	Name   string                  `json:"name"`
	Path   string                  `json:"path"`
	ID     string                  `json:"id"`
	Groups map[string]*exportGroup `json:"groups"`
	Checks map[string]*Check       `json:"checks"`
}

func toExportGroup(g *Group) *exportGroup {
	if g == nil {
		g = NewRootGroup()
	}
	e := &exportGroup{Name: g.Name, Path: g.Path, ID: g.ID,
		Groups: make(map[string]*exportGroup, len(g.Groups)),
		Checks: make(map[string]*Check, len(g.Checks))}
	for _, c := range g.Groups {
		e.Groups[c.Name] = toExportGroup(c)
	}
	for _, c := range g.Checks {
		e.Checks[c.Name] = c
	}
	return e
}

// exportMetric returns a metric in k6's --summary-export layout: the values flat in the
// metric's object (a rate's "rate" is called "value"), and thresholds as
// {"<source>": <crossed>} — true means the threshold FAILED.
func exportMetric(m *Metric) map[string]any {
	out := make(map[string]any, len(m.Values)+1)
	for k, v := range m.Values {
		if m.Type == "rate" && k == "rate" {
			k = "value"
		}
		out[k] = v
	}
	if len(m.Thresholds) > 0 {
		th := make(map[string]bool, len(m.Thresholds))
		for _, t := range m.Thresholds {
			th[t.Source] = !t.OK
		}
		out["thresholds"] = th
	}
	return out
}

// Export writes d in k6's --summary-export format:
//
//	{"root_group": {name, path, id, groups: {name: group}, checks: {name: check}},
//	 "metrics": {name: {flat values..., "thresholds": {"expr": failed}}}}
//
// indented with four spaces, keys sorted.
func Export(w io.Writer, d *Data) error {
	ms := make(map[string]map[string]any, len(d.Metrics))
	for k, m := range d.Metrics {
		ms[k] = exportMetric(m)
	}
	doc := struct {
		RootGroup *exportGroup              `json:"root_group"`
		Metrics   map[string]map[string]any `json:"metrics"`
		SetupData json.RawMessage           `json:"setup_data,omitempty"`
	}{toExportGroup(d.RootGroup), ms, d.SetupData}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("summary export: %w", err)
	}
	return nil
}
