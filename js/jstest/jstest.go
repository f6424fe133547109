// Package jstest runs scripts through package js for the built-in modules' tests: a script
// in a temp dir, a capturing sample sink and logger, and VUs ready to iterate.
package jstest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// Logs is a modules.Logger recording "level: msg" lines.
type Logs struct {
	mu    sync.Mutex
	Lines []string
}

// Log implements modules.Logger.
func (l *Logs) Log(level, msg string) {
	l.mu.Lock()
	l.Lines = append(l.Lines, level+": "+msg)
	l.mu.Unlock()
}

// String returns every line.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.Lines, "\n")
}

// Harness is a loaded script with its sinks.
type Harness struct {
	Bundle   *js.Bundle
	Registry *metrics.Registry
	Samples  *metricstest.Capture
	Logs     *Logs
}

// Load writes src as script.js in a temp dir and loads it with env as __ENV.
func Load(t testing.TB, src string, env map[string]string) (*Harness, error) {
	t.Helper()
	return LoadWith(t, src, js.LoadOptions{Env: env})
}

// LoadWith is Load with more load options (secrets, remote modules, ...); the harness
// fills Logger and Registry.
func LoadWith(t testing.TB, src string, opts js.LoadOptions) (*Harness, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "script.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &Harness{Registry: metrics.NewRegistry(), Samples: &metricstest.Capture{}, Logs: &Logs{}}
	opts.Logger, opts.Registry = h.Logs, h.Registry
	b, err := js.Load(context.Background(), p, opts)
	h.Bundle = b
	return h, err
}

// MustLoad is Load that fails the test on error.
func MustLoad(t testing.TB, src string, env map[string]string) *Harness {
	t.Helper()
	h, err := Load(t, src, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return h
}

// State returns a fresh VU state wired to the harness.
func (h *Harness) State(id uint64) *modules.State {
	return &modules.State{
		VUID: id, Scenario: "default", Tags: modules.NewTagMap(nil),
		Registry: h.Registry, Builtin: metrics.RegisterBuiltin(h.Registry), Samples: h.Samples, Logger: h.Logs,
	}
}

// VU initialises VU id.
func (h *Harness) VU(t testing.TB, id uint64) js.VU {
	t.Helper()
	v, err := h.Bundle.NewVU(context.Background(), h.State(id))
	if err != nil {
		t.Fatalf("NewVU: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// Run runs one iteration of the default function on a new VU 1.
func (h *Harness) Run(t testing.TB) error {
	t.Helper()
	return h.VU(t, 1).RunIteration(context.Background(), "default", nil)
}
