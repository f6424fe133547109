package modulestest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/modulestest"
	"github.com/pixelk6/pixelk6/metrics"
)

// echo is a tiny module: later(v) resolves v from another goroutine; emit(n) pushes a
// counter sample; inInit() reports whether it runs in the init context.
type echo struct{}

type echoInstance struct {
	vu     modules.VU
	inited bool
}

func (echo) NewModuleInstance(vu modules.VU) modules.Instance {
	return &echoInstance{vu: vu, inited: vu.InitEnv() != nil}
}

func (e *echoInstance) Exports() modules.Exports {
	return modules.Exports{Named: map[string]any{
		"later": func(v goja.Value) *goja.Promise {
			rt := e.vu.Runtime()
			p, resolve, _ := rt.NewPromise()
			enqueue := e.vu.RegisterCallback()
			x := v.Export()
			go func() {
				time.Sleep(time.Millisecond)
				enqueue(func() error { return resolve(x) })
			}()
			return p
		},
		"fail": func() {
			enqueue := e.vu.RegisterCallback()
			go enqueue(func() error { return errors.New("callback failed") })
		},
		"emit": func(n float64) error {
			st := e.vu.State()
			if st == nil {
				return errors.New("emit: init context")
			}
			m, err := st.Registry.NewMetric("echoes", metrics.Counter, metrics.Default)
			if err != nil {
				return err
			}
			st.Samples.Push(e.vu.Context(), []metrics.Sample{{Metric: m, Tags: modules.SampleTags(st, nil), Time: time.Now(), Value: n}})
			return nil
		},
		"inInit":    func() bool { return e.vu.InitEnv() != nil },
		"log":       func(s string) { e.vu.State().Logger.Log("info", s) },
		"hasRun":    func() bool { return e.vu.State().Run != nil },
		"createdIn": func() bool { return e.inited },
	}}
}

func TestRuntime(t *testing.T) {
	rt := modulestest.New(t)
	rt.Instantiate(echo{}, "echo")
	if !rt.MustRunString(`echo.inInit()`).ToBoolean() {
		t.Fatal("New's VU is not in the init context")
	}
	if _, err := rt.RunString(`echo.emit(1)`); err == nil || !strings.Contains(err.Error(), "init context") {
		t.Fatalf("emit in init: %v", err)
	}
	rt.MoveToVUContext()
	rt.State.Group = "::g"
	rt.State.Tags.Set("suite", "x")

	// The loop waits for the promise's callback from another goroutine.
	v := rt.MustRunString(`var got; echo.later(41).then(function (x) { got = x + 1; echo.emit(got); }); "sync"`)
	if v.String() != "sync" {
		t.Errorf("completion value %v", v)
	}
	if got := rt.MustRunString(`got`).ToInteger(); got != 42 {
		t.Fatalf("promise result %d, want 42 (the loop must have run the callback)", got)
	}
	s := rt.Samples.Metric("echoes")
	if len(s) != 1 || s[0].Value != 42 || s[0].Tags.String() != metrics.TagsFromPairs("group", "::g", "scenario", "default", "suite", "x").String() {
		t.Fatalf("samples %+v", s)
	}
	if _, err := rt.RunString(`echo.fail()`); err == nil || !strings.Contains(err.Error(), "callback failed") {
		t.Errorf("a callback's error: %v", err)
	}
	rt.MustRunString(`echo.log("hello")`)
	if l := rt.Logs.Lines(); len(l) != 1 || l[0] != "info: hello" {
		t.Errorf("logs %q", l)
	}
	if !rt.MustRunString(`echo.hasRun() && echo.createdIn()`).ToBoolean() {
		t.Error("State.Run is nil or the instance was not made in the init context")
	}
}

func TestCancelEndsThePendingLoop(t *testing.T) {
	rt := modulestest.New(t)
	mi := rt.Instantiate(echo{}, "")
	_ = mi
	rt.MoveToVUContext()
	rt.VU.RegisterCallback() // never called: only the context can end the run
	rt.Cancel()
	if _, err := rt.RunString(`1`); err == nil {
		t.Fatal("a run with a pending callback ended without error after Cancel")
	}
	if rt.VU.Context().Err() == nil {
		t.Error("Cancel did not end the VU's context")
	}
}

type closeCount struct{ n *int }

func (c closeCount) Close() error { *c.n++; return nil }

type key struct{}

func TestRunClosedAtCleanupAndByEndRun(t *testing.T) {
	var closed int
	t.Run("cleanup", func(t *testing.T) {
		rt := modulestest.New(t)
		if _, err := rt.Run.Value(key{}, func() (any, error) { return closeCount{&closed}, nil }); err != nil {
			t.Fatal(err)
		}
	})
	if closed != 1 {
		t.Fatalf("the run's closers ran %d times after the test, want 1", closed)
	}
	rt := modulestest.New(t)
	if _, err := rt.Run.Value(key{}, func() (any, error) { return closeCount{&closed}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := rt.EndRun(); err != nil || closed != 2 {
		t.Fatalf("EndRun = %v, closed %d", err, closed)
	}
}

func TestImport(t *testing.T) {
	if _, ok := modules.Lookup("k6/x/modulestest-echo"); !ok { // -count > 1 reruns it
		modules.Register("k6/x/modulestest-echo", echo{})
	}
	rt := modulestest.New(t)
	rt.Import("k6/x/modulestest-echo", "e")
	if !rt.MustRunString(`typeof e.later === "function"`).ToBoolean() {
		t.Fatal("Import did not bind the named exports")
	}
}

func TestGoroutines(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	started := make(chan struct{})
	go func() { defer close(done); parkedForModulestest(started, stop) }()
	<-started
	if n := modulestest.CountGoroutines("parkedForModulestest"); n != 1 {
		t.Errorf("CountGoroutines = %d with one parked goroutine, want 1", n)
	}
	if n := modulestest.WaitGoroutines("parkedForModulestest", 1); n != 1 {
		t.Errorf("WaitGoroutines(1) = %d with one parked goroutine, want 1", n)
	}
	close(stop)
	<-done
	if n := modulestest.Goroutines("parkedForModulestest"); n != 0 {
		t.Errorf("Goroutines = %d after it exited, want 0", n)
	}
}

//go:noinline
func parkedForModulestest(started, stop chan struct{}) { close(started); <-stop }

func TestCallbacksCounted(t *testing.T) {
	rt := modulestest.New(t)
	rt.Instantiate(echo{}, "echo")
	rt.MoveToVUContext()
	if n := rt.VU.Callbacks(); n != 0 {
		t.Fatalf("%d callbacks before any async call", n)
	}
	rt.MustRunString(`echo.later(1)`)
	if n := rt.VU.Callbacks(); n != 1 {
		t.Errorf("%d callbacks after one async call, want 1", n)
	}
}
