package websockets

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
	"github.com/pixelk6/pixelk6/js/modules/modulestest"
)

// newHarness returns a VU past its init context with k6/websockets' exports as globals
// (WebSocket, Blob).
func newHarness(t *testing.T) *modulestest.Runtime {
	t.Helper()
	h := modulestest.New(t)
	h.Instantiate(Root{}, "websockets")
	h.MustRunString(`var WebSocket = websockets.WebSocket, Blob = websockets.Blob;`)
	h.MoveToVUContext()
	return h
}

// server is a loopback WebSocket server: it echoes text and binary messages, answers
// "ping-me" with a ping, "close-me" with a close frame (4001, "bye"), "drop-me" by dropping
// the TCP connection, "cookie" with the upgrade request's Cookie header and "header" with
// its X-Pixel header; it offers the subprotocol "chat" and ignores close frames in
// ?mode=ignore-close sessions.
func server(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, Subprotocols: []string{"chat"}, EnableCompression: true}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if r.URL.Query().Get("mode") == "ignore-close" {
			c.SetCloseHandler(func(int, string) error { return nil })
		} else { // answer with the client's code and reason
			c.SetCloseHandler(func(code int, text string) error {
				return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			})
		}
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			switch msg := string(data); {
			case mt == websocket.TextMessage && msg == "ping-me":
				_ = c.WriteControl(websocket.PingMessage, []byte("srv"), time.Now().Add(time.Second))
			case mt == websocket.TextMessage && msg == "close-me":
				_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"))
			case mt == websocket.TextMessage && msg == "drop-me":
				_ = c.NetConn().Close()
				return
			case mt == websocket.TextMessage && msg == "cookie":
				_ = c.WriteMessage(websocket.TextMessage, []byte(r.Header.Get("Cookie")))
			case mt == websocket.TextMessage && msg == "header":
				_ = c.WriteMessage(websocket.TextMessage, []byte(r.Header.Get("X-Pixel")))
			default:
				_ = c.WriteMessage(mt, data)
			}
		}
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/echo"
}

// pumps counts the live reader and Outbox flusher goroutines of sockets, waiting (bounded) for
// ones that are exiting.
func pumps() int {
	return modulestest.Goroutines("websockets.(*socket).dialAndRead(") + modulestest.Goroutines("wsconn.(*Outbox).flush(")
}

func tagKeys(h *modulestest.Runtime, metric string) []string {
	var out []string
	for _, s := range h.Samples.Metric(metric) {
		var keys []string
		for _, tg := range s.Tags.Tags() {
			keys = append(keys, tg.Key)
		}
		sort.Strings(keys)
		out = append(out, strings.Join(keys, ","))
	}
	return out
}

// TestEventsInOrder walks one socket through its life: the ready states, open, a text and
// a binary echo, a ping answered by a pong, and a close with a code and a reason; then
// checks k6's samples and tags.
func TestEventsInOrder(t *testing.T) {
	url := server(t)
	h := newHarness(t)
	h.MustRunString(`
	var log = [];
	var ws = new WebSocket("` + url + `", "chat", { tags: { name: "echo" } });
	log.push("constructed:" + ws.readyState);
	ws.binaryType = "arraybuffer";
	ws.onopen = function (e) {
		log.push("open:" + e.type + ":" + ws.readyState + ":" + ws.protocol + ":" + (e.target === ws));
		ws.send("hello");
	};
	ws.onmessage = function (e) {
		if (typeof e.data === "string") {
			log.push("text:" + e.data);
			ws.send(new Uint8Array([1, 2, 3]).buffer);
		} else {
			log.push("binary:" + new Uint8Array(e.data).join("-"));
			ws.ping();
		}
	};
	ws.onpong = function () {
		log.push("pong");
		ws.close(4000, "done");
		log.push("closing:" + ws.readyState);
	};
	ws.onerror = function (e) { log.push("error:" + e.error); };
	ws.onclose = function (e) { log.push("close:" + e.code + ":" + e.reason + ":" + e.wasClean + ":" + ws.readyState); };
	`)
	want := "constructed:0,open:open:1:chat:true,text:hello,binary:1-2-3,pong,closing:2,close:4000:done:true:3"
	if got := h.MustRunString(`log.join()`).String(); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	for metric, n := range map[string]int{"ws_sessions": 1, "ws_connecting": 1, "ws_msgs_sent": 2, "ws_msgs_received": 2, "ws_ping": 1, "ws_session_duration": 1} {
		keys := tagKeys(h, metric)
		if len(keys) != n {
			t.Errorf("%s: %d samples, want %d", metric, len(keys), n)
		}
		for _, k := range keys {
			if k != "group,name,scenario,status,subproto,url" {
				t.Errorf("%s tags %s; k6 has group,name,scenario,status,subproto,url", metric, k)
			}
		}
	}
	for _, s := range h.Samples.Metric("ws_msgs_sent") {
		if st, _ := s.Tags.Get("status"); st != "101" {
			t.Errorf("status tag %q", st)
		}
		if sp, _ := s.Tags.Get("subproto"); sp != "chat" {
			t.Errorf("subproto tag %q", sp)
		}
	}
	if h.State.Bytes.Sent.Load() == 0 || h.State.Bytes.Received.Load() == 0 {
		t.Error("data_sent / data_received bytes not counted")
	}
	if n := pumps(); n != 0 {
		t.Fatalf("%d socket goroutines alive after the iteration", n)
	}
}

