package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pixelk6/pixelk6/k6file"
	"github.com/pixelk6/pixelk6/metrics"
)

func TestNew(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		spec    string
		env     map[string]string
		wantErr string
	}{
		{name: "json file", spec: "json=" + filepath.Join(dir, "a.json")},
		{name: "json gzip", spec: "json=" + filepath.Join(dir, "a.json.gz")},
		{name: "json stdout", spec: "json"},
		{name: "json dash", spec: "json=-"},
		{name: "csv file", spec: "csv=" + filepath.Join(dir, "a.csv")},
		{name: "csv options", spec: "csv=fileName=" + filepath.Join(dir, "b.csv") + ",timeFormat=rfc3339_nano,saveInterval=2s"},
		{name: "csv env", spec: "csv", env: map[string]string{"K6_CSV_FILENAME": filepath.Join(dir, "c.csv"), "K6_CSV_TIME_FORMAT": "unix_milli", "K6_CSV_SAVE_INTERVAL": "1500"}},
		{name: "unknown type", spec: "influx=http://x", wantErr: `unsupported output type "influx"`},
		{name: "empty type", spec: "=x", wantErr: "want TYPE or TYPE=ARG"},
		{name: "bad time format", spec: "csv=timeFormat=iso", wantErr: `unknown CSV time format "iso"`},
		{name: "bad csv option", spec: "csv=fileName=x.csv,colour=red", wantErr: `unknown CSV option "colour"`},
		{name: "bad save interval", spec: "csv", env: map[string]string{"K6_CSV_SAVE_INTERVAL": "soon"}, wantErr: `invalid CSV save interval "soon"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(tc.spec, Params{Env: tc.env, Stdout: io.Discard})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New(%q) error = %v, want it to contain %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tc.spec, err)
			}
			if err := o.Start(); err != nil {
				t.Fatal(err)
			}
			if err := o.Stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseCSVConfig(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		env  map[string]string
		want csvConfig
	}{
		{"default", "", nil, csvConfig{fileName: "file.csv"}},
		{"file only", "out.csv.gz", nil, csvConfig{fileName: "out.csv.gz"}},
		{"file name with = and ,", "runs/id=1,2.csv", nil, csvConfig{fileName: "runs/id=1,2.csv"}},
		{"arg overrides env", "fileName=a.csv,timeFormat=unix_nano", map[string]string{"K6_CSV_FILENAME": "b.csv", "K6_CSV_TIME_FORMAT": "rfc3339"},
			csvConfig{fileName: "a.csv", timeFormat: k6file.TimeUnixNano}},
		{"interval in ms", "saveInterval=250", nil, csvConfig{fileName: "file.csv", saveInterval: 250 * time.Millisecond}},
		{"interval as duration", "saveInterval=1m45s", nil, csvConfig{fileName: "file.csv", saveInterval: 105 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCSVConfig(tc.arg, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func testSamples() []metrics.Sample {
	reg := metrics.NewRegistry()
	d := reg.MustNewMetric("http_req_duration", metrics.Trend, metrics.Time)
	c := reg.MustNewMetric("crisis_detections", metrics.Counter, metrics.Default)
	at := time.Date(2026, 11, 28, 2, 32, 40, 5e8, time.UTC)
	return []metrics.Sample{
		{Metric: d, Tags: metrics.TagsFromPairs("name", "infer", "status", "200", "url", "http://x/?a=1,b=\"2\""), Time: at, Value: 3.5},
		{Metric: c, Tags: metrics.TagsFromPairs("risk_level", "high", "suite", "pixel"), Metadata: map[string]string{"vu": "1", "iter": "7"}, Time: at, Value: 1},
	}
}

func TestStreamLifecycle(t *testing.T) {
	for _, name := range []string{"out.json", "out.json.gz", "out.csv", "out.csv.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			typ := "json"
			if strings.Contains(name, ".csv") {
				typ = "csv"
			}
			o, err := New(typ+"="+path, Params{FlushInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Start(); err != nil {
				t.Fatal(err)
			}
			s := testSamples()
			const batches = 2000
			for i := 0; i < batches; i++ {
				o.AddSamples(s)
			}
			if err := o.Stop(); err != nil {
				t.Fatal(err)
			}
			data := readAll(t, path)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			want := batches * 2
			if typ == "json" {
				want += 2 // one Metric record per metric
				for i, l := range lines {
					if !json.Valid([]byte(l)) {
						t.Fatalf("line %d is not JSON: %q", i+1, l)
					}
				}
			} else {
				want++ // header
				if _, err := readCSVAll(data); err != nil {
					t.Fatal(err)
				}
			}
			if len(lines) != want {
				t.Errorf("%d lines, want %d", len(lines), want)
			}
		})
	}
}

// TestFlushWhileAdding checks that concurrent periodic flushes never split a record.
func TestFlushWhileAdding(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	var writes int
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		writes++
		if len(p) > 0 && p[len(p)-1] != '\n' {
			t.Errorf("write %d does not end a line", writes)
		}
		return out.Write(p)
	})
	o, err := New("json", Params{Stdout: w, FlushInterval: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	s := testSamples()
	for i := 0; i < 5000; i++ {
		o.AddSamples(s)
	}
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 10002 {
		t.Errorf("%d lines, want 10002", n)
	}
}

func TestStopReturnsWriteError(t *testing.T) {
	boom := errors.New("disk full")
	w := writerFunc(func(p []byte) (int, error) { return 0, boom })
	o, err := New("json", Params{Stdout: w, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	o.AddSamples(testSamples())
	if err := o.Stop(); !errors.Is(err, boom) {
		t.Fatalf("Stop() = %v, want %v", err, boom)
	}
}

func TestStartErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "x.json")
	o, err := New("json="+path, Params{})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Start() = %v, want an error naming %s", err, path)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGzipReadableBeforeStop checks that after a periodic flush the .gz file decompresses
// to whole lines even though the stream is not closed (a run killed before Stop).
func TestGzipReadableBeforeStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.json.gz")
	o, err := New("json="+path, Params{FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	defer o.Stop()
	for i := 0; i < 100; i++ {
		o.AddSamples(testSamples())
	}
	o.(*stream).flush()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(gz)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading an unfinished gzip stream: err = %v, want unexpected EOF", err)
	}
	// testSamples uses a fresh registry per call, so every batch repeats two Metric records.
	if n := bytes.Count(data, []byte("\n")); n != 400 || data[len(data)-1] != '\n' {
		t.Errorf("got %d lines (ending %q), want 400 whole lines", n, data[len(data)-1:])
	}
}

func TestStopTwice(t *testing.T) {
	o, err := New("json", Params{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := o.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestMulti(t *testing.T) {
	boom := errors.New("boom")
	var a, b bytes.Buffer
	oa, _ := New("json", Params{Stdout: &a})
	ob, _ := New("json", Params{Stdout: &b})
	bad, _ := New("json", Params{Stdout: writerFunc(func([]byte) (int, error) { return 0, boom })})
	m := Multi{oa, ob, bad}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	m.AddSamples(testSamples())
	if err := m.Stop(); !errors.Is(err, boom) {
		t.Fatalf("Stop() = %v, want %v", err, boom)
	}
	if a.Len() == 0 || a.String() != b.String() {
		t.Errorf("outputs differ or are empty: %q vs %q", a.String(), b.String())
	}
}
