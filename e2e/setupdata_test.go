package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSummarySetupData: handleSummary's data and the --summary-export file carry what
// setup() returned as setup_data, as k6's do; without setup(), handleSummary's data has the
// key with the value undefined (as k6's) and the export has no setup_data.
func TestSummarySetupData(t *testing.T) {
	dir := t.TempDir()
	withSetup := `export const options = { iterations: 1 };
export function setup() { return { token: 'abc', ids: [1, 2, 3], nested: { ok: true } }; }
export default function (data) { if (data.token !== 'abc') throw new Error('setup data not passed'); }
export function handleSummary(data) {
  return { 'handled.json': JSON.stringify({ setup_data: data.setup_data, has: 'setup_data' in data }) };
}
`
	without := `export const options = { iterations: 1 };
export default function () {}
export function handleSummary(data) {
  return { 'handled.json': JSON.stringify({ type: typeof data.setup_data, has: 'setup_data' in data }) };
}
`
	for _, c := range []struct {
		name, script, wantHandled string
		wantExport                any
	}{
		{"setup", withSetup, `{"setup_data":{"token":"abc","ids":[1,2,3],"nested":{"ok":true}},"has":true}`,
			map[string]any{"token": "abc", "ids": []any{1.0, 2.0, 3.0}, "nested": map[string]any{"ok": true}}},
		{"no setup", without, `{"type":"undefined","has":true}`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sub := filepath.Join(dir, filepath.Base(t.Name()))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "s.js"), []byte(c.script), 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, sub, timeoutShort, nil, "pixelk6", "run", "-q", "--summary-export", "export.json", "s.js")
			if r.Code != 0 {
				t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
			}
			handled, err := os.ReadFile(filepath.Join(sub, "handled.json"))
			if err != nil {
				t.Fatal(err)
			}
			if string(handled) != c.wantHandled {
				t.Errorf("handleSummary saw %s, want %s", handled, c.wantHandled)
			}
			b, err := os.ReadFile(filepath.Join(sub, "export.json"))
			if err != nil {
				t.Fatal(err)
			}
			var export map[string]any
			if err := json.Unmarshal(b, &export); err != nil {
				t.Fatal(err)
			}
			got, has := export["setup_data"]
			if c.wantExport == nil {
				if has {
					t.Errorf("--summary-export has setup_data %v, want none", got)
				}
				return
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(c.wantExport)
			if string(gj) != string(wj) {
				t.Errorf("--summary-export setup_data = %s, want %s", gj, wj)
			}
		})
	}
}
