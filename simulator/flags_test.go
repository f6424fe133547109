package simulator

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunFlags checks every flag of pixelsim with values it takes (the server starts and,
// its context being done already, stops: exit 0) and values it refuses (exit 2 before
// listening, with a message naming the flag and the value).
func TestRunFlags(t *testing.T) {
	maxLoops := strconv.Itoa(MaxWSLoops())
	overLoops := strconv.Itoa(MaxWSLoops() + 1)
	type bad struct{ value, msg string }
	tests := []struct {
		flag string
		good []string
		bad  []bad
	}{
		{"addr", []string{"127.0.0.1:0", "localhost:0"}, []bad{
			{"0.0.0.0:0", `--addr "0.0.0.0:0" is not a loopback address`}, {"nonsense", `--addr "nonsense"`}}},
		{"grpc-addr", []string{"", "127.0.0.1:0", "localhost:0"}, []bad{
			{"0.0.0.0:0", `--grpc-addr "0.0.0.0:0" is not a loopback address`}, {"nonsense", `--grpc-addr "nonsense"`}}},
		{"public", []string{"true", "false"}, []bad{{"maybe", `invalid boolean value "maybe" for -public`}}},
		{"max-life", []string{"0", "1h"}, []bad{{"-1s", "--max-life -1s: must not be negative"},
			{"soon", `invalid value "soon" for flag -max-life`}}},
		{"latency", []string{"0", "none", "fixed:50ms", "50ms", "lognormal:20ms,120ms"}, []bad{
			{"soon", `invalid value "soon" for flag -latency`},
			{"fixed:-1s", `invalid value "fixed:-1s" for flag -latency: latency fixed:-1s: durations must not be negative`},
			{"lognormal:120ms,20ms", `invalid value "lognormal:120ms,20ms" for flag -latency`}}},
		{"seed", []string{"0", "18446744073709551615"}, []bad{{"-1", `invalid value "-1" for flag -seed`}}},
		{"capacity", []string{"0", "1", "1048576"}, []bad{
			{"-1", "--capacity -1: must be in [0, 1048576] (0: unlimited)"},
			{"1048577", "--capacity 1048577: must be in [0, 1048576]"},
			{"many", `invalid value "many" for flag -capacity`}}},
		{"queue", []string{"0", "1048576"}, []bad{
			{"-1", "--queue -1: must be in [0, 1048576]"}, {"1048577", "--queue 1048577: must be in [0, 1048576]"}}},
		{"reject-status", []string{"429", "503"}, []bad{
			{"500", "--reject-status 500: must be 429 or 503"}, {"0", "--reject-status 0: must be 429 or 503"},
			{"200", "--reject-status 200: must be 429 or 503"}, {"-429", "--reject-status -429: must be 429 or 503"}}},
		{"model", []string{"m", "pixel-sim-2 ✓"}, []bad{
			{"", `--model "": must not be empty`}, {"\xff", `--model "\xff": must be valid UTF-8`}}},
		{"max-body", []string{"1", "1073741824"}, []bad{
			{"0", "--max-body 0: must be in [1, 1073741824] bytes"}, {"-1", "--max-body -1: must be in [1, 1073741824] bytes"},
			{"1073741825", "--max-body 1073741825: must be in [1, 1073741824] bytes"}}},
		{"error-rate", []string{"0", "0.5", "1"}, []bad{
			{"-0.1", "--error-rate -0.1: must be in [0,1]"}, {"1.5", "--error-rate 1.5: must be in [0,1]"},
			{"NaN", "--error-rate NaN: must be in [0,1]"}}},
		{"error-status", []string{"400", "503", "599"}, []bad{
			{"0", "--error-status 0: must be a 4xx or 5xx status"}, {"200", "--error-status 200: must be a 4xx or 5xx status"},
			{"600", "--error-status 600: must be a 4xx or 5xx status"}, {"-500", "--error-status -500: must be a 4xx or 5xx status"}}},
		{"slow-rate", []string{"0", "1"}, []bad{{"2", "--slow-rate 2: must be in [0,1]"}, {"-1", "--slow-rate -1: must be in [0,1]"}}},
		{"slow-extra", []string{"0", "1s"}, []bad{{"-1ms", "--slow-extra -1ms: must not be negative"}}},
		{"stall-rate", []string{"0", "1"}, []bad{{"1.01", "--stall-rate 1.01: must be in [0,1]"}, {"-Inf", "--stall-rate -Inf: must be in [0,1]"}}},
		{"stall-for", []string{"0", "1s"}, []bad{{"-1s", "--stall-for -1s: must not be negative"}}},
		{"drop-rate", []string{"0", "1"}, []bad{{"+Inf", "--drop-rate +Inf: must be in [0,1]"}, {"-0.5", "--drop-rate -0.5: must be in [0,1]"}}},
		{"ws-read-limit", []string{"1", "1073741824"}, []bad{
			{"0", "--ws-read-limit 0: must be in [1, 1073741824] bytes"}, {"-1", "--ws-read-limit -1: must be in [1, 1073741824] bytes"},
			{"1073741825", "--ws-read-limit 1073741825: must be in [1, 1073741824] bytes"}}},
		{"ws-text-budget", []string{"1", "268435456", "1099511627776"}, []bad{
			{"0", "--ws-text-budget 0: must be positive"}, {"-1", "--ws-text-budget -1: must not be negative"}}},
		{"ws-idle-timeout", []string{"1ms", "1h"}, []bad{
			{"0", "--ws-idle-timeout 0s: must be positive"}, {"-1s", "--ws-idle-timeout -1s: must not be negative"}}},
		{"ws-pong-wait", []string{"1ms", "1h"}, []bad{
			{"0", "--ws-pong-wait 0s: must be positive"}, {"-1s", "--ws-pong-wait -1s: must not be negative"}}},
		{"ws-loops", []string{"1", maxLoops}, []bad{
			{"0", "--ws-loops 0: must be in [1, " + maxLoops + "]"}, {"-1", "--ws-loops -1: must be in [1, " + maxLoops + "]"},
			{overLoops, "--ws-loops " + overLoops + ": must be in [1, " + maxLoops + "] (at most max(64, 4×GOMAXPROCS))"},
			{"3000", "--ws-loops 3000: must be in [1, " + maxLoops + "]"}}},
	}
	var cfg Config
	var opts cliOptions
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.flag] = len(tt.good) > 0 && len(tt.bad) > 0
	}
	newFlagSet(&cfg, &opts, io.Discard).VisitAll(func(f *flag.Flag) {
		if !covered[f.Name] {
			t.Errorf("flag --%s has no good and bad values in this test", f.Name)
		}
	})

	done, cancel := context.WithCancel(context.Background())
	cancel() // Run starts the server, sees its context done and stops
	for _, tt := range tests {
		for _, v := range tt.good {
			t.Run(tt.flag+"="+v, func(t *testing.T) {
				args := []string{"--" + tt.flag + "=" + v}
				if tt.flag != "addr" {
					args = append(args, "--addr=127.0.0.1:0")
				}
				var stdout, stderr bytes.Buffer
				if code := Run(done, args, &stdout, &stderr); code != ExitOK {
					t.Errorf("exit %d, want 0; stderr %q", code, stderr.String())
				}
				if !strings.HasPrefix(stdout.String(), "pixelsim listening on http://") {
					t.Errorf("stdout %q", stdout.String())
				}
			})
		}
		for _, b := range tt.bad {
			if b.value == "3000" && MaxWSLoops() >= 3000 {
				continue
			}
			t.Run(tt.flag+"="+b.value, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := Run(done, []string{"--addr=127.0.0.1:0", "--" + tt.flag + "=" + b.value}, &stdout, &stderr)
				if code != ExitUsage {
					t.Errorf("exit %d, want 2", code)
				}
				if !strings.Contains(stderr.String(), b.msg) {
					t.Errorf("stderr %q lacks %q", stderr.String(), b.msg)
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout %q: the server started", stdout.String())
				}
			})
		}
	}
}

