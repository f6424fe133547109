package wsframe

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
)

// The interop tests run wsframe against gorilla/websocket, the reference implementation
// at hand, over loopback TCP: a raw wsframe client against a gorilla echo server, and a
// gorilla client against a raw wsframe echo server. Each echo server answers a data
// message twice: once as one frame, once in fragments with a ping "mid" between them.
// The gorilla ends use 64-byte write buffers so that gorilla fragments what it writes.

// interopTimeout bounds every interop connection, so that a bug fails the test instead of
// hanging it.
const interopTimeout = 20 * time.Second

// interopPayloads are the message sizes sent both ways: each length encoding and its edges.
var interopPayloads = []int{0, 1, 125, 126, 1000, 65535, 65536, 70000}

// acceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// rawConn is one end of a WebSocket connection spoken with wsframe only.
type rawConn struct {
	conn   net.Conn
	in     *bufio.Reader // the handshake's reader: it may hold the first frames
	mask   bool          // a client: masks what it sends
	keys   *KeySource
	rd     Reader
	buf    []byte   // received bytes not yet consumed by rd
	frames []string // every frame received, as "op" (FIN set) or "op-" (FIN clear)
	out    []byte
}

func newRawConn(conn net.Conn, in *bufio.Reader, client bool) *rawConn {
	return &rawConn{conn: conn, in: in, mask: client, keys: NewKeySource(), rd: Reader{Masked: !client, MaxMessage: 1 << 20}}
}

// send writes one frame; fin false leaves FIN clear (a fragment).
func (c *rawConn) send(op byte, payload []byte, fin bool) error {
	c.out = appendFragment(c.out[:0], op, payload, fin, c.mask, c.keys.Next())
	_, err := c.conn.Write(c.out)
	return err
}

// next returns the next message or control frame.
func (c *rawConn) next() (msg, error) {
	for {
		m, n, ok, err := c.rd.Next(c.buf)
		if err != nil {
			return msg{}, err
		}
		c.frames = append(c.frames, frameLog(c.buf[:n])...)
		var out msg
		if ok {
			out = msg{m.Op, string(m.Payload)}
		}
		c.buf = append(c.buf[:0], c.buf[n:]...)
		if ok {
			return out, nil
		}
		c.buf = slices.Grow(c.buf, 16<<10)
		k, err := c.in.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+k]
		if err != nil && k == 0 {
			return msg{}, err
		}
	}
}

// frameLog describes the whole frames in b (already checked by a Reader).
func frameLog(b []byte) []string {
	var log []string
	for len(b) > 0 {
		name := map[byte]string{0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}[b[0]&0xF]
		if b[0]&finBit == 0 {
			name += "-"
		}
		log = append(log, name)
		n, hlen := int(b[1]&0x7F), 2
		switch n {
		case 126:
			n, hlen = int(b[2])<<8|int(b[3]), 4
		case 127:
			n, hlen = 0, 10
			for _, x := range b[2:10] {
				n = n<<8 | int(x)
			}
		}
		if b[1]&maskBit != 0 {
			hlen += 4
		}
		b = b[hlen+n:]
	}
	return log
}

// interleaved reports whether log shows a ping between two fragments of a data message.
func interleaved(log []string) bool {
	return strings.Contains(strings.Join(log, " "), "- ping cont")
}

// dialRaw opens a WebSocket connection to addr as a raw wsframe client.
func dialRaw(addr string) (*rawConn, error) {
	conn, err := net.DialTimeout("tcp", addr, interopTimeout)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(interopTimeout))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	_, err = fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	if err != nil {
		conn.Close()
		return nil, err
	}
	in := bufio.NewReader(conn)
	resp, err := http.ReadResponse(in, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		conn.Close()
		return nil, fmt.Errorf("handshake answered %q with accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	return newRawConn(conn, in, true), nil
}

// gorillaEcho is the gorilla server's loop: it echoes each data message twice (one frame;
// fragments with a ping between) and answers a pong with a text message "pong:<payload>".
// It returns the close frame's code and text once the client closes.
func gorillaEcho(c *websocket.Conn) (closeCode int, closeText string, err error) {
	c.SetPongHandler(func(p string) error { return c.WriteMessage(websocket.TextMessage, []byte("pong:"+p)) })
	for {
		mt, p, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text, nil // gorilla's close handler has answered it
		}
		if err != nil {
			return 0, "", err
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return 0, "", err
		}
		w, err := c.NextWriter(mt)
		if err != nil {
			return 0, "", err
		}
		half := len(p) / 2
		if _, err := w.Write(p[:half]); err != nil {
			return 0, "", err
		}
		if err := c.WriteControl(websocket.PingMessage, []byte("mid"), time.Now().Add(interopTimeout)); err != nil {
			return 0, "", err
		}
		if _, err := w.Write(p[half:]); err != nil {
			return 0, "", err
		}
		if err := w.Close(); err != nil {
			return 0, "", err
		}
	}
}

