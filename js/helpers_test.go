package js

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

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
	cap *metricstest.Capture
	log *logCapture
}

// load writes the files, loads main and returns a harness.
func load(t *testing.T, files map[string]string, main string, env map[string]string) (*harness, error) {
	t.Helper()
	dir := writeFiles(t, files)
	h := &harness{reg: metrics.NewRegistry(), cap: &metricstest.Capture{}, log: &logCapture{}}
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