// TestRunFlagsAllErrors: every bad flag is reported, each on its own line.
func TestRunFlagsAllErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"--capacity=-1", "--queue=-2", "--ws-loops=0", "--reject-status=500"}, &stdout, &stderr)
	want := "pixelsim: --capacity -1: must be in [0, 1048576] (0: unlimited)\n" +
		"pixelsim: --queue -2: must be in [0, 1048576]\n" +
		"pixelsim: --reject-status 500: must be 429 or 503\n" +
		"pixelsim: --ws-loops 0: must be in [1, " + strconv.Itoa(MaxWSLoops()) + "] (at most max(64, 4×GOMAXPROCS))\n"
	if code != ExitUsage || stderr.String() != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr.String(), want)
	}
}

// TestConfigLimits: New takes every field's zero (its default) and its bounds, and
// refuses what is beyond them with a *ConfigError naming the field.
func TestConfigLimits(t *testing.T) {
	if _, err := New(Config{}); err != nil {
		t.Fatalf("New(Config{}): %v", err)
	}
	good := []Config{
		{Capacity: MaxCapacity, QueueLimit: MaxCapacity, RejectStatus: 503, MaxBodyBytes: MaxBytesLimit},
		{WS: WSConfig{ReadLimit: MaxBytesLimit, MaxSessionText: MaxBytesLimit, SendQueue: maxSendQueue, Loops: MaxWSLoops(), TextBudget: 1}},
		{Faults: Faults{ErrorStatus: 599, ErrorRate: 1, SlowRate: 1, StallRate: 1, DropRate: 1, SlowExtra: time.Hour, StallFor: time.Hour}},
	}
	for _, cfg := range good {
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
	for _, tc := range []struct {
		field string
		cfg   Config
	}{
		{"Capacity", Config{Capacity: -1}},
		{"Capacity", Config{Capacity: MaxCapacity + 1}},
		{"QueueLimit", Config{QueueLimit: -1}},
		{"RejectStatus", Config{RejectStatus: 500}},
		{"Model", Config{Model: "\xff"}},
		{"MaxBodyBytes", Config{MaxBodyBytes: -1}},
		{"MaxBodyBytes", Config{MaxBodyBytes: MaxBytesLimit + 1}},
		{"WS.ReadLimit", Config{WS: WSConfig{ReadLimit: -1}}},
		{"WS.MaxSessionText", Config{WS: WSConfig{MaxSessionText: -1}}},
		{"WS.TextBudget", Config{WS: WSConfig{TextBudget: -1}}},
		{"WS.IdleTimeout", Config{WS: WSConfig{IdleTimeout: -time.Second}}},
		{"WS.PongWait", Config{WS: WSConfig{PongWait: -time.Second}}},
		{"WS.SendQueue", Config{WS: WSConfig{SendQueue: -1}}},
		{"WS.SendQueue", Config{WS: WSConfig{SendQueue: maxSendQueue + 1}}},
		{"WS.Loops", Config{WS: WSConfig{Loops: -1}}},
		{"WS.Loops", Config{WS: WSConfig{Loops: MaxWSLoops() + 1}}},
		{"Faults.ErrorStatus", Config{Faults: Faults{ErrorStatus: 302}}},
		{"Faults.StallFor", Config{Faults: Faults{StallFor: -time.Second}}},
		{"Latency", Config{Latency: Latency{Median: -time.Second, P99: -time.Second}}},
	} {
		_, err := New(tc.cfg)
		ce, ok := errors.AsType[*ConfigError](err)
		if !ok || ce.Field != tc.field {
			t.Errorf("New(%+v) = %v, want a *ConfigError of %s", tc.cfg, err, tc.field)
		}
	}
}