// TestSocketCases covers one behaviour each, on a fresh VU.
func TestSocketCases(t *testing.T) {
	url := server(t)
	cases := []struct {
		name, url, body, want string
	}{
		{"blob is the default binary type", url, `
			ws.onopen = function () { ws.send(new Blob(["ab", new Uint8Array([99]).buffer], { type: "Text/Plain" })); };
			ws.onmessage = function (e) {
				out.push(ws.binaryType, e.data instanceof Blob, e.data.size, e.data.type);
				e.data.text().then(function (s) { out.push(s); return e.data.slice(1).arrayBuffer(); })
					.then(function (ab) { out.push(ab.byteLength); ws.close(); });
			};`, "blob,true,3,,abc,2"},
		{"typed array views send their own bytes", url, `
			ws.binaryType = "arraybuffer";
			ws.onopen = function () { var b = new Uint8Array([9, 8, 7, 6]); ws.send(b.subarray(1, 3)); ws.send(new DataView(b.buffer, 3, 1)); };
			ws.onmessage = function (e) { out.push(new Uint8Array(e.data).join("-")); if (out.length === 2) ws.close(); };`, "8-7,6"},
		{"the API is WebSocket.prototype's", url, `
			var bad = ""; try { WebSocket.prototype.send.call({}, "x"); } catch (e) { bad = e.name; }
			out.push(ws instanceof WebSocket, Object.keys(ws).length, typeof ws.send, ws.OPEN, WebSocket.CLOSED, bad, ws.readyState);
			ws.onopen = function () { ws.close(); };`, "true,0,function,1,3,TypeError,0"},
		{"an event is an ordinary object to the script", url, `
			ws.onopen = function (e) { out.push(Object.keys(e).join("/")); ws.send("hi"); };
			ws.onmessage = function (e) {
				e.extra = 1; e.data = e.data + "!"; delete e.origin;
				out.push(Object.keys(e).join("/"), e.data, e.extra, e.target === ws, typeof e.timestamp, "origin" in e, e.type, JSON.stringify(e).indexOf('"extra":1') > 0);
				ws.close();
			};`, "type/target/timestamp,type/target/timestamp/data/extra,hi!,1,true,number,false,message,true"},
		{"server ping fires ping", url, `
			ws.onopen = function () { ws.send("ping-me"); };
			ws.onping = function () { out.push("ping"); ws.close(); };`, "ping"},
		{"server closes with a code and a reason", url, `
			ws.onopen = function () { ws.send("close-me"); };
			ws.onclose = function (e) { out.push(e.code, e.reason, e.wasClean); };`, "4001,bye,true"},
		{"dropped connection fires error then close 1006", url, `
			ws.onopen = function () { ws.send("drop-me"); };
			ws.onerror = function (e) { out.push("error:" + (e.error.length > 0)); };
			ws.onclose = function (e) { out.push("close:" + e.code + ":" + e.wasClean); };`, "error:true,close:1006:false"},
		{"a server that ignores the close frame: our code, not clean, no error", url + "?mode=ignore-close", `
			ws.onopen = function () { ws.close(4002); };
			ws.onerror = function () { out.push("error"); };
			ws.onclose = function (e) { out.push(e.code, e.wasClean); };`, "4002,false"},
		{"close while connecting: no open, a close", url, `
			ws.onopen = function () { out.push("open"); };
			ws.close();
			out.push(ws.readyState);
			ws.onclose = function (e) { out.push("close", ws.readyState); };`, "2,close,3"},
		{"send while connecting throws InvalidStateError", url, `
			try { ws.send("early"); } catch (e) { out.push(e.name); }
			ws.onopen = function () { ws.close(); };`, "InvalidStateError"},
		{"addEventListener: several listeners, in order, with the attribute", url, `
			var second = function () { out.push("second"); };
			ws.addEventListener("open", function () { out.push("first"); });
			ws.onopen = function () { out.push("attr"); };
			ws.addEventListener("open", second);
			ws.addEventListener("open", function () { ws.close(); });
			ws.removeEventListener("open", second);`, "first,attr"},
		{"params.headers reach the server", url, `
			ws.onopen = function () { ws.send("header"); };
			ws.onmessage = function (e) { out.push(e.data); ws.close(); };`, "yes"},
		{"compression deflate is negotiated", url, `
			ws.onopen = function () { out.push(ws.extensions.indexOf("permessage-deflate") >= 0); ws.close(); };`, "true"},
		{"bufferedAmount counts queued bytes and drains", url, `
			ws.onopen = function () { ws.send("x".repeat(100000)); out.push(ws.bufferedAmount > 0); };
			ws.onmessage = function (e) { out.push(e.data.length, ws.bufferedAmount); ws.close(); };`, "true,100000,0"},
	}
	// Every case runs with permessage-deflate (frames through gorilla's writer) and
	// without (frames written directly).
	for _, compression := range []string{`"deflate"`, `""`} {
		for _, c := range cases {
			if compression == `""` && strings.Contains(c.name, "deflate") {
				continue
			}
			t.Run(c.name+" compression "+compression, func(t *testing.T) {
				h := newHarness(t)
				params := `{ headers: { "X-Pixel": "yes" }, compression: ` + compression + ` }`
				h.MustRunString(`var out = []; var ws = new WebSocket("` + c.url + `", null, ` + params + `);` + c.body)
				if got := h.MustRunString(`out.join()`).String(); got != c.want {
					t.Fatalf("got %q, want %q", got, c.want)
				}
				if n := pumps(); n != 0 {
					t.Fatalf("%d socket goroutines alive", n)
				}
			})
		}
	}
}

