package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebDashboard: K6_WEB_DASHBOARD, the config file's webDashboard and --out web-dashboard
// turn the dashboard on (once), its settings are k6's variables, and bad values exit 104.
func TestWebDashboard(t *testing.T) {
	dir := t.TempDir()
	cfgOn := filepath.Join(dir, "on.json")
	cfgBad := filepath.Join(dir, "bad.json")
	for p, body := range map[string]string{cfgOn: `{"webDashboard": true}`, cfgBad: `{"webDashboard": "maybe"}`} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		args    []string
		env     []string
		code    int
		stderr  string
		export  bool
		banners int // "web-dashboard" in the banner's outputs
	}{
		{name: "variable", args: []string{"run", "x.js"}, env: []string{"K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_PORT=-1"}, export: true, banners: 1},
		{name: "--out, once with the variable too", args: []string{"run", "-o", "web-dashboard=port=-1", "x.js"}, env: []string{"K6_WEB_DASHBOARD=1"}, export: true, banners: 1},
		{name: "config file", args: []string{"run", "-c", cfgOn, "x.js"}, env: []string{"K6_WEB_DASHBOARD_PORT=-1"}, export: true, banners: 1},
		{name: "false is off", args: []string{"run", "x.js"}, env: []string{"K6_WEB_DASHBOARD=false"}},
		{name: "bad variable", args: []string{"run", "x.js"}, env: []string{"K6_WEB_DASHBOARD=yes"}, code: 104, stderr: "K6_WEB_DASHBOARD="},
		{name: "bad config value", args: []string{"run", "-c", cfgBad, "x.js"}, code: 104, stderr: "webDashboard"},
		{name: "bad port", args: []string{"run", "x.js"}, env: []string{"K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_PORT=http"}, code: 104, stderr: "K6_WEB_DASHBOARD_PORT"},
		{name: "unknown parameter", args: []string{"run", "-o", "web-dashboard=colour=red", "x.js"}, code: 104, stderr: "unknown parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			export := filepath.Join(t.TempDir(), "report.html")
			env := append([]string{"K6_WEB_DASHBOARD_EXPORT=" + export}, tt.env...)
			r := runCLI(t, tt.args, `{"iterations":3}`, env, nil)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, want %d; stderr lacks %q?\n%s", r.code, tt.code, tt.stderr, r.stderr)
			}
			if n := strings.Count(r.stdout, "web-dashboard"); n != tt.banners {
				t.Errorf("the banner names web-dashboard %d times, want %d:\n%s", n, tt.banners, r.stdout)
			}
			html, err := os.ReadFile(export)
			if tt.export != (err == nil) {
				t.Fatalf("export written: %v, want %v", err == nil, tt.export)
			}
			if tt.export && (!strings.Contains(string(html), `"generator":"pixelk6 run"`) || !strings.Contains(string(html), `"phase":"done"`)) {
				t.Errorf("the export is not the final page of the run")
			}
		})
	}
}
