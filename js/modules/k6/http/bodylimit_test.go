package http_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
)

// TestResponseBodyLimit: a body beyond --max-response-body (an endless stream, a body longer
// than its limit with or without Content-Length, a gzip bomb) is truncated to the limit with
// error_code 1000 and an error naming the limit, on both request paths; a body within it is
// whole. The endless server would otherwise fill the memory: the test ends only because the
// client stops reading.
func TestResponseBodyLimit(t *testing.T) {
	const limit = 64 << 10
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 8<<20))
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/endless":
			chunk := bytes.Repeat([]byte("x"), 4096)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/sized":
			w.Header().Set("Content-Length", "1048576")
			_, _ = w.Write(make([]byte, 1<<20))
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb.Bytes())
		default:
			_, _ = w.Write([]byte(strings.Repeat("y", limit)))
		}
	}))
	t.Cleanup(srv.Close)
	for _, p := range paths {
		for _, tc := range []struct {
			path    string
			wantErr bool
		}{{"/endless", true}, {"/sized", true}, {"/bomb", true}, {"/fits", false}} {
			t.Run(p.name+tc.path, func(t *testing.T) {
				h, err := runWith(t, modules.Options{MaxResponseBody: limit}, p.netHTTP, 1, map[string]string{"BASE": srv.URL},
					"const r = http.get(`${__ENV.BASE}"+tc.path+"`);\n"+
						"console.log(`${r.body.length} ${r.error_code} ${r.error}`);")
				if err != nil {
					t.Fatal(err)
				}
				got := h.Logs.Lines
				want := "65536 0 "
				if tc.wantErr {
					want = "65536 1000 response body larger than the --max-response-body limit of 65536 bytes: truncated"
				}
				if len(got) == 0 || !strings.HasSuffix(got[len(got)-1], want) {
					t.Fatalf("logged %q, want a line ending %q", got, want)
				}
			})
		}
	}
}
