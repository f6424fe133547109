package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/output/influxdb"
	"github.com/pixelk6/pixelk6/output/opentelemetry"
	"github.com/pixelk6/pixelk6/output/prometheusrw"
)

// TestOutputEnvInTable checks that every K6_* variable the network outputs read (or
// refuse) has its row in the support table, so that none is undocumented.
func TestOutputEnvInTable(t *testing.T) {
	rows := map[string]support{}
	for _, s := range supportTable {
		if s.Env != "" {
			rows[s.Env] = s
		}
	}
	var vars []string
	vars = append(vars, influxdb.Env...)
	vars = append(vars, prometheusrw.Env...)
	vars = append(vars, opentelemetry.Env...)
	for _, v := range vars {
		if s, ok := rows[v]; !ok || !s.OK {
			t.Errorf("%s: no supported row in supportTable", v)
		}
	}
	for _, v := range prometheusrw.Refused {
		if s, ok := rows[v]; !ok || s.OK || s.Note == "" {
			t.Errorf("%s: no refused row with a note in supportTable", v)
		}
	}
	if _, ok := rows["K6_PROMETHEUS_RW_HEADERS_<NAME>"]; !ok {
		t.Error("K6_PROMETHEUS_RW_HEADERS_<NAME> has no row")
	}
}

// TestCollectorsRefused: k6's config-file settings of the network outputs are not read,
// so a config file that has them is refused (104), not silently half-applied.
func TestCollectorsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "k6.json")
	if err := os.WriteFile(cfg, []byte(`{"collectors":{"influxdb":{"db":"x"},"csv":{"fileName":"a.csv"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, []string{"run", "-q", "-c", cfg, "x.js"}, `{"iterations":1}`, nil, nil)
	if r.code != 104 || !strings.Contains(r.stderr, "collectors.influxdb") || strings.Contains(r.stderr, "collectors.csv") {
		t.Fatalf("exit code %d, want 104 naming collectors.influxdb only:\n%s", r.code, r.stderr)
	}
}

// TestOutputNameHidesPassword: the banner never prints the password of an --out URL.
func TestOutputNameHidesPassword(t *testing.T) {
	if got := outputName("influxdb=http://u:secret@localhost:8086/k6"); strings.Contains(got, "secret") || !strings.Contains(got, "localhost:8086/k6") {
		t.Fatalf("outputName = %q", got)
	}
}