// TestCookieJarParams: the VU's jar is the default; params.jar replaces it.
func TestCookieJarParams(t *testing.T) {
	url := server(t)
	h := modulestest.New(t)
	h.Instantiate(Root{}, "websockets")
	h.Import("k6/http", "http")
	h.MoveToVUContext()
	h.State.HTTPClient = httpmod.NewClient(h.State)
	h.MustRunString(`var WebSocket = websockets.WebSocket;

	var base = "` + strings.Replace(url, "ws://", "http://", 1) + `";
	http.cookieJar().set(base, "jar", "vu");
	var own = new http.CookieJar(); own.set(base, "jar", "own");
	var got = [];
	[undefined, own].forEach(function (jar) {
		var ws = new WebSocket("` + url + `", null, jar ? { jar: jar } : {});
		ws.onopen = function () { ws.send("cookie"); };
		ws.onmessage = function (e) { got.push(e.data); ws.close(); };
	});`)
	got := strings.Split(h.MustRunString(`got.sort().join()`).String(), ",")
	if strings.Join(got, ",") != "jar=own,jar=vu" {
		t.Fatalf("cookies %q", got)
	}
}

// TestManySocketsOneVU: one iteration opens 20 sockets at once; it ends only when all are
// closed, each having echoed its own message.
func TestManySocketsOneVU(t *testing.T) {
	url := server(t)
	h := newHarness(t)
	h.MustRunString(`
	var closed = 0, echoed = {};
	for (var i = 0; i < 20; i++) {
		(function (id) {
			var ws = new WebSocket("` + url + `");
			ws.onopen = function () { ws.send("socket " + id); };
			ws.onmessage = function (e) { echoed[e.data] = true; ws.close(); };
			ws.onclose = function () { closed++; };
		})(i);
	}`)
	if got := h.MustRunString(`closed + ":" + Object.keys(echoed).length`).String(); got != "20:20" {
		t.Fatalf("closed:echoed = %s, want 20:20 when the iteration returns", got)
	}
	if n := len(h.Samples.Metric("ws_sessions")); n != 20 {
		t.Fatalf("%d ws_sessions samples, want 20", n)
	}
	if n := len(h.Samples.Metric("ws_session_duration")); n != 20 {
		t.Fatalf("%d ws_session_duration samples, want 20", n)
	}
	if n := pumps(); n != 0 {
		t.Fatalf("%d socket goroutines alive", n)
	}
}

