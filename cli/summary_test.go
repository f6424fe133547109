package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/engine"
	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/output"
)

// runFake runs `pixelk6 run` with args on fr in dir (relative paths resolve there).
func runFake(t *testing.T, ctx context.Context, fr *fakeRunner, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir != "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(wd)
	}
	var out, errb bytes.Buffer
	d := deps{
		load: func(_ context.Context, _ string, o js.LoadOptions) (loaded, error) {
			fr.env = o.Env
			fr.reg, fr.builtin = o.Registry, metrics.RegisterBuiltin(o.Registry)
			return fr, nil
		},
		newOutput: func(string, output.Params) (engine.Output, error) { return &fakeOut{}, nil },
		environ:   func() []string { return nil },
		isTTY:     func(io.Writer) bool { return false },
	}
	code = run(ctx, append([]string{"run"}, append(args, "x.js")...), &out, &errb, d)
	return code, out.String(), errb.String()
}

func TestSummaryDataAndExport(t *testing.T) {
	fr := &fakeRunner{
		opts:    `{"iterations":2,"thresholds":{"http_req_duration{name:infer}":["p(95)<5"]}}`,
		exports: map[string]bool{"default": true, "handleSummary": true},
		summary: map[string]string{"stdout": "custom summary\n", "sub/out.json": "{}"},
	}
	fr.iter = func(ctx context.Context, v *fakeVU) error {
		now := time.Now()
		b := fr.builtin
		v.spec.Samples.Push(ctx, []metrics.Sample{
			{Metric: b.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 1},
			{Metric: b.Checks, Tags: metrics.TagsFromPairs("check", "ok", "group", "::g"), Time: now, Value: 0},
			{Metric: b.HTTPReqDuration, Tags: metrics.TagsFromPairs("name", "infer", "expected_response", "true"), Time: now, Value: 10},
			{Metric: b.Iterations, Tags: metrics.NewTagSet(v.spec.Tags), Time: now, Value: 1},
		})
		return nil
	}
	dir := t.TempDir()
	code, stdout, stderr := runFake(t, context.Background(), fr, dir, "--summary-export", "export.json")
	if code != 99 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	var d struct {
		Metrics   map[string]json.RawMessage `json:"metrics"`
		RootGroup struct {
			Groups []struct {
				Name   string `json:"name"`
				Checks []struct {
					Name          string
					Passes, Fails int
				} `json:"checks"`
			} `json:"groups"`
		} `json:"root_group"`
		State struct {
			TestRunDurationMs float64 `json:"testRunDurationMs"`
		} `json:"state"`
	}
	if err := json.Unmarshal(fr.summaryData, &d); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"checks", "iterations", "http_req_duration", "http_req_duration{name:infer}", "http_req_duration{expected_response:true}", "vus", "vus_max"} {
		if _, ok := d.Metrics[k]; !ok {
			t.Errorf("summary data lacks metric %q", k)
		}
	}
	if !strings.Contains(string(d.Metrics["http_req_duration{name:infer}"]), `"thresholds":{"p(95)<5":{"ok":false}}`) {
		t.Errorf("submetric: %s", d.Metrics["http_req_duration{name:infer}"])
	}
	if len(d.RootGroup.Groups) != 1 || d.RootGroup.Groups[0].Name != "g" || d.RootGroup.Groups[0].Checks[0].Passes != 2 || d.RootGroup.Groups[0].Checks[0].Fails != 2 {
		t.Errorf("root_group: %+v", d.RootGroup)
	}
	if d.State.TestRunDurationMs <= 0 {
		t.Error("no testRunDurationMs")
	}
	if !strings.Contains(stdout, "custom summary") || strings.Contains(stdout, "TOTAL RESULTS") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, f := range []string{"sub/out.json", "export.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	// The crossed threshold is logged after the summary, as k6 does.
	if !strings.Contains(stderr, `level=error msg="thresholds on metrics 'http_req_duration{name:infer}' have been crossed"`) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

func TestFullSummary(t *testing.T) {
	fr := &fakeRunner{
		opts: `{"tags":{"global":"1"},"scenarios":{
			"a":{"executor":"per-vu-iterations","vus":1,"iterations":2,"tags":{"sc":"a"},"env":{"MODE":"a"}},
			"b":{"executor":"shared-iterations","vus":1,"iterations":3,"exec":"other"}}}`,
		exports: map[string]bool{"default": true, "other": true},
	}
	fr.iter = func(ctx context.Context, v *fakeVU) error {
		tags := metrics.NewTagSet(v.spec.Tags).With("scenario", v.it.Scenario.Name).With("group", "::g").With("check", "c")
		v.spec.Samples.Push(ctx, []metrics.Sample{{Metric: fr.builtin.Checks, Tags: tags, Time: time.Now(), Value: 1}})
		return nil
	}
	code, stdout, stderr := runFake(t, context.Background(), fr, "", "--summary-mode", "full")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, s := range []string{"SCENARIO: a", "SCENARIO: b", "GROUP: g", "TOTAL RESULTS", "running (", "execution: local"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("full summary lacks %q:\n%s", s, stdout)
		}
	}
	// The last progress block comes after the summary when stdout is not a terminal.
	if i, j := strings.Index(stdout, "TOTAL RESULTS"), strings.LastIndex(stdout, "running ("); i < 0 || j < i {
		t.Errorf("final progress block before the summary:\n%s", stdout)
	}
	// --no-summary wins over the mode: no summary at all.
	code, stdout, _ = runFake(t, context.Background(), fr, "", "--summary-mode", "full", "--no-summary")
	if code != 0 || strings.Contains(stdout, "TOTAL RESULTS") || strings.Contains(stdout, "SCENARIO:") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
}

func TestSummaryAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fr := &fakeRunner{opts: `{"vus":3,"duration":"1m"}`}
	fr.iter = func(ictx context.Context, v *fakeVU) error {
		if v.it.VUIteration == 3 {
			cancel()
		}
		v.spec.Samples.Push(ictx, []metrics.Sample{{Metric: fr.builtin.Iterations, Tags: metrics.NewTagSet(v.spec.Tags), Time: time.Now(), Value: 1}})
		select {
		case <-time.After(2 * time.Millisecond):
		case <-ictx.Done():
		}
		return nil
	}
	code, stdout, stderr := runFake(t, ctx, fr, "")
	if code != 105 {
		t.Fatalf("exit %d, want 105\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "TOTAL RESULTS") {
		t.Errorf("no summary after a cancel:\n%s", stdout)
	}
	if !strings.Contains(stderr, "received a signal") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
