package js_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	gohttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

// pixelServer mimics the reference server: /health and /api/ai/pixel/infer; every
// failEvery-th infer call answers 500 (0: never).
func pixelServer(t *testing.T, failEvery int64) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/health", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/api/ai/pixel/infer", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		if failEvery > 0 && n.Add(1)%failEvery == 0 {
			gohttp.Error(w, "fail", 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response":"ok","latency_ms":12,"crisis":{"detected":true,"risk_level":"low"},"bias":{"detected":true,"categories":["age"]}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func readTagKeys(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestReferenceScriptsTagKeys runs the real k6 reference scripts unchanged and compares the
// (metric, tag keys) pairs of every sample with those in k6's own output.
func TestReferenceScriptsTagKeys(t *testing.T) {
	tests := []struct {
		script, golden, scenario string
		tags                     map[string]string
		failEvery                int64
		iterations               int
	}{
		{"rest.js", "rest-tagkeys.txt", "pixel_rest", map[string]string{"suite": "pixel"}, 0, 2},
		{"fail.js", "fail-tagkeys.txt", "default", nil, 2, 4},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			srv := pixelServer(t, tc.failEvery)
			reg := metrics.NewRegistry()
			b, err := js.Load(context.Background(), filepath.Join("testdata", tc.script),
				js.LoadOptions{Env: map[string]string{"BASE_URL": srv.URL}, Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			capt := &metricstest.Capture{}
			st := &modules.State{VUID: 1, Scenario: tc.scenario, Tags: modules.NewTagMap(tc.tags),
				Registry: reg, Samples: capt}
			v, err := b.NewVU(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			for i := 0; i < tc.iterations; i++ {
				st.Iteration = int64(i)
				if err := v.RunIteration(context.Background(), "default", nil); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for _, s := range capt.Samples() {
				seen[s.Metric.Name+" "+metricstest.TagKeys(s.Tags)] = true
			}
			var got []string
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			want := readTagKeys(t, tc.golden)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("metric/tag-key pairs differ from k6's\n got:\n  %s\nwant:\n  %s",
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestReferenceHandleSummary(t *testing.T) {
	srv := pixelServer(t, 0)
	b, err := js.Load(context.Background(), filepath.Join("testdata", "handlesummary.js"),
		js.LoadOptions{Env: map[string]string{"BASE_URL": srv.URL, "SUMMARY_OUT": "out.json"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "handlesummary-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, ok, err := b.HandleSummary(context.Background(), &modules.State{Scenario: "default"}, data)
	if err != nil || !ok {
		t.Fatalf("HandleSummary: ok=%v err=%v", ok, err)
	}
	if out["stdout"] != "handleSummary wrote out.json\n" {
		t.Errorf("stdout = %q", out["stdout"])
	}
	var in, back any
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out["out.json"]), &back); err != nil {
		t.Fatalf("out.json is not JSON: %v", err)
	}
	if !reflect.DeepEqual(in, back) {
		t.Error("handleSummary's JSON.stringify(data) does not round-trip the data")
	}
	if fmt.Sprint(len(out)) != "2" {
		t.Errorf("outputs %v", out)
	}
}
