package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
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
