package analyzer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pixelk6/pixelk6/metrics"
)

// LoadCriteria reads a criteria file: k6's thresholds object in YAML (or JSON, which is
// YAML), either at the top level or under a "thresholds" key:
//
//	thresholds:
//	  http_req_duration: ["p(95)<500", "p(99)<1000"]
//	  "http_req_duration{name:infer}": ["p(95)<300"]
//	  http_req_failed:
//	    - threshold: rate<0.01
//	      abortOnFail: true
func LoadCriteria(path string) ([]metrics.MetricThresholds, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("criteria file: %w", err)
	}
	mts, err := ParseCriteria(b)
	if err != nil {
		return nil, fmt.Errorf("criteria file %q: %w", path, err)
	}
	return mts, nil
}

// ParseCriteria parses the contents of a criteria file (see LoadCriteria).
func ParseCriteria(b []byte) ([]metrics.MetricThresholds, error) {
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("empty: expected a thresholds object")
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an object of metric keys, found %T", doc)
	}
	if inner, ok := top["thresholds"]; ok && len(top) == 1 {
		if m, ok := inner.(map[string]any); ok {
			top = m
		} else {
			return nil, fmt.Errorf("\"thresholds\" must be an object of metric keys, found %T", inner)
		}
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("no thresholds")
	}
	raw, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("cannot convert to JSON: %w", err)
	}
	return metrics.ParseThresholdsJSON(raw)
}

// Profiles are the user guide's success criteria (DESIGN.md).
var profiles = map[string]string{
	"rest": `{
		"http_req_duration": ["p(50)<200", "p(95)<500", "p(99)<1000"],
		"http_req_failed": ["rate<0.01"],
		"http_reqs": ["rate>100"]
	}`,
	"websocket": `{
		"chunk_latency": ["p(50)<50", "p(95)<200"],
		"message_latency": ["p(50)<100", "p(95)<500"],
		"ws_connection_failed": ["rate<0.05"],
		"vus": ["max>=500"]
	}`,
}

// ProfileNames lists the built-in profiles.
func ProfileNames() []string { return sortedKeys(profiles) }

// Profile returns the thresholds of a built-in profile ("rest" or "websocket").
func Profile(name string) ([]metrics.MetricThresholds, error) {
	p, ok := profiles[name]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (want %s)", name, strings.Join(ProfileNames(), " or "))
	}
	return metrics.ParseThresholdsJSON(json.RawMessage(bytes.TrimSpace([]byte(p))))
}
