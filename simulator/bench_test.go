package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/internal/wsframe"
)

// discardWriter is a reusable http.ResponseWriter, so benchmarks measure the handler.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

func benchServer(b *testing.B) *Server {
	s, err := New(Config{}) // model latency 0, unlimited capacity
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkHealth(b *testing.B) {
	s := benchServer(b)
	req, _ := http.NewRequest("GET", PathHealth, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(w, req)
	}
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
}

func BenchmarkInfer(b *testing.B) {
	s := benchServer(b)
	body := []byte(`{"prompt":"I have been feeling really anxious lately","user_id":"vu-1","session_id":"s-1-2"}`)
	rd := bytes.NewReader(body)
	req, _ := http.NewRequest("POST", PathInfer, nil)
	req.Body = io.NopCloser(rd)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		s.ServeHTTP(w, req)
	}
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
}

func BenchmarkLabel(b *testing.B) {
	texts := []string{"I have been feeling really anxious lately", "Can you help me understand my thoughts?",
		"Everything feels overwhelming today, man up"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		judge(texts[i%len(texts)])
		i++
	}
}

// FuzzInfer feeds arbitrary bodies to the infer handler: the answer is always 200, 400
// or 413 with a JSON body, never a panic.
func FuzzInfer(f *testing.F) {
	for _, s := range []string{`{"prompt":"I want to die"}`, `{"prompt":""}`, `{`, `{"prompt":"x","audio":"!!"}`, `null`,
		`{"prompt":"x","modalities":["text","image"],"image":"aGk="}`} {
		f.Add([]byte(s))
	}
	s, err := New(Config{MaxBodyBytes: 512})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", PathInfer, bytes.NewReader(body))
		w := &recordWriter{discardWriter: discardWriter{h: http.Header{}}}
		s.ServeHTTP(w, req)
		switch w.status {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d for %q", w.status, body)
		}
		if !json.Valid(w.body.Bytes()) {
			t.Fatalf("invalid JSON %q for %q", w.body.Bytes(), body)
		}
	})
}

type recordWriter struct {
	discardWriter
	body bytes.Buffer
}

func (w *recordWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

// benchConn is a connection that takes all output at once.
type benchConn struct{ n int }

func (c *benchConn) Write(b []byte) error { c.n += len(b); return nil }
func (c *benchConn) Pending() int         { return 0 }
func (c *benchConn) PauseReads(bool)      {}
func (c *benchConn) Close()               {}

// BenchmarkWSSession is the server's per-chunk work on the event loop, from the bytes read
// to the ack written: unmask and parse the frame, handle the chunk, encode the ack and
// frame it (no socket). Each op is one read holding perRead chunk frames as a client
// sends them: binary frames of 640 bytes (the load test's shape) or JSON text chunks with
// base64 audio (the fast path of parseChunkFrame).
func BenchmarkWSSession(b *testing.B) {
	key := [4]byte{9, 8, 7, 6}
	binary := wsframe.AppendFrame(nil, wsframe.OpBinary, bytes.Repeat([]byte{0x5a}, 640), true, key)
	jsonChunk := wsframe.AppendFrame(nil, wsframe.OpText,
		[]byte(`{"type":"chunk","seq":17,"modality":"audio","data":"`+strings.Repeat("QUJD", 214)+`"}`), true, key)
	for _, bc := range []struct {
		name    string
		frame   []byte
		perRead int
	}{
		{"binary 640 B", binary, 1},
		{"binary 640 B x16", binary, 16},
		{"json audio", jsonChunk, 1},
		{"json audio x16", jsonChunk, 16},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchServer(b)
			ss := newSession(s)
			c := &benchConn{}
			ss.open(c, time.Now())
			read := bytes.Repeat(bc.frame, bc.perRead)
			buf := make([]byte, len(read))
			b.ReportAllocs()
			b.SetBytes(int64(len(read)))
			for b.Loop() {
				copy(buf, read) // Data unmasks in place
				ss.Data(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bc.perRead), "ns/chunk")
			if want := uint64(b.N * bc.perRead); ss.seq != want || c.n == 0 {
				b.Fatalf("%d chunks acked (%d bytes), want %d", ss.seq, c.n, want)
			}
		})
	}
}

// BenchmarkWSLoopback is a round trip over loopback TCP through the event loop: a client
// sends 16 binary chunk frames of 640 bytes in one write and reads the 16 acks. It
// includes the client's side and the kernel's, so it is the whole per-chunk cost on one
// connection, not the server's alone.
func BenchmarkWSLoopback(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+PathWS, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	c := ws.NetConn() // raw frames from here on
	const perWrite = 16
	frames := bytes.Repeat(wsframe.AppendFrame(nil, wsframe.OpBinary, bytes.Repeat([]byte{0x5a}, 640), true, [4]byte{1, 2, 3, 4}), perWrite)
	var rd wsframe.Reader
	in := make([]byte, 0, 64<<10) // in[off:] is unparsed
	off := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(frames); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < perWrite; {
			m, n, ok, err := rd.Next(in[off:])
			if err != nil {
				b.Fatal(err)
			}
			off += n
			if !ok {
				in = in[:copy(in, in[off:])]
				off = 0
				k, err := c.Read(in[len(in):cap(in)])
				if err != nil {
					b.Fatal(err)
				}
				in = in[:len(in)+k]
				continue
			}
			if m.Op != wsframe.OpText {
				b.Fatalf("opcode %d", m.Op)
			}
			got++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perWrite), "ns/chunk")
}
