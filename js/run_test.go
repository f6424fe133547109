package js

import (
	"context"
	"errors"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
)

// runProbe records the test run its VUs see, in the init context and in iterations.
type runProbe struct{ runs chan *modules.Run }

type runProbeInstance struct {
	vu   modules.VU
	runs chan *modules.Run
}

func (p runProbe) NewModuleInstance(vu modules.VU) modules.Instance {
	if env := vu.InitEnv(); env != nil {
		p.runs <- env.Run
	}
	return &runProbeInstance{vu: vu, runs: p.runs}
}

func (m *runProbeInstance) Exports() modules.Exports {
	named := map[string]any{"touch": func() { m.runs <- m.vu.State().Run }}
	return modules.Exports{Named: named}
}

var runProbeRuns = make(chan *modules.Run, 64)

func init() { modules.Register("k6/x/jstestrun", runProbe{runs: runProbeRuns}) }

type closeFlag struct{ closed *bool }

func (c closeFlag) Close() error { *c.closed = true; return nil }

// TestBundleRun: every VU of a bundle (probe, iterations) sees the same modules.Run, another
// bundle another one, and Close ends it, closing what modules kept there.
func TestBundleRun(t *testing.T) {
	src := `import { touch } from 'k6/x/jstestrun';
export default function () { touch(); }`
	h := mustLoad(t, src)
	probeRun := <-runProbeRuns
	if err := h.vu(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	initRun, iterRun := <-runProbeRuns, <-runProbeRuns
	if probeRun == nil || probeRun != initRun || initRun != iterRun {
		t.Fatalf("runs: probe %p, VU init %p, iteration %p; want one non-nil run", probeRun, initRun, iterRun)
	}
	other := mustLoad(t, src)
	if otherRun := <-runProbeRuns; otherRun == probeRun {
		t.Fatal("two bundles share a run")
	}
	closed := false
	if _, err := probeRun.Value("k", func() (any, error) { return closeFlag{&closed}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := h.b.Close(); err != nil || !closed {
		t.Fatalf("Close = %v, closed the run's value: %v", err, closed)
	}
	if _, err := probeRun.Value("k2", func() (any, error) { return 1, nil }); !errors.Is(err, modules.ErrRunEnded) {
		t.Errorf("the run is still open after Close: %v", err)
	}
	_ = other.b.Close()
}
