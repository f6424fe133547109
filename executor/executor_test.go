package executor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const s = time.Second

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		err      string
	}{
		{"seconds", "30s", 30 * s, ""},
		{"minutes and seconds", "1m30s", 90 * s, ""},
		{"hours", "1h", time.Hour, ""},
		{"fraction", "1.5s", 1500 * time.Millisecond, ""},
		{"millis", "250ms", 250 * time.Millisecond, ""},
		{"days", "2d", 48 * time.Hour, ""},
		{"bare number is ms", "500", 500 * time.Millisecond, ""},
		{"zero", "0", 0, ""},
		{"spaces trimmed", " 10s ", 10 * s, ""},
		{"empty", "", 0, "empty"},
		{"unknown unit", "10x", 0, `unknown unit "x"`},
		{"negative", "-5s", 0, `expected a number at "-5s"`},
		{"negative ms", "-5", 0, "non-negative"},
		{"missing unit", "1m30", 0, "missing unit"},
		{"garbage", "abc", 0, `"abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseDuration(%q) error = %v, want containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     Duration
		bad      bool
	}{
		{"string", `"1m"`, Duration(time.Minute), false},
		{"number ms", `1500`, Duration(1500 * time.Millisecond), false},
		{"bad string", `"1q"`, 0, true},
		{"negative number", `-1`, 0, true},
		{"bool", `true`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Duration
			err := json.Unmarshal([]byte(tt.in), &d)
			if (err != nil) != tt.bad || d != tt.want {
				t.Fatalf("Unmarshal(%s) = %v, %v", tt.in, d, err)
			}
		})
	}
}

func TestParseStages(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Stage
		err      string
	}{
		{"one", "30s:10", []Stage{{Duration(30 * s), 10}}, ""},
		{"comma separated", "30s:10,1m:0", []Stage{{Duration(30 * s), 10}, {Duration(time.Minute), 0}}, ""},
		{"target omitted", "5s:", []Stage{{Duration(5 * s), 0}}, ""},
		{"no colon", "30s", nil, `invalid stage "30s"`},
		{"bad target", "30s:x", nil, `target "x"`},
		{"negative target", "30s:-1", nil, `target "-1"`},
		{"bad duration", "3q:1", nil, `unknown unit "q"`},
		{"empty item", "30s:1,,", nil, "empty stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStages(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseStages(%q) error = %v, want containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseStages(%q) -want +got:\n%s", tt.in, diff)
			}
		})
	}
}

func TestPlans(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Plan
		desc string
	}{
		{
			name: "constant-vus",
			json: `{"executor":"constant-vus","vus":5,"duration":"5s"}`,
			want: Plan{Steps: []Step{{0, 5}}, Duration: 5 * s, GracefulStop: 30 * s, MaxVUs: 5},
			desc: "5 looping VUs for 5s (gracefulStop: 30s)",
		},
		{
			name: "constant-vus defaults to 1 VU, ms number, startTime",
			json: `{"executor":"constant-vus","duration":2000,"gracefulStop":"1s","startTime":"3s"}`,
			want: Plan{Steps: []Step{{0, 1}}, Duration: 2 * s, GracefulStop: 1 * s, MaxVUs: 1},
			desc: "1 looping VUs for 2s (startTime: 3s, gracefulStop: 1s)",
		},
		{
			name: "ramping-vus as rest.js",
			json: `{"executor":"ramping-vus","startVUs":0,"stages":[{"duration":"5s","target":5},{"duration":"5s","target":10}],"gracefulRampDown":"2s"}`,
			want: Plan{
				Steps: []Step{{0, 0}, {1 * s, 1}, {2 * s, 2}, {3 * s, 3}, {4 * s, 4}, {5 * s, 5},
					{6 * s, 6}, {7 * s, 7}, {8 * s, 8}, {9 * s, 9}, {10 * s, 10}},
				Duration: 10 * s, GracefulStop: 30 * s, GracefulRampDown: 2 * s, MaxVUs: 10,
			},
			desc: "Up to 10 looping VUs for 10s over 2 stages (gracefulRampDown: 2s, gracefulStop: 30s)",
		},
		{
			name: "ramping-vus down, plateau and jump",
			json: `{"executor":"ramping-vus","startVUs":4,"stages":[{"duration":"4s","target":2},{"duration":"2s","target":2},{"duration":"0s","target":7},{"duration":"3s","target":0}],"gracefulStop":"0s"}`,
			want: Plan{
				Steps: []Step{{0, 4}, {2 * s, 3}, {4 * s, 2}, {6 * s, 7},
					{6*s + 428571428, 6}, {6*s + 857142857, 5}, {7*s + 285714285, 4}, {7*s + 714285714, 3},
					{8*s + 142857142, 2}, {8*s + 571428571, 1}, {9 * s, 0}},
				Duration: 9 * s, GracefulStop: 0, GracefulRampDown: 30 * s, MaxVUs: 7,
			},
			desc: "Up to 7 looping VUs for 9s over 4 stages (gracefulRampDown: 30s, gracefulStop: 0s)",
		},
		{
			name: "per-vu-iterations",
			json: `{"executor":"per-vu-iterations","vus":3,"iterations":4,"maxDuration":"20s","exec":"other"}`,
			want: Plan{Steps: []Step{{0, 3}}, Duration: 20 * s, GracefulStop: 30 * s, MaxVUs: 3, PerVUIterations: 4},
			desc: "4 iterations for each of 3 VUs (maxDuration: 20s, gracefulStop: 30s, exec: other)",
		},
		{
			name: "shared-iterations defaults",
			json: `{"executor":"shared-iterations"}`,
			want: Plan{Steps: []Step{{0, 1}}, Duration: 10 * time.Minute, GracefulStop: 30 * s, MaxVUs: 1, SharedIterations: 1},
			desc: "1 iterations shared among 1 VUs (maxDuration: 10m0s, gracefulStop: 30s)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseScenario("sc", json.RawMessage(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.Plan()); diff != "" {
				t.Errorf("plan -want +got:\n%s", diff)
			}
			if got := c.Describe(); got != tt.desc {
				t.Errorf("Describe() = %q, want %q", got, tt.desc)
			}
		})
	}
}

func TestPlanVUsAt(t *testing.T) {
	p := Plan{Steps: []Step{{0, 1}, {2 * s, 5}, {4 * s, 0}}}
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {1999 * time.Millisecond, 1}, {2 * s, 5}, {3 * s, 5}, {10 * s, 0}} {
		if got := p.VUsAt(tc.at); got != tc.want {
			t.Errorf("VUsAt(%v) = %d, want %d", tc.at, got, tc.want)
		}
	}
}

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct{ name, json, err string }{
		{"unknown executor", `{"executor":"arrival"}`, `unsupported executor "arrival"`},
		{"missing executor", `{"vus":1}`, "missing executor"},
		{"zero vus", `{"executor":"constant-vus","vus":0,"duration":"1s"}`, "vus 0 must be in"},
		{"no duration", `{"executor":"constant-vus","vus":1}`, `duration "0s"`},
		{"bad duration", `{"executor":"constant-vus","duration":"1y"}`, `unknown unit "y"`},
		{"no stages", `{"executor":"ramping-vus"}`, "at least one stage"},
		{"negative target", `{"executor":"ramping-vus","stages":[{"duration":"1s","target":-2}]}`, "target -2"},
		{"zero stage time", `{"executor":"ramping-vus","stages":[{"duration":"0s","target":2}]}`, "total duration"},
		{"more vus than iterations", `{"executor":"shared-iterations","vus":5,"iterations":2}`, "VUs (5)"},
		{"zero iterations", `{"executor":"per-vu-iterations","iterations":0}`, "iterations 0"},
		{"negative gracefulStop", `{"executor":"per-vu-iterations","gracefulStop":-1}`, `invalid duration "-1"`},
		{"wrong type", `{"executor":"constant-vus","vus":"many"}`, "vus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario("sc", json.RawMessage(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want containing %q", err, tt.err)
			}
		})
	}
	if _, err := ParseScenario("bad name!", json.RawMessage(`{"executor":"shared-iterations"}`)); err == nil {
		t.Fatal("a bad scenario name was accepted")
	}
}

func TestParseScenariosSorted(t *testing.T) {
	cs, err := ParseScenarios(json.RawMessage(`{"b":{"executor":"shared-iterations"},"a":{"executor":"constant-vus","duration":"1s","startTime":"10s"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Base().Name != "a" || cs[1].Base().Name != "b" {
		t.Fatalf("names = %s, %s", cs[0].Base().Name, cs[1].Base().Name)
	}
	vus, d := Summary(cs)
	if vus != 2 || d != 10*time.Minute+30*s {
		t.Fatalf("Summary = %d, %v", vus, d)
	}
}

func TestFromShortcuts(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	dur := func(d time.Duration) *Duration { x := Duration(d); return &x }
	tests := []struct {
		name     string
		in       Shortcuts
		executor string
		plan     Plan
		err      string
	}{
		{"nothing", Shortcuts{}, "per-vu-iterations",
			Plan{Steps: []Step{{0, 1}}, Duration: 10 * time.Minute, GracefulStop: 30 * s, MaxVUs: 1, PerVUIterations: 1}, ""},
		{"vus and duration", Shortcuts{VUs: i(5), Duration: dur(5 * s)}, "constant-vus",
			Plan{Steps: []Step{{0, 5}}, Duration: 5 * s, GracefulStop: 30 * s, MaxVUs: 5}, ""},
		{"iterations and vus", Shortcuts{VUs: i(2), Iterations: i(10)}, "shared-iterations",
			Plan{Steps: []Step{{0, 2}}, Duration: 10 * time.Minute, GracefulStop: 30 * s, MaxVUs: 2, SharedIterations: 10}, ""},
		{"iterations with duration as maxDuration", Shortcuts{Iterations: i(3), Duration: dur(7 * s)}, "shared-iterations",
			Plan{Steps: []Step{{0, 1}}, Duration: 7 * s, GracefulStop: 30 * s, MaxVUs: 1, SharedIterations: 3}, ""},
		{"stages with vus as startVUs", Shortcuts{VUs: i(2), Stages: []Stage{{Duration(2 * s), 0}}}, "ramping-vus",
			Plan{Steps: []Step{{0, 2}, {1 * s, 1}, {2 * s, 0}}, Duration: 2 * s, GracefulStop: 30 * s, GracefulRampDown: 30 * s, MaxVUs: 2}, ""},
		{"duration and stages", Shortcuts{Duration: dur(s), Stages: []Stage{{Duration(s), 1}}}, "", Plan{}, "duration (1s) and stages"},
		{"iterations and stages", Shortcuts{Iterations: i(1), Stages: []Stage{{Duration(s), 1}}}, "", Plan{}, "iterations (1) and stages"},
		{"zero duration", Shortcuts{Duration: dur(0)}, "", Plan{}, `invalid duration "0s"`},
		{"zero vus", Shortcuts{VUs: i(0), Duration: dur(s)}, "", Plan{}, "vus 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromShortcuts(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Base().Executor != tt.executor || c.Base().Name != "default" {
				t.Errorf("executor = %q name %q", c.Base().Executor, c.Base().Name)
			}
			if diff := cmp.Diff(tt.plan, c.Plan()); diff != "" {
				t.Errorf("plan -want +got:\n%s", diff)
			}
		})
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1m30s", "1.5h", "500", "2d", "", "-1s", "1e400", "5µs", "1.2.3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDuration(in)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", in, d)
		}
		back, err := ParseDuration(d.String())
		// Float parsing is exact to about 1 part in 2^52.
		if diff := back - d; err != nil || diff > d>>50+1 || diff < -(d>>50+1) {
			t.Fatalf("round trip of %q: %v → %q → %v, %v", in, d, d.String(), back, err)
		}
	})
}

func FuzzParseStages(f *testing.F) {
	for _, s := range []string{"30s:10", "1m:0,10s:5", "5s:", ":3", "a:b", "1s:1,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStages(in)
		if err != nil {
			return
		}
		for _, x := range st {
			if x.Duration < 0 || x.Target < 0 || x.Target > maxVUs {
				t.Fatalf("ParseStages(%q) gave out-of-range stage %+v", in, x)
			}
		}
	})
}
