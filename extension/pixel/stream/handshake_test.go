package stream

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// rawServer accepts one connection at a time and answers the upgrade with respond(key),
// where key is the client's Sec-WebSocket-Key; then it runs after(conn), if set.
func rawServer(t *testing.T, respond func(key string) string, after func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if _, err := c.Write([]byte(respond(req.Header.Get("Sec-WebSocket-Key")))); err != nil {
					return
				}
				if after != nil {
					after(c, br)
				}
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/ws/pixel-multimodal"
}

func upgradeResponse(key string, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\n" + extra + "\r\n"
}

func TestHandshakeRejections(t *testing.T) {
	cases := []struct {
		name    string
		respond func(key string) string
		want    string
	}{
		{"wrong accept key", func(string) string { return upgradeResponse("not-the-key", "") }, "Sec-WebSocket-Accept"},
		{"no upgrade header", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
		}, "Upgrade: websocket"},
		{"subprotocol not offered", func(key string) string { return upgradeResponse(key, "Sec-WebSocket-Protocol: other\r\n") }, `subprotocol "other"`},
		{"extension not offered", func(key string) string {
			return upgradeResponse(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
		}, "extensions"},
		{"plain 200", func(string) string { return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" }, "HTTP 200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := rawServer(t, c.respond, nil)
			res := testDriver(t).Run(context.Background(), textConfig(url, 1), nil)
			if res.Kind != ErrHandshake || !strings.Contains(res.Err.Error(), c.want) {
				t.Fatalf("kind %q, err %v; want %q mentioning %q", res.Kind, res.Err, ErrHandshake, c.want)
			}
		})
	}
}

func TestForbiddenHeader(t *testing.T) {
	cfg := textConfig("ws://127.0.0.1:1/", 1)
	cfg.Header = http.Header{"Sec-Websocket-Key": {"x"}}
	res := testDriver(t).Run(context.Background(), cfg, nil)
	if res.Kind != ErrDial || !strings.Contains(res.Err.Error(), "Sec-Websocket-Key") {
		t.Fatalf("kind %q, err %v; want a dial error naming the header", res.Kind, res.Err)
	}
}

// TestBytesAfterTheUpgradeAreKept: a server that sends its first messages in the same
// write as its 101 response; the client must not lose them, and the close handshake must
// complete (the client drops the connection when the server answers its close frame).
func TestBytesAfterTheUpgradeAreKept(t *testing.T) {
	var closeCode atomic.Int32
	dropped := make(chan time.Time, 1)
	url := rawServer(t, func(key string) string {
		b := []byte(upgradeResponse(key, ""))
		b = wsframe.AppendFrame(b, wsframe.OpText, []byte(`{"type":"ready","session_id":"x"}`), false, [4]byte{})
		b = wsframe.AppendFrame(b, wsframe.OpText, []byte(`{"type":"inference","crisis":{"detected":false},"bias":{"detected":false}}`), false, [4]byte{})
		return string(b)
	}, func(c net.Conn, br *bufio.Reader) {
		rd := wsframe.Reader{Masked: true}
		var in []byte
		buf := make([]byte, 4096)
		for {
			n, err := br.Read(buf)
			if err != nil {
				return
			}
			in = append(in, buf[:n]...)
			for {
				m, k, ok, err := rd.Next(in)
				in = in[k:]
				if err != nil {
					return
				}
				if !ok {
					break
				}
				if m.Op == wsframe.OpClose {
					code, _, _ := wsframe.ParseClosePayload(m.Payload)
					closeCode.Store(int32(code))
					_, _ = c.Write(wsframe.AppendFrame(nil, wsframe.OpClose, wsframe.AppendClosePayload(nil, code, ""), false, [4]byte{}))
					// The client closes the connection on the answer.
					_ = c.SetReadDeadline(time.Now().Add(time.Minute))
					var ne net.Error
					if _, err := br.Read(buf); err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
						dropped <- time.Now()
					}
					return
				}
			}
		}
	})
	cfg := textConfig(url, 0)
	d := testDriver(t)
	d.closeWait = time.Hour // only the server's answer can end the session's connection
	res := d.Run(context.Background(), cfg, nil)
	if res.Err != nil || !res.GotInference || res.MsgsRecv != 2 {
		t.Fatalf("result %+v; want success with ready and inference received", res)
	}
	select {
	case <-dropped:
	case <-time.After(30 * time.Second):
		t.Fatal("the client never closed the connection after the close handshake: the server's answer was not noticed")
	}
	if closeCode.Load() != wsframe.CloseNormal {
		t.Fatalf("server got close code %d; want 1000", closeCode.Load())
	}
}

func TestServerPingIsAnswered(t *testing.T) {
	var pongs atomic.Int32
	srv := newTestServer(t, behaviour{pingAt: 2, pongs: &pongs})
	res := testDriver(t).Run(context.Background(), textConfig(srv.URL, 5), nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if pongs.Load() != 1 {
		t.Fatalf("server got %d pongs; want 1", pongs.Load())
	}
}

func TestFragmentedServerMessages(t *testing.T) {
	srv := newTestServer(t, behaviour{fragment: true})
	res := testDriver(t).Run(context.Background(), textConfig(srv.URL, 5), nil)
	if res.Err != nil || res.ChunksAcked != 5 || !res.GotInference {
		t.Fatalf("result %+v; want 5 acks and the inference from fragmented messages", res)
	}
}
