package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecutionMetadataJSON runs a script through the real run path: what it sets in
// vu.metrics.metadata is in the "metadata" of its samples in --out json (next to the vu
// system tag's), never in their tags, and test.options shows the consolidated options in
// k6's shape.
func TestExecutionMetadataJSON(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "md.js")
	src := `import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
const c = new Counter('traced');
export const options = { iterations: 1, tags: { team: 'px' } };
export default function () {
  exec.vu.metrics.metadata.trace_id = 'trace-' + exec.scenario.iterationInTest;
  c.add(1);
  delete exec.vu.metrics.metadata.trace_id;
  c.add(2);
  const o = exec.test.options;
  if ('iterations' in o || o.scenarios.default.executor !== 'shared-iterations' || o.tags.team !== 'px' || o.paused !== null) {
    throw new Error('test.options ' + JSON.stringify(o));
  }
}
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.json")
	d := defaultDeps()
	d.environ = func() []string { return nil }
	var stdout, stderr bytes.Buffer
	args := []string{"run", "--quiet", "--system-tags", "scenario,group,vu", "--out", "json=" + out, script}
	if code := run(context.Background(), args, &stdout, &stderr, d); code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var got []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var rec struct {
			Type, Metric string
			Data         struct {
				Value    float64
				Tags     map[string]string
				Metadata map[string]string
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Type != "Point" || rec.Metric != "traced" {
			continue
		}
		if _, ok := rec.Data.Tags["trace_id"]; ok {
			t.Errorf("metadata written as a tag: %s", sc.Text())
		}
		md, _ := json.Marshal(rec.Data.Metadata)
		got = append(got, string(md))
	}
	want := `{"trace_id":"trace-0","vu":"1"} {"vu":"1"}`
	if strings.Join(got, " ") != want {
		t.Errorf("metadata of the traced samples: %s, want %s", strings.Join(got, " "), want)
	}
}
