package js

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// BenchmarkMemoryPerVU measures what a live VU costs, the README's memory budget shape:
// `http.get(BASE + '/health'); sleep(1)` with every VU parked in sleep() after its request
// (the state a 1000-VU run spends its time in). Each round creates vusPerRound VUs through
// Load + NewVU, starts one iteration on each in its own goroutine (as the engine does),
// waits until all of them have made their request, and reads runtime.MemStats:
//
//   - live-B/VU: heap still reachable after a forced GC (goja objects, module instances,
//     HTTP client and connection buffers, VU state);
//   - heap-B/VU: heap in use without forcing a GC (what the process holds between cycles);
//   - stack-B/VU: goroutine stack memory (the VU goroutine, sleeping deep in goja).
//
// The target is a minimal in-process HTTP/1.1 responder (one small goroutine and a 512-byte
// buffer per connection, about 3 KB per VU included in the figures), or
// $PIXELK6_BENCH_URL (e.g. a running pixelsim) when set. Set PIXELK6_HEAPPROFILE=FILE to
// write a heap profile while the VUs are live.
func BenchmarkMemoryPerVU(b *testing.B) {
	const vusPerRound = 200
	if os.Getenv("PIXELK6_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 4096
	}
	var requests atomic.Int64
	base := os.Getenv("PIXELK6_BENCH_URL")
	if base == "" {
		base = leanServer(b, &requests)
	}
	dir := b.TempDir()
	p := filepath.Join(dir, "sleep.js")
	src := "import http from 'k6/http';\nimport { sleep } from 'k6';\n" +
		"export default function () { http.get(`${__ENV.BASE_URL}/health`); sleep(1); }\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	bundle, err := Load(context.Background(), p, LoadOptions{Registry: reg, Env: map[string]string{"BASE_URL": base}})
	if err != nil {
		b.Fatal(err)
	}
	builtin := metrics.RegisterBuiltin(reg)
	var live, inuse, stack float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		requests.Store(0)
		if os.Getenv("PIXELK6_BENCH_URL") != "" {
			requests.Store(vusPerRound)
		}
		ctx, cancel := context.WithCancel(context.Background())
		vus := make([]VU, vusPerRound)
		for j := range vus {
			st := &modules.State{VUID: uint64(j + 1), Scenario: "default", Registry: reg, Builtin: builtin,
				Tags: modules.NewTagMap(nil), Samples: metrics.PusherFunc(func(context.Context, []metrics.Sample) {})}
			if vus[j], err = bundle.NewVU(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, v := range vus {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = v.RunIteration(ctx, "default", nil) // cancelled in sleep(1)
			}()
		}
		if os.Getenv("PIXELK6_BENCH_URL") != "" {
			time.Sleep(500 * time.Millisecond) // an outside target: give every VU time to reach sleep()
		}
		for requests.Load() < vusPerRound {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // let the last responses be read and sleep() entered
		var mid runtime.MemStats
		runtime.ReadMemStats(&mid)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if f := os.Getenv("PIXELK6_HEAPPROFILE"); f != "" && i == 0 {
			writeHeapProfile(b, f)
		}
		inuse += float64(mid.HeapInuse) - float64(before.HeapInuse)
		live += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		stack += float64(mid.StackInuse) - float64(before.StackInuse)
		cancel()
		wg.Wait()
		for _, v := range vus {
			v.Close()
		}
		runtime.KeepAlive(vus)
	}
	n := float64(b.N) * vusPerRound
	b.ReportMetric(live/n, "live-B/VU")
	b.ReportMetric(inuse/n, "heap-B/VU")
	b.ReportMetric(stack/n, "stack-B/VU")
}

// leanServer starts a keep-alive HTTP/1.1 responder on 127.0.0.1 that answers every request
// (headers only, no body expected) with a small JSON body and counts them. It is stopped
// when the benchmark ends.
func leanServer(b *testing.B, requests *atomic.Int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}"
	var conns sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	conns.Add(1)
	go func() { // accept loop: ends when the listener closes
		defer conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open[c] = true
			mu.Unlock()
			conns.Add(1)
			go func() { // one connection: ends when it closes
				defer conns.Done()
				defer c.Close()
				var buf [512]byte
				var tail []byte
				for {
					n, err := c.Read(buf[:])
					if err != nil {
						return
					}
					tail = append(tail, buf[:n]...)
					for {
						i := bytes.Index(tail, []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						tail = tail[i+4:]
						requests.Add(1)
						if _, err := c.Write([]byte(resp)); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	b.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range open {
			_ = c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	return "http://" + ln.Addr().String()
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}
