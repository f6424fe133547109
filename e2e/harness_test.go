// Package e2e runs the built binaries — pixelsim, pixelk6, k6verdict — the way a user and a
// CI job do: real processes, real loopback traffic, real files. Every test starts its own
// pixelsim on a free loopback port and stops it.
package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// binDir holds the binaries built once by TestMain.
var binDir string

// repoRoot is the module root (the parent of this package's directory).
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "pixelk6-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/pixelk6", "./cmd/k6verdict", "./cmd/pixelsim")
	cmd.Dir = repoRoot
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building the binaries: %v\n", err)
		return 1
	}
	return m.Run()
}

func bin(name string) string { return filepath.Join(binDir, name) }

// refDir is the repository's copy of real k6 output and scripts (testdata/k6-reference).
func refDir(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot, "testdata", "k6-reference")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
		t.Fatalf("the k6 reference files are missing from the repository: %s: %v", p, err)
	}
	return p
}

// sim is a running pixelsim process.
type sim struct {
	URL string // http://127.0.0.1:PORT
	WS  string // ws://127.0.0.1:PORT
	// GRPC is the gRPC endpoint's address (127.0.0.1:PORT) when started with --grpc-addr.
	GRPC string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

// startSim starts bin/pixelsim on a free loopback port with extra flags and stops it when
// the test ends.
func startSim(t *testing.T, args ...string) *sim {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--max-life", "10m"}, args...)
	cmd := exec.Command(bin("pixelsim"), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sim{cmd: cmd, out: new(bytes.Buffer)}
	urlc := make(chan string, 1)
	grpcc := make(chan string, 1) // the gRPC address, printed after the URL with --grpc-addr
	go func() {                   // owned by the process: ends when its stdout closes
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.out.WriteString(line + "\n")
			if u, ok := strings.CutPrefix(line, "pixelsim listening on "); ok && !sent {
				urlc <- strings.TrimSpace(u)
				sent = true
			}
			if a, ok := strings.CutPrefix(line, "pixelsim gRPC listening on "); ok {
				a, _, _ = strings.Cut(a, " ")
				grpcc <- a
			}
		}
		if !sent {
			close(urlc)
		}
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("pixelsim exited before listening: %s", errb.String())
		}
		s.URL = u
		s.WS = "ws://" + strings.TrimPrefix(u, "http://")
		if slices.Contains(args, "--grpc-addr") {
			select {
			case s.GRPC = <-grpcc:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("pixelsim did not report its gRPC address; stderr: %s", errb.String())
			}
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("pixelsim did not report its address; stderr: %s", errb.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("pixelsim did not stop on SIGTERM")
		}
	})
	return s
}

// health returns pixelsim's /health document.
func (s *sim) health(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get(s.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decoding /health: %v", err)
	}
	return m
}

// result is what a finished command left.
type result struct {
	Code           int
	Stdout, Stderr string
}

// run runs a binary with args in dir (the repo root when empty), bounded by limit.
func run(t *testing.T, dir string, limit time.Duration, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(name), args...)
	if dir == "" {
		dir = repoRoot
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: did not finish in %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), limit, r.Stdout, r.Stderr)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", name, err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// ndjson is what a k6 NDJSON file holds, reduced to what compatibility checks compare.
type ndjson struct {
	Metrics map[string]metricRecord        // from Metric lines
	TagKeys map[string]map[string]struct{} // metric → union of tag keys of its points
	Points  map[string]int                 // metric → number of points
	Sums    map[string]float64             // metric → sum of point values
	// LabelSums sums values by label tag: "crisis_detections{risk_level=high}" → sum.
	LabelSums map[string]float64
	// PointsBefore counts points whose Metric line had not appeared yet (must stay 0).
	PointsBefore int
}

type metricRecord struct {
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Contains   string            `json:"contains"`
	Thresholds []json.RawMessage `json:"thresholds"`
	Submetrics []struct {
		Name string `json:"name"`
	} `json:"submetrics"`
}

// labelTags are the tag keys whose per-value sums readNDJSON keeps.
var labelTags = []string{"risk_level", "bias_category", "error", "status"}

func readNDJSON(t *testing.T, path string) ndjson {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	}
	n := ndjson{Metrics: map[string]metricRecord{}, TagKeys: map[string]map[string]struct{}{}, Points: map[string]int{}, Sums: map[string]float64{}, LabelSums: map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		var rec struct {
			Type   string          `json:"type"`
			Metric string          `json:"metric"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s:%d: not JSON: %v: %q", path, line, err, sc.Text())
		}
		switch rec.Type {
		case "Metric":
			var m metricRecord
			if err := json.Unmarshal(rec.Data, &m); err != nil {
				t.Fatalf("%s:%d: bad Metric data: %v", path, line, err)
			}
			n.Metrics[rec.Metric] = m
		case "Point":
			var p struct {
				Time  time.Time         `json:"time"`
				Value float64           `json:"value"`
				Tags  map[string]string `json:"tags"`
			}
			if err := json.Unmarshal(rec.Data, &p); err != nil {
				t.Fatalf("%s:%d: bad Point data: %v", path, line, err)
			}
			if _, ok := n.Metrics[rec.Metric]; !ok {
				n.PointsBefore++
			}
			keys := n.TagKeys[rec.Metric]
			if keys == nil {
				keys = map[string]struct{}{}
				n.TagKeys[rec.Metric] = keys
			}
			for k := range p.Tags {
				keys[k] = struct{}{}
			}
			n.Points[rec.Metric]++
			n.Sums[rec.Metric] += p.Value
			for _, k := range labelTags {
				if v, ok := p.Tags[k]; ok {
					n.LabelSums[rec.Metric+"{"+k+"="+v+"}"] += p.Value
				}
			}
		default:
			t.Fatalf("%s:%d: unknown record type %q", path, line, rec.Type)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// shape is a comparable description of which metrics exist and which tag keys they carry.
func (n ndjson) shape() []string {
	var out []string
	for m, keys := range n.TagKeys {
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		out = append(out, m+" "+n.Metrics[m].Type+" "+n.Metrics[m].Contains+" {"+strings.Join(ks, ",")+"}")
	}
	sort.Strings(out)
	return out
}

// num reads a number from a decoded JSON document by dotted path.
func num(t *testing.T, doc map[string]any, path string) float64 {
	t.Helper()
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %q is not an object in %v", path, p, cur)
		}
		cur = m[p]
	}
	f, ok := cur.(float64)
	if !ok {
		t.Fatalf("%s: got %v (%T), want a number", path, cur, cur)
	}
	return f
}

const (
	timeoutShort = 30 * time.Second
	timeoutRun   = 3 * time.Minute
)

// diffShape is cmp.Diff of two shapes, "" when equal.
func diffShape(want, got []string) string { return cmp.Diff(want, got) }