// TestConnectFailure: a refused connection fires error then close (1006), leaves the
// socket CLOSED, and records ws_sessions and ws_connecting with status 0, as k6/ws does.
func TestConnectFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + l.Addr().String() + "/"
	l.Close()
	h := newHarness(t)
	h.MustRunString(`
	var out = [];
	var ws = new WebSocket("` + refused + `");
	ws.onopen = function () { out.push("open"); };
	ws.onerror = function (e) { out.push("error:" + (e.error.indexOf("refused") >= 0)); };
	ws.onclose = function (e) { out.push("close:" + e.code + ":" + ws.readyState); };`)
	if got := h.MustRunString(`out.join()`).String(); got != "error:true,close:1006:3" {
		t.Fatalf("events %q", got)
	}
	for _, m := range []string{"ws_sessions", "ws_connecting"} {
		s := h.Samples.Metric(m)
		if len(s) != 1 {
			t.Fatalf("%s: %d samples", m, len(s))
		}
		if st, _ := s[0].Tags.Get("status"); st != "0" {
			t.Fatalf("%s status %q", m, st)
		}
	}
}

// TestBadArguments: what the constructor refuses, with the error it throws.
func TestBadArguments(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ src, want string }{
		{`new WebSocket("http://127.0.0.1:1/")`, "want ws:// or wss://"},
		{`new WebSocket("ws://127.0.0.1:1/#frag")`, "fragment"},
		{`new WebSocket("ws://127.0.0.1:1/", ["a", "a"])`, "repeated"},
		{`new WebSocket("ws://127.0.0.1:1/", null, { timeout: "1s" })`, "params.timeout is not supported"},
		{`new WebSocket("ws://127.0.0.1:1/", null, { compression: "gzip" })`, `"gzip" is not supported`},
		{`new WebSocket("ws://127.0.0.1:1/", null, { jar: {} })`, "params.jar must be a CookieJar"},
	} {
		if _, err := h.RunString(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.src, err, c.want)
		}
	}
	init := modulestest.New(t)
	init.Instantiate(Root{}, "websockets")
	if _, err := init.RunString(`new websockets.WebSocket("ws://127.0.0.1:1/")`); err == nil || !strings.Contains(err.Error(), "init context") {
		t.Errorf("init context: err = %v", err)
	}
}

// TestHandlerExceptionEndsTheIteration: a throwing handler ends the iteration with its
// exception and closes every socket of the VU.
func TestHandlerExceptionEndsTheIteration(t *testing.T) {
	url := server(t)
	h := newHarness(t)
	_, err := h.RunString(`
	var quiet = new WebSocket("` + url + `"); // open, never closed by the script
	var ws = new WebSocket("` + url + `");
	ws.onopen = function () { throw new Error("boom in open"); };`)
	if err == nil || !strings.Contains(err.Error(), "boom in open") {
		t.Fatalf("err = %v; want the handler's exception", err)
	}
	if n := pumps(); n != 0 {
		t.Fatalf("%d socket goroutines alive", n)
	}
}

