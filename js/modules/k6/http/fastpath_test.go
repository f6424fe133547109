package http_test

import (
	"context"
	"errors"
	"io"
	"log"
	gohttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics/metricstest"
)

func slowServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := gohttp.NewServeMux()
	mux.HandleFunc("/slow", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/set", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		gohttp.SetCookie(w, &gohttp.Cookie{Name: "sid", Value: "42", Path: "/"})
	})
	mux.HandleFunc("/get", func(w gohttp.ResponseWriter, r *gohttp.Request) { _, _ = w.Write([]byte(r.Header.Get("Cookie"))) })
	mux.HandleFunc("/chunked", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		for i := 0; i < 3; i++ {
			_, _ = w.Write([]byte("part"))
			w.(gohttp.Flusher).Flush()
		}
	})
	mux.HandleFunc("/close", func(w gohttp.ResponseWriter, r *gohttp.Request) {
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("bye"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFastPathBehaviour(t *testing.T) {
	srv := slowServer(t)
	tests := []struct{ name, body string }{
		{"timeout gives 1050", "const r = http.get(`${BASE}/slow`, { timeout: '30ms' });\nif (r.error_code !== 1050 || r.error !== 'request timeout') throw new Error(r.error_code + ' ' + r.error);"},
		{"cookies from the server go back", "http.get(`${BASE}/set`);\nconst r = http.get(`${BASE}/get`);\nif (r.body !== 'sid=42') throw new Error('cookie ' + r.body);"},
		{"chunked body", "const r = http.get(`${BASE}/chunked`);\nif (r.body !== 'partpartpart') throw new Error(r.body);"},
		{"connection close then reuse", "for (let i = 0; i < 3; i++) { const r = http.get(`${BASE}/close`); if (r.body !== 'bye') throw new Error(r.error); }"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run(t, srv.URL, tc.body)
		})
	}
}

func TestStaleKeepAliveIsRetried(t *testing.T) {
	srv := slowServer(t)
	h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () { const r = http.get(__ENV.BASE + '/get'); if (r.status !== 200) throw new Error(r.error); }\n",
		map[string]string{"BASE": srv.URL})
	v := h.VU(t, 1)
	for i := 0; i < 3; i++ {
		if err := v.RunIteration(context.Background(), "default", nil); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		srv.CloseClientConnections() // the VU's idle connection goes stale
	}
}

func TestCancelDuringRequest(t *testing.T) {
	srv := slowServer(t)
	h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () { http.get(__ENV.BASE + '/slow'); }\n",
		map[string]string{"BASE": srv.URL})
	v := h.VU(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.RunIteration(ctx, "default", nil) }()
	time.Sleep(30 * time.Millisecond)
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(h.Samples.Metric("http_reqs")); n != 0 {
		t.Errorf("a request cut by the end of the test emitted %d http_reqs", n)
	}
	if strings.Contains(h.Logs.String(), "Request Failed") {
		t.Errorf("cancelled request logged a warning: %s", h.Logs.String())
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(gohttp.HandlerFunc(func(w gohttp.ResponseWriter, r *gohttp.Request) { _, _ = w.Write([]byte("tls")) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct {
		name     string
		insecure bool
		check    string
		tlsTag   bool
	}{
		{"unknown authority is 1310", false, "if (r.error_code !== 1310) throw new Error(r.error_code + ' ' + r.error);", false},
		{"insecureSkipTLSVerify", true, "if (r.body !== 'tls' || r.tls_version === '' || r.timings.tls_handshaking <= 0) throw new Error(JSON.stringify(r.timings) + r.error);", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import http from 'k6/http';\nexport default function () { const r = http.get(__ENV.BASE + '/'); "+tc.check+" }\n",
				map[string]string{"BASE": srv.URL})
			st := h.State(1)
			st.Options.InsecureSkipTLSVerify = tc.insecure
			v, err := h.Bundle.NewVU(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if err := v.RunIteration(context.Background(), "default", nil); err != nil {
				t.Fatal(err)
			}
			reqs := h.Samples.Metric("http_reqs")
			if len(reqs) != 1 {
				t.Fatalf("%d http_reqs", len(reqs))
			}
			if _, ok := reqs[0].Tags.Get("tls_version"); ok != tc.tlsTag {
				t.Errorf("tls_version tag present = %v, want %v (%v)", ok, tc.tlsTag, reqs[0].Tags)
			}
		})
	}
}

func TestSystemTagsOption(t *testing.T) {
	srv := slowServer(t)
	h := jstest.MustLoad(t, "import http from 'k6/http';\nimport { check } from 'k6';\nexport default function () { check(http.get(__ENV.BASE + '/get', { tags: { mine: 'x' } }), { ok: true }); }\n",
		map[string]string{"BASE": srv.URL})
	st := h.State(1)
	st.Options.SystemTags = []string{"status", "method", "check"}
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"http_reqs": "method,mine,status", "checks": "check", "iterations": ""}
	for name, keys := range want {
		s := h.Samples.Metric(name)
		if len(s) == 0 {
			t.Errorf("no %s samples", name)
			continue
		}
		if got := metricstest.TagKeys(s[0].Tags); got != keys {
			t.Errorf("%s tag keys %q, want %q", name, got, keys)
		}
	}
}

// TestIPSystemTag: the ip system tag is off by default and, when systemTags lists it, holds
// the remote address of the request's connection, on both request paths.
func TestIPSystemTag(t *testing.T) {
	srv := slowServer(t)
	for _, tc := range []struct {
		name        string
		systemTags  []string
		netHTTPOnly bool
		want        string
	}{
		{"default set: no ip", nil, false, ""},
		{"listed: fast path", []string{"ip", "status"}, false, "127.0.0.1"},
		{"listed: net/http", []string{"ip", "status"}, true, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := runWith(t, modules.Options{SystemTags: tc.systemTags}, tc.netHTTPOnly, 1, map[string]string{"BASE": srv.URL},
				"http.get(__ENV.BASE + '/get');")
			if err != nil {
				t.Fatal(err)
			}
			reqs := h.Samples.Metric("http_reqs")
			if len(reqs) != 1 {
				t.Fatalf("%d http_reqs", len(reqs))
			}
			if got, _ := reqs[0].Tags.Get("ip"); got != tc.want {
				t.Errorf("ip tag %q, want %q (%v)", got, tc.want, reqs[0].Tags)
			}
		})
	}
}
