// Package websockets_test runs pixelk6's own k6/websockets scripts (the .js files beside
// it) through the runner against loopback servers: an echo server of this test's own
// (__ENV.ECHO_URL) and pixelsim's multimodal stream (__ENV.PIXEL_WS_URL). Each script
// declares `thresholds: { checks: ['rate==1'] }` and must run exactly its expected number
// of checks, all passing, with nothing logged, and record k6's WebSocket metrics.
package websockets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/cli"
	"github.com/pixelk6/pixelk6/simulator"
)

// echo is the scripts' echo server: it offers the subprotocol "chat" and permessage-deflate,
// answers "WHO-AM-I" with the upgrade request's headers as JSON, "PING-ME" with a ping,
// echoes everything else, and answers a close with the client's code and reason.
func echo(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{Subprotocols: []string{"chat"}, EnableCompression: true}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetCloseHandler(func(code int, text string) error {
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		})
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			switch {
			case mt == websocket.TextMessage && string(data) == "WHO-AM-I":
				h := map[string]string{}
				for k, v := range r.Header {
					h[k] = v[0]
				}
				b, _ := json.Marshal(h)
				err = c.WriteMessage(websocket.TextMessage, b)
			case mt == websocket.TextMessage && string(data) == "PING-ME":
				err = c.WriteControl(websocket.PingMessage, []byte("server"), time.Now().Add(time.Second))
			default:
				err = c.WriteMessage(mt, data)
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/echo"
}

// want is each script's number of checks and the k6 metrics its run must record.
var want = map[string]struct {
	checks  int
	metrics []string
}{
	"several-sockets.js":   {9, []string{"ws_sessions", "ws_connecting", "ws_msgs_sent", "ws_msgs_received", "ws_session_duration"}},
	"params-and-state.js":  {8, []string{"ws_sessions", "ws_connecting", "ws_msgs_sent", "ws_msgs_received", "ws_session_duration", "data_sent", "data_received"}},
	"binary-ping-close.js": {7, []string{"ws_sessions", "ws_connecting", "ws_msgs_sent", "ws_msgs_received", "ws_ping", "ws_session_duration"}},
	"pixel-stream.js":      {2, []string{"ws_sessions", "ws_connecting", "ws_msgs_sent", "ws_msgs_received", "ws_session_duration", "chunk_latency"}},
}

type summary struct {
	Metrics map[string]map[string]any `json:"metrics"`
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
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "ws://" + l.Addr().String() + "/"
	l.Close()
	for _, script := range scripts {
		w, ok := want[script]
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
			export := filepath.Join(t.TempDir(), "summary.json")
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), []string{"run", "-q", "--no-summary",
				"-e", "ECHO_URL=" + echo(t), "-e", "CLOSED_URL=" + closedURL,
				"-e", "PIXEL_WS_URL=ws" + strings.TrimPrefix(base, "http") + "/ws/pixel-multimodal",
				"--summary-export", export, script}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit code %d\n%s%s", code, stdout.String(), stderr.String())
			}
			if strings.Contains(stderr.String(), "level=") {
				t.Errorf("the script logged:\n%s", stderr.String())
			}
			var s summary
			b, err := os.ReadFile(export)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			c := s.Metrics["checks"]
			passes, _ := c["passes"].(float64)
			if fails, _ := c["fails"].(float64); fails != 0 || int(passes) != w.checks {
				t.Errorf("checks: %v passed, %v failed, want %d passed", passes, fails, w.checks)
			}
			for _, m := range w.metrics {
				if _, ok := s.Metrics[m]; !ok {
					t.Errorf("no %s in the summary", m)
				}
			}
		})
	}
}
