package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/summary"
)

// endOfTest is what the end-of-test summary needs besides the engine's result.
type endOfTest struct {
	rc        *runConfig
	script    script
	stdout    io.Writer
	stderr    io.Writer
	stdoutTTY bool
	stderrTTY bool
	// cwd resolves handleSummary's and --summary-export's relative paths; "" is the
	// working directory.
	cwd string
}

// summary builds the summary data and writes handleSummary's outputs or the text
// summary, and --summary-export. A file it cannot write is a *writeError in the result
// (see isWriteError); a handleSummary exception is not.
func (e *endOfTest) summary(ctx context.Context, res *engine.Result) error {
	d := e.data(res)
	var errs []error
	handled := false
	// As in k6, --no-summary (--summary-mode=disabled) also skips handleSummary; the
	// --summary-export file is still written.
	if e.rc.Summary && e.script.HasExport("handleSummary") {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("encoding the summary data: %w", err)
		}
		raw := json.RawMessage(bytes.TrimSpace(buf.Bytes()))
		tags := make(map[string]string, len(e.rc.Test.Tags))
		for k, v := range e.rc.Test.Tags {
			tags[k] = v
		}
		spec := engine.VUSpec{Tags: tags, Samples: metrics.PusherFunc(func(context.Context, []metrics.Sample) {})}
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.rc.HandleSummaryTimeout)
		out, ok, err := e.script.HandleSummary(hctx, spec, raw)
		cancel()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("handleSummary: %w", err))
		case ok:
			handled = true
			if err := e.writeSummaryOutputs(out); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !handled && e.rc.Summary {
		if _, err := io.WriteString(e.stdout, "\n\n"); err != nil {
			errs = append(errs, err)
		}
		if err := summary.Text(e.stdout, d, summary.TextOptions{Mode: e.rc.SummaryMode, NoColor: e.rc.NoColor || !e.stdoutTTY}); err != nil {
			errs = append(errs, fmt.Errorf("writing the summary: %w", err))
		}
		if _, err := io.WriteString(e.stdout, "\n\n\n"); err != nil {
			errs = append(errs, err)
		}
	}
	if e.rc.SummaryExport != "" {
		if err := writeFile(e.path(e.rc.SummaryExport), func(w io.Writer) error { return summary.Export(w, d) }); err != nil {
			errs = append(errs, fmt.Errorf("--summary-export: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (e *endOfTest) path(p string) string {
	if filepath.IsAbs(p) || e.cwd == "" {
		return p
	}
	return filepath.Join(e.cwd, p)
}

// writeSummaryOutputs writes handleSummary's result: "stdout", "stderr" or a file path.
func (e *endOfTest) writeSummaryOutputs(out map[string]string) error {
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		var err error
		switch name {
		case "stdout":
			_, err = io.WriteString(e.stdout, out[name])
		case "stderr":
			_, err = io.WriteString(e.stderr, out[name])
		default:
			err = writeFile(e.path(name), func(w io.Writer) error { _, e := io.WriteString(w, out[name]); return e })
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("handleSummary output %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// writeError is a summary file (--summary-export or a handleSummary output) that could not
// be written: the run then exits 255 (engine.ExitGeneric) instead of 0.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// isWriteError reports whether err (or one error it joins or wraps) is a writeError.
func isWriteError(err error) bool {
	var we *writeError
	return errors.As(err, &we)
}

// writeFile creates path (and its directory) and writes it; any failure, the final close
// included, is a *writeError.
func writeFile(path string, write func(io.Writer) error) error {
	if err := createAndWrite(path, write); err != nil {
		return &writeError{err}
	}
	return nil
}

func createAndWrite(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// data builds k6's handleSummary data from the run's result.
func (e *endOfTest) data(res *engine.Result) *summary.Data {
	stats := e.rc.TrendStats
	elapsed := res.Elapsed
	d := &summary.Data{
		Options: summary.Options{SummaryTrendStats: stats, NoColor: e.rc.NoColor},
		State: summary.State{IsStdOutTTY: e.stdoutTTY, IsStdErrTTY: e.stderrTTY,
			TestRunDurationMs: float64(elapsed) / float64(time.Millisecond)},
		Metrics:   map[string]*summary.Metric{},
		RootGroup: summary.NewRootGroup(),
		SetupData: res.SetupData,
	}
	if u := e.rc.Options.SummaryTimeUnit; u != nil {
		d.Options.SummaryTimeUnit = *u
	}
	for _, mr := range res.Metrics {
		sink := mr.Sink
		if (sink == nil || sink.IsEmpty()) && mr.Thresholds == nil {
			continue
		}
		if sink == nil {
			sink = metrics.NewSink(mr.Metric.Type)
		}
		sm := summary.NewMetric(mr.Metric.Type, mr.Metric.Contains, sink.Values(elapsed, stats))
		for _, t := range mr.Thresholds {
			sm.Thresholds = append(sm.Thresholds, summary.Threshold{
				Source: t.Source, OK: t.OK, Agg: t.Agg, Observed: nanToZero(t.Observed),
			})
		}
		d.Metrics[mr.Key] = sm
	}
	for _, c := range res.Checks {
		g := d.RootGroup
		for _, name := range splitGroupPath(c.Group) {
			g = g.Group(name)
		}
		ch := g.Check(c.Name)
		ch.Passes += c.Passes
		ch.Fails += c.Fails
	}
	if e.rc.Summary && e.rc.SummaryMode == summary.Full {
		d.Scenarios = scenarioSummaries(res, stats)
	}
	return d
}

// scenarioSummaries builds the per-scenario and per-group parts of the full summary,
// scenarios sorted by name.
func scenarioSummaries(res *engine.Result, stats []string) []*summary.Scenario {
	byName := map[string]*summary.Scenario{}
	get := func(name string) *summary.Scenario {
		sc := byName[name]
		if sc == nil {
			sc = &summary.Scenario{Name: name, Metrics: map[string]*summary.Metric{}, RootGroup: summary.NewRootGroup()}
			byName[name] = sc
		}
		return sc
	}
	for _, name := range res.Scenarios {
		get(name)
	}
	// res.Scoped lists groups in path order, so that parents are created before children.
	for _, s := range res.Scoped {
		sm := summary.NewMetric(s.Metric.Type, s.Metric.Contains, s.Sink.Values(res.Elapsed, stats))
		sc := get(s.Scenario)
		if s.AllGroups {
			sc.Metrics[s.Metric.Name] = sm
			continue
		}
		g := sc.RootGroup
		for _, name := range splitGroupPath(s.Group) {
			g = g.Group(name)
		}
		if g.Metrics == nil {
			g.Metrics = map[string]*summary.Metric{}
		}
		g.Metrics[s.Metric.Name] = sm
	}
	for _, c := range res.Checks {
		if c.Scenario == "" {
			continue
		}
		g := get(c.Scenario).RootGroup
		for _, name := range splitGroupPath(c.Group) {
			g = g.Group(name)
		}
		ch := g.Check(c.Name)
		ch.Passes += c.Passes
		ch.Fails += c.Fails
	}
	out := make([]*summary.Scenario, 0, len(byName))
	for _, sc := range byName {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// splitGroupPath splits "::a::b" into ["a", "b"] ("" → none).
func splitGroupPath(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(path, "::"), "::")
}

// nanToZero keeps NaN out of JSON.
func nanToZero(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
