package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pixelk6/pixelk6/executor"
	"github.com/pixelk6/pixelk6/summary"
)

func i64(v int64) *int64 { return &v }
func dur(d time.Duration) *executor.Duration {
	x := executor.Duration(d)
	return &x
}

func TestPrecedence(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name     string
		script   string
		env      map[string]string
		cli      options
		executor string
		plan     executor.Plan
		names    []string
	}{
		{
			name: "script only", script: `{"vus":5,"duration":"5s"}`,
			executor: "constant-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 5}}, Duration: 5 * s, GracefulStop: 30 * s, MaxVUs: 5},
		},
		{
			name: "env vus beats script vus", script: `{"vus":5,"duration":"5s"}`, env: map[string]string{"K6_VUS": "7"},
			executor: "constant-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 7}}, Duration: 5 * s, GracefulStop: 30 * s, MaxVUs: 7},
		},
		{
			name: "cli vus beats env vus", script: `{"vus":5,"duration":"5s"}`, env: map[string]string{"K6_VUS": "7"}, cli: options{VUs: i64(2)},
			executor: "constant-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 2}}, Duration: 5 * s, GracefulStop: 30 * s, MaxVUs: 2},
		},
		{
			name: "env duration beats script duration", script: `{"vus":2,"duration":"5s"}`, env: map[string]string{"K6_DURATION": "9s"},
			executor: "constant-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 2}}, Duration: 9 * s, GracefulStop: 30 * s, MaxVUs: 2},
		},
		{
			name: "cli iterations replace script duration", script: `{"vus":2,"duration":"5s"}`, cli: options{Iterations: i64(4)},
			executor: "shared-iterations", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 2}}, Duration: 10 * time.Minute, GracefulStop: 30 * s, MaxVUs: 2, SharedIterations: 4},
		},
		{
			name:   "cli duration replaces script scenarios",
			script: `{"scenarios":{"a":{"executor":"shared-iterations","iterations":3}}}`, cli: options{Duration: dur(3 * s), VUs: i64(4)},
			executor: "constant-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 4}}, Duration: 3 * s, GracefulStop: 30 * s, MaxVUs: 4},
		},
		{
			name:   "env stages replace script scenarios, cli vus is startVUs",
			script: `{"scenarios":{"a":{"executor":"shared-iterations","iterations":3}}}`, env: map[string]string{"K6_STAGES": "2s:0"}, cli: options{VUs: i64(2)},
			executor: "ramping-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 2}, {Offset: 1 * s, VUs: 1}, {Offset: 2 * s, VUs: 0}}, Duration: 2 * s, GracefulStop: 30 * s, GracefulRampDown: 30 * s, MaxVUs: 2},
		},
		{
			name:   "cli vus alone keeps script scenarios",
			script: `{"scenarios":{"a":{"executor":"shared-iterations","iterations":3}}}`, cli: options{VUs: i64(9)},
			executor: "shared-iterations", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 1}}, Duration: 10 * time.Minute, GracefulStop: 30 * s, MaxVUs: 1, SharedIterations: 3},
			names: []string{"a"},
		},
		{
			name:   "cli stages beat env duration",
			script: `{}`, env: map[string]string{"K6_DURATION": "1m"}, cli: options{Stages: []executor.Stage{{Duration: executor.Duration(s), Target: 1}}},
			executor: "ramping-vus", plan: executor.Plan{Steps: []executor.Step{{Offset: 0, VUs: 1}}, Duration: 1 * s, GracefulStop: 30 * s, GracefulRampDown: 30 * s, MaxVUs: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so, err := parseScriptOptions(json.RawMessage(tt.script))
			if err != nil {
				t.Fatal(err)
			}
			eo, err := optionsFromEnv(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: so, env: eo, flags: tt.cli}))
			if err != nil {
				t.Fatal(err)
			}
			test := rc.Test
			if len(test.Scenarios) != 1 {
				t.Fatalf("%d scenarios", len(test.Scenarios))
			}
			c := test.Scenarios[0]
			want := "default"
			if tt.names != nil {
				want = tt.names[0]
			}
			if c.Base().Executor != tt.executor || c.Base().Name != want {
				t.Errorf("scenario %q executor %q, want %q %q", c.Base().Name, c.Base().Executor, want, tt.executor)
			}
			if diff := cmp.Diff(tt.plan, c.Plan()); diff != "" {
				t.Errorf("plan -want +got:\n%s", diff)
			}
		})
	}
}