// TestIterationEndClosesSockets: a socket the script never closes keeps the iteration
// going until its context ends; then the socket's goroutines are gone.
func TestIterationEndClosesSockets(t *testing.T) {
	url := server(t)
	h := newHarness(t)
	opened := make(chan struct{})
	_ = h.VU.Runtime().Set("opened", func() { close(opened) })
	go func() { <-opened; h.Cancel() }()
	_, _ = h.RunString(`var ws = new WebSocket("` + url + `"); ws.onopen = function () { opened(); };`)
	if n := pumps(); n != 0 {
		t.Fatalf("%d socket goroutines alive", n)
	}
}

// TestStaticsAndConstants: the ready-state constants on the class and on instances.
func TestStaticsAndConstants(t *testing.T) {
	url := server(t)
	h := newHarness(t)
	got := h.MustRunString(`
	var ws = new WebSocket("` + url + `");
	var s = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED, ws.OPEN, ws.url === "` + url + `", ws instanceof WebSocket].join();
	ws.onopen = function () { ws.close(); };
	s`).String()
	if got != "0,1,2,3,1,true,true" {
		t.Fatalf("got %s", got)
	}
}

// TestSecureSocket: wss:// to a server with a certificate no authority vouches for fails
// (error, close 1006) unless insecureSkipTLSVerify is set, as the VU's HTTP client does.
func TestSecureSocket(t *testing.T) {
	up := websocket.Upgrader{}
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, data, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, data) != nil {
				return
			}
		}
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	defer s.Close()
	url := "wss" + strings.TrimPrefix(s.URL, "https") + "/"
	for _, skip := range []bool{false, true} {
		h := newHarness(t)
		h.State.Options.InsecureSkipTLSVerify = skip
		h.MustRunString(`var out = []; var ws = new WebSocket("` + url + `");
		ws.onopen = function () { ws.send("over tls"); };
		ws.onmessage = function (e) { out.push(e.data); ws.close(); };
		ws.onerror = function (e) { out.push(e.error.indexOf("certificate") >= 0 ? "certificate error" : e.error); };
		ws.onclose = function (e) { out.push(e.code); };`)
		want := map[bool]string{false: "certificate error,1006", true: "over tls,1000"}[skip]
		if got := h.MustRunString(`out.join()`).String(); got != want {
			t.Fatalf("insecureSkipTLSVerify %v: %q, want %q", skip, got, want)
		}
	}
}

// BenchmarkRoundTrip: one socket, b.N messages each sent from the previous one's onmessage
// (a 100-byte text echoed by the loopback server): the module's cost per message sent and
// received, with the VU's event loop between them.
func BenchmarkRoundTrip(b *testing.B) {
	up := websocket.Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, data, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, data) != nil {
				return
			}
		}
	}))
	defer s.Close()
	h := modulestest.New(b)
	h.Instantiate(Root{}, "websockets")
	h.MoveToVUContext()
	src := `var n = ` + strconv.Itoa(b.N) + `, msg = "x".repeat(100);
	var ws = new websockets.WebSocket("ws` + strings.TrimPrefix(s.URL, "http") + `/");
	ws.onopen = function () { ws.send(msg); };
	ws.onmessage = function (e) { if (--n > 0) ws.send(e.data); else ws.close(); };`
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := h.RunString(src); err != nil {
		b.Fatal(err)
	}
}

// TestSendNeverBlocksTheVU: a server that upgrades and never reads fills the kernel's
// buffers; send keeps returning at once (the Outbox's flusher holds the rest and
// bufferedAmount counts it), close gives up on the unanswered close frame after closeGrace,
// and the iteration ends.
func TestSendNeverBlocksTheVU(t *testing.T) {
	release := make(chan struct{})
	up := websocket.Upgrader{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-release // never reads
	}))
	defer s.Close()
	defer close(release)
	h := newHarness(t)
	done := make(chan string, 1)
	go func() {
		v, err := h.RunString(`var out = []; var ws = new WebSocket("ws` + strings.TrimPrefix(s.URL, "http") + `/");
		ws.onopen = function () {
			var chunk = "x".repeat(64 << 10);
			for (var i = 0; i < 512; i++) ws.send(chunk); // 32 MiB, more than loopback buffers hold
			out.push(ws.bufferedAmount > 0);
			ws.close();
		};
		ws.onclose = function (e) { out.push(e.code, e.wasClean); };
		out.join()`)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- h.MustRunString(`out.join()`).String() + fmt.Sprint(v == nil)
	}()
	select {
	case got := <-done:
		if got != "true,1000,falsefalse" {
			t.Fatalf("got %q", got)
		}
	case <-time.After(30 * time.Second): // a bound only a blocked VU reaches
		t.Fatal("the iteration did not end: a send blocked the VU")
	}
	if n := pumps(); n != 0 {
		t.Fatalf("%d socket goroutines alive", n)
	}
}

