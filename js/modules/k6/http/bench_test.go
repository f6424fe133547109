package http_test

import (
	"context"
	"io"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// BenchmarkGetIteration measures one iteration of `http.get(BASE + '/health')` on a VU against
// a loopback server: the runner's hot path (JS call, request, samples, response object).
func BenchmarkGetIteration(b *testing.B) { benchGet(b, false) }

// BenchmarkGetIterationNetHTTP is BenchmarkGetIteration with the fast path off (every request
// through net/http): the measured reason the fast path exists.
func BenchmarkGetIterationNetHTTP(b *testing.B) { benchGet(b, true) }

func benchGet(b *testing.B, netHTTPOnly bool) {
	srv := server(b)
	h := jstest.MustLoad(b, "import http from 'k6/http';\nconst U = __ENV.BASE + '/health';\nexport default function () { http.get(U); }\n",
		map[string]string{"BASE": srv.URL})
	st := h.State(1)
	if netHTTPOnly {
		httpmod.UseNetHTTPOnly(st)
	}
	v, err := h.Bundle.NewVU(context.Background(), st)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.RunIteration(ctx, "default", nil); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			h.Samples.Reset()
		}
	}
}

// BenchmarkGetWithCheck adds a name tag and a check, like the user guide's REST script.
func BenchmarkGetWithCheck(b *testing.B) {
	srv := server(b)
	h := jstest.MustLoad(b, "import http from 'k6/http';\nimport { check } from 'k6';\nconst U = __ENV.BASE + '/health';\n"+
		"export default function () { const r = http.get(U, { tags: { name: 'health' } }); check(r, { 'is 200': (x) => x.status === 200 }); }\n",
		map[string]string{"BASE": srv.URL})
	v := h.VU(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.RunIteration(ctx, "default", nil); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			h.Samples.Reset()
		}
	}
}

// BenchmarkBaselineGo is the floor: a plain net/http GET of the same endpoint.
func BenchmarkBaselineGo(b *testing.B) {
	srv := server(b)
	c := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Get(srv.URL + "/health")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkPostIteration is BenchmarkGetIteration with a small JSON body, the shape of the
// inference endpoint's load: a request that cannot be replayed, so the fast path checks an
// idle connection before reusing it.
func BenchmarkPostIteration(b *testing.B) {
	srv := server(b)
	h := jstest.MustLoad(b, "import http from 'k6/http';\nconst U = __ENV.BASE + '/echo';\nconst B = JSON.stringify({ text: 'I feel fine today', id: 1 });\n"+
		"const P = { headers: { 'Content-Type': 'application/json' } };\nexport default function () { http.post(U, B, P); }\n",
		map[string]string{"BASE": srv.URL})
	v := h.VU(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.RunIteration(ctx, "default", nil); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			h.Samples.Reset()
		}
	}
}
