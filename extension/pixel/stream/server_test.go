package stream

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// behaviour configures the loopback test server; the zero value is a well-behaved
// Pixelated Empathy stream endpoint.
type behaviour struct {
	reject      int           // answer the upgrade with this HTTP status
	noReady     bool          // never answer start
	noAcks      bool          // never ack chunks
	ackNoSeq    bool          // ack without client_seq (in-order matching)
	ackBadSeq   bool          // ack a client_seq that was never sent
	garbageAt   int           // after this many chunks, send a non-JSON message
	closeAt     int           // after this many chunks, close the connection (code 1011)
	dropAt      int           // after this many chunks, drop the TCP connection without a close frame
	errorAt     int           // after this many chunks, send {"type":"error"}
	binaryAt    int           // after this many chunks, send a binary message
	silentEnd   bool          // never answer end
	ackDelay    time.Duration // delay every ack
	crisis      bool          // the inference flags a crisis
	subprotocol string        // required subprotocol
	pingAt      int           // after this many chunks, ping (the pong is counted in pongs)
	fragment    bool          // send every message in fragments of a few bytes
	pongs       *atomic.Int32 // pongs received (pingAt)
}

type testServer struct {
	*httptest.Server
	URL string
}

func newTestServer(t testing.TB, b behaviour) *testServer {
	t.Helper()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	if b.fragment {
		up.WriteBufferSize = 16 // gorilla sends a frame per buffer
	}
	if b.subprotocol != "" {
		up.Subprotocols = []string{b.subprotocol}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.reject != 0 {
			http.Error(w, "go away", b.reject)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if b.pongs != nil {
			c.SetPongHandler(func(string) error { b.pongs.Add(1); return nil })
		}
		serve(c, b)
	})
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &testServer{Server: s, URL: "ws" + strings.TrimPrefix(s.URL, "http") + "/ws/pixel-multimodal"}
}

func serve(c *websocket.Conn, b behaviour) {
	chunks, acks := 0, 0
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		isChunk := mt == websocket.BinaryMessage || bytes.Contains(data, []byte(`"type":"chunk"`))
		switch {
		case bytes.Contains(data, []byte(`"type":"start"`)):
			if !b.noReady {
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ready","session_id":"x"}`))
			}
			continue
		case bytes.Contains(data, []byte(`"type":"end"`)):
			if b.silentEnd {
				continue
			}
			msg := fmt.Sprintf(`{"type":"inference","response":"I hear you.","latency_ms":12.5,"crisis":{"detected":%v,"risk_level":"high","confidence":0.9},"bias":{"detected":false,"categories":[],"score":0}}`, b.crisis)
			_ = c.WriteMessage(websocket.TextMessage, []byte(msg))
			continue
		case !isChunk:
			continue
		}
		chunks++
		clientSeq := chunks
		if mt == websocket.TextMessage {
			_, _ = fmt.Sscanf(string(data[bytes.Index(data, []byte(`"seq":`))+6:]), "%d", &clientSeq)
		}
		switch {
		case chunks == b.garbageAt:
			_ = c.WriteMessage(websocket.TextMessage, []byte("garbage <html>"))
		case chunks == b.closeAt:
			_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "overloaded"))
			return
		case chunks == b.dropAt:
			_ = c.NetConn().Close()
			return
		case chunks == b.errorAt:
			_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"error","message":"bad frame"}`))
		case chunks == b.binaryAt:
			_ = c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		case chunks == b.pingAt:
			_ = c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second))
		}
		if b.noAcks {
			continue
		}
		time.Sleep(b.ackDelay)
		acks++
		var ack string
		switch {
		case b.ackBadSeq:
			ack = fmt.Sprintf(`{"type":"chunk_ack","seq":%d,"client_seq":%d}`, acks, 1000+clientSeq)
		case b.ackNoSeq:
			ack = fmt.Sprintf(`{"type":"chunk_ack","seq":%d}`, acks)
		default:
			ack = fmt.Sprintf(`{"type":"chunk_ack","seq":%d,"client_seq":%d}`, acks, clientSeq)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(ack)); err != nil {
			return
		}
	}
}
