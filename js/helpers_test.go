package js

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// capture is a metrics.Pusher that records every batch.
type capture struct {
	mu      sync.Mutex
	batches [][]metrics.Sample
}

func (c *capture) Push(_ context.Context, s []metrics.Sample) {
	c.mu.Lock()
	c.batches = append(c.batches, append([]metrics.Sample(nil), s...))
	c.mu.Unlock()
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

// byMetric returns the samples of one metric.
func (c *capture) byMetric(name string) []metrics.Sample {
	var out []metrics.Sample
	for _, s := range c.samples() {
		if s.Metric.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// names returns the metric names in emission order, deduplicated.
func (c *capture) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range c.samples() {
		if !seen[s.Metric.Name] {
			seen[s.Metric.Name] = true
			out = append(out, s.Metric.Name)
		}
	}
	return out
}

func tagKeys(ts metrics.TagSet) string {
	var keys []string
	ts.Each(func(k, _ string) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// logCapture is a modules.Logger that records lines as "level: msg".
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) Log(level, msg string) {
	l.mu.Lock()
	l.lines = append(l.lines, level+": "+msg)
	l.mu.Unlock()
}

func (l *logCapture) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// writeFiles writes name → content under a temp dir and returns the dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type harness struct {
	b   *Bundle
	reg *metrics.Registry
	cap *capture
	log *logCapture
}

// load writes the files, loads main and returns a harness.
func load(t *testing.T, files map[string]string, main string, env map[string]string) (*harness, error) {
	t.Helper()
	dir := writeFiles(t, files)
	h := &harness{reg: metrics.NewRegistry(), cap: &capture{}, log: &logCapture{}}
	b, err := Load(context.Background(), filepath.Join(dir, main), LoadOptions{Env: env, Logger: h.log, Registry: h.reg})
	h.b = b
	return h, err
}

func mustLoad(t *testing.T, src string) *harness {
	t.Helper()
	h, err := load(t, map[string]string{"script.js": src}, "script.js", nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return h
}

func (h *harness) state(id uint64) *modules.State {
	return &modules.State{
		VUID: id, Scenario: "default", Tags: modules.NewTagMap(nil),
		Registry: h.reg, Samples: h.cap, Logger: h.log,
	}
}

func (h *harness) vu(t *testing.T, id uint64) VU {
	t.Helper()
	v, err := h.b.NewVU(context.Background(), h.state(id))
	if err != nil {
		t.Fatalf("NewVU: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}
