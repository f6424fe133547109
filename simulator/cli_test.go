package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestRunMaxLife(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"--addr", "127.0.0.1:0", "--max-life", "100ms", "--latency", "0"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"pixelsim listening on http://127.0.0.1:", "latency=0 ", "shutting down (max-life reached)"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// TestRunServes starts the CLI, talks to it over the URL it prints and stops it by
// cancelling the context, as SIGINT does.
func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"--addr=127.0.0.1:0", "--latency=fixed:1ms", "--error-rate=1", "--error-status=503"}, pw, &stderr)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("no output; stderr %q", stderr.String())
	}
	base, ok := strings.CutPrefix(sc.Text(), "pixelsim listening on ")
	if !ok {
		t.Fatalf("first line %q", sc.Text())
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		rest <- b.String()
	}()
	res, err := http.Get(base + PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil || h["status"] != "ok" {
		t.Errorf("health: %v %v", h, err)
	}
	res.Body.Close()
	res, err = http.Post(base+PathInfer, "application/json", strings.NewReader(`{"prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Errorf("infer with --error-rate=1 --error-status=503: %d", res.StatusCode)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d after cancel; stderr %q", code, stderr.String())
	}
	if out := <-rest; !strings.Contains(out, "shutting down (signal)") || !strings.Contains(out, "served 2 requests") {
		t.Errorf("output after start:\n%s", out)
	}
}

func TestRunUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"help", []string{"-h"}, ExitOK, "Usage: pixelsim"},
		{"non-loopback without --public", []string{"--addr", "0.0.0.0:0"}, ExitUsage, "add --public"},
		{"hostname without --public", []string{"--addr", "example.com:80"}, ExitUsage, "not a loopback"},
		{"bad addr", []string{"--addr", "nonsense"}, ExitUsage, `"nonsense"`},
		{"bad latency", []string{"--latency", "soon"}, ExitUsage, `"soon"`},
		{"bad rate", []string{"--error-rate", "2"}, ExitUsage, "--error-rate 2"},
		{"bad status", []string{"--error-status", "200"}, ExitUsage, "--error-status 200"},
		{"unknown flag", []string{"--nope"}, ExitUsage, "nope"},
		{"positional", []string{"serve"}, ExitUsage, `"serve"`},
		{"negative max-life", []string{"--max-life", "-1s"}, ExitUsage, "max-life"},
		{"port in use", []string{"--addr", busy.Addr().String()}, ExitError, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.msg)
			}
		})
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
		ok     bool
	}{
		{"127.0.0.1:5173", false, true},
		{"[::1]:0", false, true},
		{"localhost:0", false, true},
		{"127.0.0.2:0", false, true},
		{"0.0.0.0:0", false, false},
		{":5173", false, false},
		{":5173", true, true},
		{"10.1.2.3:80", true, true},
	}
	for _, tt := range tests {
		if err := checkAddr("addr", tt.addr, tt.public); (err == nil) != tt.ok {
			t.Errorf("checkAddr(%q, %v) = %v, want ok=%v", tt.addr, tt.public, err, tt.ok)
		}
	}
}