func TestOtherOptionsPrecedence(t *testing.T) {
	so, _ := parseScriptOptions(json.RawMessage(`{"tags":{"a":"script","b":"script"},"summaryTrendStats":["avg"],"httpDebug":"headers","noThresholds":false}`))
	eo, err := optionsFromEnv(map[string]string{"K6_SUMMARY_TREND_STATS": "avg,p(99)", "K6_NO_THRESHOLDS": "true", "K6_INSECURE_SKIP_TLS_VERIFY": "1"})
	if err != nil {
		t.Fatal(err)
	}
	full := "full"
	c := consolidate(tiers{script: so, env: eo, flags: options{Tags: map[string]string{"b": "cli"}, HTTPDebug: &full}})
	if diff := cmp.Diff(map[string]string{"a": "script", "b": "cli"}, c.Tags); diff != "" {
		t.Errorf("tags: %s", diff)
	}
	if diff := cmp.Diff([]string{"avg", "p(99)"}, c.SummaryTrendStats); diff != "" {
		t.Errorf("trend stats: %s", diff)
	}
	if *c.HTTPDebug != "full" || !*c.NoThresholds || !*c.InsecureSkipTLSVerify {
		t.Errorf("httpDebug %q noThresholds %v insecure %v", *c.HTTPDebug, *c.NoThresholds, *c.InsecureSkipTLSVerify)
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name, script string
		env          map[string]string
		err          string
	}{
		{"bad env vus", `{}`, map[string]string{"K6_VUS": "many"}, `K6_VUS="many"`},
		{"bad env duration", `{}`, map[string]string{"K6_DURATION": "5x"}, `K6_DURATION="5x"`},
		{"bad env stages", `{}`, map[string]string{"K6_STAGES": "5s"}, `K6_STAGES="5s"`},
		{"bad env bool", `{}`, map[string]string{"K6_NO_THRESHOLDS": "maybe"}, `K6_NO_THRESHOLDS="maybe"`},
		{"bad threshold", `{"thresholds":{"http_req_duration":["p(95)<<1"]}}`, nil, "p(95)<<1"},
		{"bad trend stat", `{"summaryTrendStats":["avg","p(x)"]}`, nil, `"p(x)"`},
		{"bad time unit", `{"summaryTimeUnit":"h"}`, nil, `"h"`},
		{"bad http debug", `{"httpDebug":"all"}`, nil, `"all"`},
		{"scenarios with shortcut in the same tier", `{"duration":"1s","scenarios":{"a":{"executor":"shared-iterations"}}}`, nil, "scenarios together"},
		{"bad scenario", `{"scenarios":{"a":{"executor":"constant-vus","duration":"1s","vus":-3}}}`, nil, "vus -3"},
		{"script duration type", `{"duration":true}`, nil, "invalid duration true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so, err := parseScriptOptions(json.RawMessage(tt.script))
			if err == nil {
				var eo options
				if eo, err = optionsFromEnv(tt.env); err == nil {
					_, err = newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: so, env: eo}))
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want containing %q", err, tt.err)
			}
		})
	}
}

// TestPresentationPrecedence checks the tiers of what the command line presents with:
// summary mode, --no-summary, --summary-export, --out and --no-color.
func TestPresentationPrecedence(t *testing.T) {
	str := func(v string) *string { return &v }
	yes := true
	tests := []struct {
		name    string
		script  string
		env     map[string]string
		flags   options
		mode    summary.Mode
		summary bool
		export  string
		out     []string
		noColor bool
	}{
		{name: "defaults", mode: summary.Compact, summary: true},
		{name: "env mode", env: map[string]string{"K6_SUMMARY_MODE": "full"}, mode: summary.Full, summary: true},
		{name: "flag mode beats env", env: map[string]string{"K6_SUMMARY_MODE": "full"}, flags: options{SummaryMode: str("compact")}, mode: summary.Compact, summary: true},
		{name: "disabled mode", flags: options{SummaryMode: str("disabled")}, mode: summary.Disabled},
		{name: "env no-summary beats flag mode", env: map[string]string{"K6_NO_SUMMARY": "true"}, flags: options{SummaryMode: str("full")}, mode: summary.Disabled},
		{name: "no-summary wins over an invalid mode", flags: options{SummaryMode: str("legacy"), NoSummary: &yes}, mode: summary.Disabled},
		{name: "K6_NO_SUMMARY=false is not set", env: map[string]string{"K6_NO_SUMMARY": "false"}, mode: summary.Compact, summary: true},
		{name: "script options cannot set the mode", script: `{"summaryMode":"full","summaryExport":"x.json"}`, mode: summary.Compact, summary: true},
		{name: "env export", env: map[string]string{"K6_SUMMARY_EXPORT": "e.json"}, mode: summary.Compact, summary: true, export: "e.json"},
		{name: "flag export beats env", env: map[string]string{"K6_SUMMARY_EXPORT": "e.json"}, flags: options{SummaryExport: str("f.json")}, mode: summary.Compact, summary: true, export: "f.json"},
		{name: "env outs", env: map[string]string{"K6_OUT": "json=a.json, csv=b.csv,"}, mode: summary.Compact, summary: true, out: []string{"json=a.json", "csv=b.csv"}},
		{name: "flag outs replace env outs", env: map[string]string{"K6_OUT": "json=a.json"}, flags: options{Out: []string{"csv=c.csv"}}, mode: summary.Compact, summary: true, out: []string{"csv=c.csv"}},
		{name: "NO_COLOR", env: map[string]string{"NO_COLOR": "x"}, mode: summary.Compact, summary: true, noColor: true},
		{name: "K6_NO_COLOR", env: map[string]string{"K6_NO_COLOR": "yes"}, mode: summary.Compact, summary: true, noColor: true},
		{name: "flag no-color", flags: options{NoColor: &yes}, mode: summary.Compact, summary: true, noColor: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so, err := parseScriptOptions(json.RawMessage(tt.script))
			if err != nil {
				t.Fatal(err)
			}
			eo, err := optionsFromEnv(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: so, env: eo, flags: tt.flags}))
			if err != nil {
				t.Fatal(err)
			}
			if rc.SummaryMode != tt.mode || rc.Summary != tt.summary || rc.SummaryExport != tt.export || !cmp.Equal(rc.Out, tt.out) || rc.NoColor != tt.noColor {
				t.Errorf("mode %v summary %v export %q out %q noColor %v", rc.SummaryMode, rc.Summary, rc.SummaryExport, rc.Out, rc.NoColor)
			}
		})
	}
	if _, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), env: options{SummaryMode: str("legacy")}})); err == nil || !strings.Contains(err.Error(), `invalid --summary-mode "legacy"`) {
		t.Errorf("invalid mode: %v", err)
	}
}

