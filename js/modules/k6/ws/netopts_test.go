package ws

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TestHTTPOptionsApplyToWebSockets: insecureSkipTLSVerify, hosts and blockHostnames reach
// k6/ws as they reach k6/http (k6 dials both the same way).
func TestHTTPOptionsApplyToWebSockets(t *testing.T) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_, _, _ = c.ReadMessage() // until the client closes
	})
	tlsSrv := httptest.NewTLSServer(handler)
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	_, port, _ := net.SplitHostPort(plain.Listener.Addr().String())
	wss := "wss" + strings.TrimPrefix(tlsSrv.URL, "https") + "/"
	tests := []struct {
		name string
		opts modules.Options
		url  string
		ok   bool
	}{
		{"wss with a self-signed certificate fails", modules.Options{}, wss, false},
		{"insecureSkipTLSVerify connects to it", modules.Options{InsecureSkipTLSVerify: true}, wss, true},
		{"hosts sends a name to the loopback server", modules.Options{Hosts: map[string]string{"myhost.test": "127.0.0.1"}}, "ws://myhost.test:" + port + "/", true},
		{"blockHostnames refuses it", modules.Options{Hosts: map[string]string{"myhost.test": "127.0.0.1"}, BlockHostnames: []string{"*.test"}}, "ws://myhost.test:" + port + "/", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.State.Options = tc.opts
			v := h.MustRunString(`ws.connect("` + tc.url + `", {}, function (socket) { socket.on('open', function () { socket.close(); }); }).status === 101`)
			if ok := v.ToBoolean(); ok != tc.ok {
				t.Fatalf("connected: %v, want %v; logs %q", ok, tc.ok, h.Logs.Lines())
			}
		})
	}
}