// TestInteropGorillaServer runs a raw wsframe client (masked AppendFrame out, unmasked
// frames in) against a gorilla echo server.
func TestInteropGorillaServer(t *testing.T) {
	type closeResult struct {
		code int
		text string
		err  error
	}
	done := make(chan closeResult, 1)
	up := websocket.Upgrader{ReadBufferSize: 256, WriteBufferSize: 64}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			done <- closeResult{err: err}
			return
		}
		defer c.Close()
		c.NetConn().SetDeadline(time.Now().Add(interopTimeout))
		code, text, err := gorillaEcho(c)
		done <- closeResult{code, text, err}
	}))
	defer srv.Close()

	c, err := dialRaw(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.Close()
	expect := func(what string, want ...msg) {
		t.Helper()
		for _, w := range want {
			got, err := c.next()
			if err != nil {
				t.Fatalf("%s: reading %v: %v", what, w, err)
			}
			if got != w {
				t.Fatalf("%s: got %v, want %v", what, got, w)
			}
		}
	}

	for i, n := range interopPayloads {
		op := []byte{OpText, OpBinary}[i%2]
		p := pattern(n, byte(i))
		if err := c.send(op, []byte(p), true); err != nil {
			t.Fatal(err)
		}
		expect(fmt.Sprintf("echo of %d bytes", n), msg{op, p}, msg{OpPing, "mid"}, msg{op, p})
	}
	if !interleaved(c.frames) {
		t.Errorf("gorilla never put a ping between fragments; frames seen: %v", c.frames)
	}

	// A fragmented message with a ping and an unsolicited pong between its fragments:
	// gorilla answers the ping at once, reports the pong to its handler, then echoes.
	steps := []struct {
		op      byte
		payload string
		fin     bool
	}{
		{OpText, "hello ", false}, {OpPing, "p1", true}, {OpContinuation, pattern(300, 1), false},
		{OpPong, "u1", true}, {OpContinuation, "", false}, {OpContinuation, "world", true},
	}
	for _, s := range steps {
		if err := c.send(s.op, []byte(s.payload), s.fin); err != nil {
			t.Fatal(err)
		}
	}
	whole := "hello " + pattern(300, 1) + "world"
	expect("fragmented message", msg{OpPong, "p1"}, msg{OpText, "pong:u1"},
		msg{OpText, whole}, msg{OpPing, "mid"}, msg{OpText, whole})

	if err := c.send(OpClose, AppendClosePayload(nil, CloseNormal, "bye"), true); err != nil {
		t.Fatal(err)
	}
	got, err := c.next()
	if err != nil || got.Op != OpClose {
		t.Fatalf("after close: %v, %v; want a close frame", got, err)
	}
	if code, reason, err := ParseClosePayload([]byte(got.Payload)); err != nil || code != CloseNormal || reason != "" {
		t.Errorf("gorilla's close frame: (%d, %q, %v), want (1000, \"\", nil)", code, reason, err)
	}
	res := <-done
	if res.err != nil || res.code != CloseNormal || res.text != "bye" {
		t.Errorf("gorilla read close (%d, %q, %v), want (1000, \"bye\", nil)", res.code, res.text, res.err)
	}
}

