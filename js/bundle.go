// Package js owns pixelk6's script side: it transforms ES modules and TypeScript with esbuild
// (once per file), compiles one goja program per file shared by every VU, gives each VU its
// own goja runtime with a small event loop, the k6 globals (__ENV, __VU, __ITER, console,
// open, timers, performance) and a CommonJS require that resolves local files relative to
// the importing file and built-in or extension modules through js/modules. Runner runs a
// Bundle for the engine: it implements engine.Runner and builds each VU's modules.State
// from the engine's goja-free engine.VUSpec.
package js

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/execution"
	"github.com/pixelk6/pixelk6/metrics"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Env is the contents of __ENV (the CLI builds it from the process environment and -e).
	Env map[string]string
	// Logger receives console output of the init contexts (and of VUs whose State has no
	// Logger). nil discards.
	Logger modules.Logger
	// ReadFile reads scripts and open()ed files by absolute path; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Remote fetches a remote module by its https URL, once per run; nil means
	// FetchRemote(nil). An archive's runner serves the modules the archive carries.
	Remote func(ctx context.Context, url string) ([]byte, error)
	// Secrets are the run's secret sources (k6/secrets); nil for none.
	Secrets modules.Secrets
	// CWD resolves a relative script path; "" means the process working directory.
	CWD string
	// Registry receives custom metrics defined while probing the script's init context;
	// nil uses a throwaway registry.
	Registry *metrics.Registry
}

// InitError is a script that failed to load or threw in its init context (k6 exit code
// 107). Its message names the user's file:line:col.
type InitError struct{ Err error }

func (e *InitError) Error() string { return "script error: " + e.Err.Error() }
func (e *InitError) Unwrap() error { return e.Err }

// ScriptException is an uncaught JavaScript exception (or a rejected promise) in setup, an
// iteration, teardown or handleSummary. Message is JavaScript's "Error: msg" text and Stack
// has the user's file:line:col frames.
type ScriptException struct {
	Message string
	Stack   string
}

func (e *ScriptException) Error() string {
	if e.Stack == "" {
		return e.Message
	}
	return e.Message + "\n" + e.Stack
}

// AbortError is returned (wrapped or not) by RunIteration, Setup and Teardown when the
// script called test.abort([reason]) from k6/execution (k6 exit code 108).
type AbortError = execution.AbortError

// Bundle is a loaded script: its compiled programs and what its first init context exported.
type Bundle struct {
	path     string // absolute path of the main script
	opts     LoadOptions
	comp     *compiler
	start    time.Time
	options  json.RawMessage
	exported map[string]bool // exported names whose value is a function
	run      *modules.Run    // the modules' per-run resources; Close ends it
}

// Load reads and compiles the script at path and runs its init context once (a probe VU) to
// read `options` and the exported functions. Any failure is an *InitError.
func Load(ctx context.Context, path string, opts LoadOptions) (*Bundle, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	if opts.Registry == nil {
		opts.Registry = metrics.NewRegistry()
	}
	abs := path
	if !filepath.IsAbs(abs) {
		cwd := opts.CWD
		if cwd == "" {
			var err error
			if cwd, err = os.Getwd(); err != nil {
				return nil, &InitError{fmt.Errorf("resolving %q: %w", path, err)}
			}
		}
		abs = filepath.Join(cwd, path)
	}
	b := &Bundle{path: abs, opts: opts, comp: newCompiler(opts.ReadFile, opts.Remote), start: time.Now(), exported: map[string]bool{}, run: modules.NewRun()}
	if _, err := b.comp.load(ctx, abs); err != nil {
		return nil, &InitError{err}
	}
	reg := opts.Registry
	probe, err := b.newVU(ctx, &modules.State{Registry: reg, Builtin: metrics.RegisterBuiltin(reg), Logger: opts.Logger})
	if err != nil {
		_ = b.run.Close()
		return nil, err
	}
	defer probe.Close()
	for _, k := range probe.exports.Keys() {
		if _, ok := goFunc(probe.exports.Get(k)); ok {
			b.exported[k] = true
		}
	}
	if o := probe.exports.Get("options"); o != nil && !isNullish(o) {
		raw, err := probe.stringify(o)
		if err != nil {
			_ = b.run.Close()
			return nil, &InitError{fmt.Errorf("exported options: %w", err)}
		}
		b.options = raw
	}
	return b, nil
}

// Close ends the test run: it releases what the modules keep for the run (modules.Run), such
// as extension clients with goroutines of their own. Call it once the run, handleSummary
// included, is over; no VU of the bundle may run afterwards.
func (b *Bundle) Close() error { return b.run.Close() }

// Path returns the absolute path of the main script.
func (b *Bundle) Path() string { return b.path }

// Options returns the script's exported `options` object as JSON (as evaluated by the
// probe VU's init context), or nil when the script exports none.
func (b *Bundle) Options() json.RawMessage { return b.options }

// HasExport reports whether the script exports a function called name.
func (b *Bundle) HasExport(name string) bool { return b.exported[name] }

// Exports returns the names of the exported functions, sorted.
func (b *Bundle) Exports() []string {
	out := make([]string, 0, len(b.exported))
	for k := range b.exported {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewVU creates VU number state.VUID and runs its init context. The caller fills state
// (Registry, Builtin, Samples, Logger, Options, Tags, VUID); the bundle fills what is left
// nil (Bytes, Logger, Tags, Registry, Builtin, Samples, HTTPClient).
func (b *Bundle) NewVU(ctx context.Context, state *modules.State) (VU, error) {
	v, err := b.newVU(ctx, state)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Setup runs setup() if exported and returns its result as JSON (nil if not exported or
// it returned undefined).
func (b *Bundle) Setup(ctx context.Context, state *modules.State) (json.RawMessage, error) {
	if !b.exported["setup"] {
		return nil, nil
	}
	v, err := b.newVU(ctx, state)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	var out json.RawMessage
	if err := v.runFunc(ctx, "setup", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Teardown runs teardown(data) if exported.
func (b *Bundle) Teardown(ctx context.Context, state *modules.State, data json.RawMessage) error {
	if !b.exported["teardown"] {
		return nil
	}
	v, err := b.newVU(ctx, state)
	if err != nil {
		return err
	}
	defer v.Close()
	return v.runFunc(ctx, "teardown", data, nil)
}

// HandleSummary calls handleSummary(data) when exported, with data in k6's shape, and
// returns its result: output name ("stdout", "stderr" or a file path) → content. ok is
// false when the script exports no handleSummary.
func (b *Bundle) HandleSummary(ctx context.Context, state *modules.State, data json.RawMessage) (map[string]string, bool, error) {
	if !b.exported["handleSummary"] {
		return nil, false, nil
	}
	v, err := b.newVU(ctx, state)
	if err != nil {
		return nil, true, err
	}
	defer v.Close()
	out, err := v.handleSummary(ctx, data)
	return out, true, err
}

// IsAbort reports whether err carries a test.abort() from the script.
func IsAbort(err error) bool {
	var a *AbortError
	return errors.As(err, &a)
}