// floodServer sends n numbered text messages as fast as it can, then pings, then closes
// with 4000 "flood"; with bad set, it then sends a frame with a reserved opcode instead.
func floodServer(t *testing.T, n int, bad bool) string {
	t.Helper()
	up := websocket.Upgrader{EnableCompression: true}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for i := range n {
			if err := c.WriteMessage(websocket.TextMessage, []byte(strconv.Itoa(i))); err != nil {
				return
			}
		}
		_ = c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
		if bad {
			_, _ = c.NetConn().Write([]byte{0x83, 0x01, 'x'}) // a reserved opcode
		} else {
			_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "flood"))
		}
		_, _, _ = c.ReadMessage() // until the client closes
	}))
	t.Cleanup(s.Close)
	return "ws" + strings.TrimPrefix(s.URL, "http")
}

// TestFloodInOrder: a server sending faster than the script handles is pushed back (the
// reader's queue fills up), and every message arrives once, in order, before the ping and
// the close, with or without permessage-deflate.
func TestFloodInOrder(t *testing.T) {
	for _, compression := range []string{`""`, `"deflate"`} {
		t.Run("compression "+compression, func(t *testing.T) {
			url := floodServer(t, 5000, false)
			h := newHarness(t)
			h.MustRunString(`var out = [], next = 0, bad = 0;
			var ws = new WebSocket("` + url + `", null, { compression: ` + compression + ` });
			ws.onmessage = function (e) { if (e.data !== String(next)) bad++; next++; };
			ws.onping = function () { out.push("ping@" + next); };
			ws.onclose = function (e) { out.push(e.code, e.reason, e.wasClean, bad); };`)
			if got := h.MustRunString(`out.join()`).String(); got != "ping@5000,4000,flood,true,0" {
				t.Fatalf("got %q", got)
			}
			if n := pumps(); n != 0 {
				t.Fatalf("%d socket goroutines alive", n)
			}
		})
	}
}

// TestProtocolError: a frame that breaks RFC 6455 ends the session with 1006 and an error
// event, with or without permessage-deflate.
func TestProtocolError(t *testing.T) {
	for _, compression := range []string{`""`, `"deflate"`} {
		t.Run("compression "+compression, func(t *testing.T) {
			url := floodServer(t, 3, true)
			h := newHarness(t)
			h.MustRunString(`var out = [];
			var ws = new WebSocket("` + url + `", null, { compression: ` + compression + ` });
			ws.onmessage = function (e) { out.push(e.data); };
			ws.onerror = function (e) { out.push("error"); };
			ws.onclose = function (e) { out.push(e.code, e.wasClean); };`)
			if got := h.MustRunString(`out.join()`).String(); got != "0,1,2,error,1006,false" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestLoopReads: a plain ws:// socket without an extension runs on the run's event loops
// once open (no reader goroutine); a deflate one keeps its reader goroutine.
func TestLoopReads(t *testing.T) {
	url := server(t)
	for _, tc := range []struct {
		compression string
		readers     int
	}{{`""`, 0}, {`"deflate"`, 1}} {
		t.Run("compression "+tc.compression, func(t *testing.T) {
			h := newHarness(t)
			_ = h.VU.Runtime().Set("readers", func() int {
				return modulestest.CountGoroutines("websockets.(*socket).dialAndRead(")
			})
			h.MustRunString(`var out = [];
			var ws = new WebSocket("` + url + `", null, { compression: ` + tc.compression + ` });
			ws.onopen = function () { ws.send("x"); };
			ws.onmessage = function (e) { out.push(e.data, readers()); ws.close(); };
			ws.onclose = function (e) { out.push(e.code, e.wasClean); };`)
			if got, want := h.MustRunString(`out.join()`).String(), fmt.Sprint("x,", tc.readers, ",1000,true"); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}