// TestConsolidateTierOrder checks each tier against the one below it, for a scalar, the
// execution shortcuts and the tags.
func TestConsolidateTierOrder(t *testing.T) {
	v := func(n int64) options { return options{VUs: &n} }
	names := []string{"defaults", "file", "script", "env", "flags"}
	for lo := range names {
		for hi := lo + 1; hi < len(names); hi++ {
			var tr tiers
			set := func(i int, o options) {
				switch i {
				case 0:
					tr.defaults = o
				case 1:
					tr.file = o
				case 2:
					tr.script = o
				case 3:
					tr.env = o
				case 4:
					tr.flags = o
				}
			}
			set(lo, v(int64(lo+1)))
			set(hi, v(int64(hi+1)))
			if got := *consolidate(tr).VUs; got != int64(hi+1) {
				t.Errorf("%s vs %s: vus %d, want the %s tier's", names[lo], names[hi], got, names[hi])
			}
		}
	}
	// The script's logger output cannot come from the script: only env and flags set it.
	so, _ := parseScriptOptions(json.RawMessage(`{"logOutput":"stdout"}`))
	if so.LogOutput != nil {
		t.Errorf("script set logOutput %q", *so.LogOutput)
	}
}

// TestTestOptionsJSON: the options k6/execution's test.options shows are in k6's shape:
// k6's defaults for systemTags and summaryTrendStats, dns with lower-case keys (null when
// unset, as k6), consoleOutput and localIPs from the flags, k6 keys kept aside (ext), and
// the scenarios as run.
func TestTestOptionsJSON(t *testing.T) {
	so, err := parseScriptOptions(json.RawMessage(`{"vus":2,"duration":"3s","ext":{"loadimpact":{"name":"x"}},"dns":{"ttl":"1m"}}`))
	if err != nil {
		t.Fatal(err)
	}
	console := "out.log"
	rc, err := newRunConfig(consolidate(tiers{defaults: defaultOptions(), script: so, flags: options{ConsoleOutput: &console, LocalIPs: []string{"10.0.0.1", "10.0.0.2"}}}))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(rc.Test.OptionsJSON, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"systemTags":        `["check","error","error_code","expected_response","group","method","name","proto","scenario","service","status","subproto","tls_version","url"]`,
		"summaryTrendStats": `["avg","min","med","max","p(90)","p(95)"]`,
		"dns":               `{"policy":null,"select":null,"ttl":"1m"}`,
		"consoleOutput":     `"out.log"`,
		"localIPs":          `"10.0.0.1,10.0.0.2"`,
		"ext":               `{"loadimpact":{"name":"x"}}`,
	}
	for k, w := range want {
		if string(got[k]) != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
	var scen map[string]map[string]any
	if err := json.Unmarshal(got["scenarios"], &scen); err != nil || scen["default"]["executor"] != "constant-vus" {
		t.Errorf("scenarios %s (%v)", got["scenarios"], err)
	}
}