// serveRaw accepts one connection on ln and runs a raw wsframe echo server on it: each
// data message is echoed as one frame and then in three fragments with a ping "mid"
// between the first two; a ping is answered with a pong, a pong with a text message
// "pong:<payload>", and a close with a close frame with the same code and reason
// "echo:<reason>". It returns the frames it received and the close code and reason.
func serveRaw(ln net.Listener) (frames []string, code int, reason string, err error) {
	conn, err := ln.Accept()
	if err != nil {
		return nil, 0, "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(interopTimeout))
	in := bufio.NewReader(conn)
	req, err := http.ReadRequest(in)
	if err != nil {
		return nil, 0, "", err
	}
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		return nil, 0, "", fmt.Errorf("not an upgrade: %v", req.Header)
	}
	_, err = fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\n\r\n", acceptKey(req.Header.Get("Sec-WebSocket-Key")))
	if err != nil {
		return nil, 0, "", err
	}
	c := newRawConn(conn, in, false)
	for {
		m, err := c.next()
		if err != nil {
			return c.frames, 0, "", err
		}
		p := []byte(m.Payload)
		switch m.Op {
		case OpPing:
			err = c.send(OpPong, p, true)
		case OpPong:
			err = c.send(OpText, []byte("pong:"+m.Payload), true)
		case OpClose:
			code, reason, err := ParseClosePayload(p)
			if err != nil {
				return c.frames, 0, "", err
			}
			return c.frames, code, reason, c.send(OpClose, AppendClosePayload(nil, code, "echo:"+reason), true)
		default:
			a, b := len(p)/3, 2*len(p)/3
			err = errors.Join(
				c.send(m.Op, p, true),
				c.send(m.Op, p[:a], false),
				c.send(OpPing, []byte("mid"), true),
				c.send(OpContinuation, p[a:b], false),
				c.send(OpContinuation, p[b:], true),
			)
		}
		if err != nil {
			return c.frames, 0, "", err
		}
	}
}

// TestInteropGorillaClient runs a gorilla client against a raw wsframe echo server
// (Reader with Masked set in, unmasked AppendFrame out).
func TestInteropGorillaClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type serverResult struct {
		frames []string
		code   int
		reason string
		err    error
	}
	done := make(chan serverResult, 1)
	go func() {
		frames, code, reason, err := serveRaw(ln)
		done <- serverResult{frames, code, reason, err}
	}()

	d := websocket.Dialer{ReadBufferSize: 256, WriteBufferSize: 64, HandshakeTimeout: interopTimeout}
	c, _, err := d.Dial("ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(interopTimeout))
	var controls []msg // pings and pongs gorilla's handlers saw
	c.SetPingHandler(func(p string) error { controls = append(controls, msg{OpPing, p}); return nil })
	c.SetPongHandler(func(p string) error { controls = append(controls, msg{OpPong, p}); return nil })
	expect := func(what string, want msg, wantControls ...msg) {
		t.Helper()
		controls = nil
		mt, p, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := (msg{byte(mt), string(p)}); got != want {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
		if diff := cmp.Diff(wantControls, controls); diff != "" {
			t.Fatalf("%s: control frames before it (-want +got):\n%s", what, diff)
		}
	}

	for i, n := range interopPayloads {
		op := []byte{OpText, OpBinary}[i%2]
		p := pattern(n, byte(i))
		if err := c.WriteMessage(int(op), []byte(p)); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("echo of %d bytes", n)
		expect(what, msg{op, p})
		expect(what, msg{op, p}, msg{OpPing, "mid"})
	}

	// A message gorilla fragments (64-byte write buffer) with a ping between fragments.
	p := []byte(pattern(1000, 7))
	w, err := c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(p[:300]); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(interopTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(p[300:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	expect("fragmented message", msg{OpBinary, string(p)}, msg{OpPong, "p1"})
	expect("fragmented message", msg{OpBinary, string(p)}, msg{OpPing, "mid"})

	if err := c.WriteControl(websocket.PongMessage, []byte("u1"), time.Now().Add(interopTimeout)); err != nil {
		t.Fatal(err)
	}
	expect("unsolicited pong", msg{OpText, "pong:u1"})

	err = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"), time.Now().Add(interopTimeout))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Text != "echo:done" {
		t.Errorf("gorilla read %v, want a close error 4000 \"echo:done\"", err)
	}
	res := <-done
	if res.err != nil && !errors.Is(res.err, io.EOF) {
		t.Fatalf("raw server: %v", res.err)
	}
	if res.code != 4000 || res.reason != "done" {
		t.Errorf("raw server read close (%d, %q), want (4000, \"done\")", res.code, res.reason)
	}
	if !interleaved(res.frames) {
		t.Errorf("raw server never saw a ping between fragments; frames: %v", res.frames)
	}
}
