// Package grpc_test runs pixelk6's own k6/net/grpc scripts (the .js files beside it), one
// per member k6 documents, through the real command line against pixelsim's gRPC endpoint
// on loopback. Each script takes the address from __ENV.GRPC_ADDR, declares
// `thresholds: { checks: ['rate==1'] }` and must run exactly its expected number of
// checks, all passing, with nothing logged.
package grpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/cli"
	_ "github.com/pixelk6/pixelk6/extension/pixel" // k6/x/pixel, as cmd/pixelk6 links it
	"github.com/pixelk6/pixelk6/simulator"
)

// want is the number of checks each script runs (all must pass).
var want = map[string]int{
	"client.js":                 2,
	"client-load.js":            3,
	"client-load-protoset.js":   2,
	"client-connect.js":         3,
	"client-connect-reflect.js": 2,
	"client-invoke.js":          2,
	"client-async-invoke.js":    2,
	"client-health-check.js":    4,
	"client-close.js":           1,
	"params.js":                 2,
	"response.js":               8,
	"constants.js":              2,
	"stream.js":                 3,
	"stream-on.js":              1,
	"stream-write.js":           1,
	"stream-error.js":           3,
	"message-metadata.js":       1,
	"pixel-inspect.js":          1,
}

// startPixelsim serves pixelsim's gRPC endpoint on a free loopback port until the test ends.
func startPixelsim(t *testing.T) (string, *simulator.Server) {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	srv, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.StartGRPC("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return addr, srv
}

func TestScripts(t *testing.T) {
	scripts, err := filepath.Glob("*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for name := range want {
		if !slices.Contains(scripts, name) {
			t.Errorf("want has %s, which is not a script here", name)
		}
	}
	addr, srv := startPixelsim(t)
	for _, script := range scripts {
		n, ok := want[script]
		if !ok {
			t.Errorf("%s: no expected checks in want", script)
			continue
		}
		t.Run(script, func(t *testing.T) {
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(src, []byte("checks: ['rate==1']")) {
				t.Errorf("%s does not declare thresholds: { checks: ['rate==1'] }", script)
			}
			out := filepath.Join(t.TempDir(), "out.json")
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), []string{"run", "-q", "--no-summary", "-e", "GRPC_ADDR=" + addr,
				"--out", "json=" + out, script}, &stdout, &stderr)
			passed, failed := readChecks(t, out)
			if code != 0 {
				t.Fatalf("exit code %d, failed checks %q\n%s%s", code, failed, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "level=") {
				t.Errorf("the script logged:\n%s", stderr.String())
			}
			if passed != n || len(failed) > 0 {
				t.Errorf("checks: %d passed, failed %q; want %d passed", passed, failed, n)
			}
		})
	}
	if st := srv.Stats(); st.GRPCInferences == 0 || st.GRPCStreamsTotal == 0 {
		t.Errorf("pixelsim saw no gRPC traffic: %+v", st)
	}
}

// readChecks counts the passed checks of a --out json file and names the failed ones.
func readChecks(t *testing.T, path string) (passed int, failed []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no output file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s struct {
			Type   string `json:"type"`
			Metric string `json:"metric"`
			Data   struct {
				Value float64           `json:"value"`
				Tags  map[string]string `json:"tags"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		if s.Type != "Point" || s.Metric != "checks" {
			continue
		}
		if s.Data.Value == 1 {
			passed++
		} else {
			failed = append(failed, s.Data.Tags["check"])
		}
	}
	return passed, failed
}
