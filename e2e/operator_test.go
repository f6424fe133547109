package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/internal/testtool"
)

// operatorScript is the test the TestRun runs: a shared-iterations scenario (no network).
const operatorScript = `import { check, sleep } from 'k6';

export const options = {
  scenarios: {
    steady: { executor: 'shared-iterations', vus: 4, iterations: 40 },
  },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  check(1, { 'one is one': (v) => v === 1 });
  sleep(0.005);
}
`

// operatorStart is the body of the k6-operator's starter (pkg/resources/containers
// curl_start.go marshals these fields, in this order).
const operatorStart = `{"data":{"attributes":{"paused":false,"stopped":false},"id":"default","type":"status"}}`

// TestOperatorSequence plays the k6-operator's contract with real pixelk6 processes on
// loopback, without Kubernetes:
//
//  1. the initializer: `k6 archive` the script, then `k6 inspect --execution-requirements`
//     on the archive (the operator reads maxVUs and totalDuration from that JSON, and fails
//     on an error log line);
//  2. four runners: `k6 run --quiet --address=... --paused --tag instance_id=N --tag
//     testrun_name=... archive.tar` plus --out json, as the operator's runner Jobs are
//     started (with the TestRun's arguments);
//  3. the operator waits until every runner's GET /v1/status answers below 400;
//  4. the starter PATCHes /v1/status with {"paused":false} on each runner;
//  5. every runner runs to its end and writes its JSON output, and k6verdict --instances
//     reads the four files as one test.
func TestOperatorSequence(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "test.js")
	if err := os.WriteFile(script, []byte(operatorScript), 0o644); err != nil {
		t.Fatal(err)
	}

	// 1. The initializer.
	archive := filepath.Join(dir, "archive.tar")
	if r := run(t, dir, timeoutShort, nil, "pixelk6", "archive", script, "-O", archive); r.Code != 0 {
		t.Fatalf("archive: exit %d\n%s", r.Code, r.Stderr)
	}
	r := run(t, dir, timeoutShort, nil, "pixelk6", "inspect", "--execution-requirements", archive)
	if r.Code != 0 || strings.Contains(r.Stderr, "level=error") {
		t.Fatalf("inspect: exit %d\n%s", r.Code, r.Stderr)
	}
	var req struct {
		MaxVUs        int    `json:"maxVUs"`
		TotalDuration string `json:"totalDuration"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &req); err != nil {
		t.Fatalf("inspect output is not JSON: %v\n%s", err, r.Stdout)
	}
	if req.MaxVUs != 4 || req.TotalDuration == "" {
		t.Fatalf("execution requirements %+v", req)
	}

	// 2. Four runners, paused, each with its REST API on its own loopback port.
	const parallelism = 4
	type runner struct {
		cmd    *exec.Cmd
		base   string
		out    string
		stderr *lockedBuf
	}
	runners := make([]*runner, parallelism)
	for i := range runners {
		addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
		out := filepath.Join(dir, fmt.Sprintf("out-%d.json", i))
		// The operator's segmentation: runner i of 4 runs the segment i/4:(i+1)/4 of the
		// sequence 0,1/4,2/4,3/4,1.
		segment := fmt.Sprintf("--execution-segment=%d/4:%d/4", i, i+1)
		args := []string{"run", "--quiet", "--address=" + addr, "--paused",
			segment, "--execution-segment-sequence=0,1/4,2/4,3/4,1",
			"--tag", fmt.Sprintf("instance_id=%d", i), "--tag", "testrun_name=pixelk6-sample",
			"--out", "json=" + out, archive}
		cmd := exec.Command(bin("pixelk6"), args...)
		cmd.Dir = dir
		rn := &runner{cmd: cmd, base: "http://" + addr, out: out, stderr: &lockedBuf{}}
		cmd.Stdout, cmd.Stderr = io.Discard, rn.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		runners[i] = rn
	}

	// 3. Readiness: the operator's isServiceReady (status below 400); then, to start them
	// together, each is paused before its run with its VUs initialised.
	status := func(rn *runner) (int, map[string]any) {
		resp, err := http.Get(rn.base + "/v1/status")
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var doc struct {
			Data struct {
				Attributes map[string]any `json:"attributes"`
			} `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc.Data.Attributes
	}
	for i, rn := range runners {
		deadline := time.Now().Add(timeoutShort)
		for {
			code, attrs := status(rn)
			if code > 0 && code < 400 && attrs["status"] == 4.0 && attrs["paused"] == true && attrs["vus-max"] == 1.0 {
				break
			}
			if rn.cmd.ProcessState != nil || time.Now().After(deadline) {
				t.Fatalf("runner %d never paused and ready (last %d %v)\n%s", i, code, attrs, rn.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// 4. The starter.
	first := time.Now()
	var last time.Time
	for i, rn := range runners {
		req, err := http.NewRequest(http.MethodPatch, rn.base+"/v1/status", strings.NewReader(operatorStart))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("starting runner %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"paused":false`)) {
			t.Fatalf("starting runner %d: %d %s", i, resp.StatusCode, b)
		}
		last = time.Now()
	}
	t.Logf("the starter resumed %d runners in %v", parallelism, last.Sub(first))

	// 5. Every runner finishes with its output.
	var outs []string
	for i, rn := range runners {
		if code, _ := waitExit(t, rn.cmd, timeoutShort, rn.stderr); code != 0 {
			t.Fatalf("runner %d: exit %d\n%s", i, code, rn.stderr.String())
		}
		n := readNDJSON(t, rn.out)
		if got := n.Sums["iterations"]; got != 10 {
			t.Errorf("runner %d: %v iterations, want its quarter of the test's 40", i, got)
		}
		outs = append(outs, rn.out)
	}
	v := run(t, dir, timeoutShort, nil, "k6verdict", append([]string{"--instances", "--format", "json"}, outs...)...)
	if v.Code != 0 {
		t.Fatalf("k6verdict: exit %d\n%s\n%s", v.Code, v.Stdout, v.Stderr)
	}
	var verdict struct {
		Thresholds []struct {
			Key  string `json:"key"`
			Pass bool   `json:"pass"`
		} `json:"thresholds"`
		Metrics []struct {
			Name   string             `json:"name"`
			Values map[string]float64 `json:"values"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(v.Stdout), &verdict); err != nil {
		t.Fatalf("k6verdict --format json: %v\n%s", err, v.Stdout)
	}
	if len(verdict.Thresholds) != 1 || verdict.Thresholds[0].Key != "checks" || !verdict.Thresholds[0].Pass {
		t.Errorf("thresholds %+v", verdict.Thresholds)
	}
	for _, m := range verdict.Metrics {
		if m.Name == "iterations" && m.Values["count"] != 40 {
			t.Errorf("k6verdict counts %v iterations over the four runners, want the unsplit run's 40", m.Values["count"])
		}
	}
}
