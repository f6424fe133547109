package grpc_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	gogrpc "google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
	"github.com/pixelk6/pixelk6/simulator"
	"github.com/pixelk6/pixelk6/simulator/pixelpb"
)

// benchScript is one unary call per iteration on a connection made in the first.
const benchScript = `
import grpc from 'k6/net/grpc';
const client = new grpc.Client();
client.load(null, 'pixel.proto');
let connected = false;
export default () => {
  if (!connected) { client.connect(__ENV.ADDR, { plaintext: true }); connected = true; }
  const res = client.invoke('pixel.v1.Inference/Infer', { prompt: 'I feel hopeless' });
  if (res.status !== grpc.StatusOK || res.message.crisis.risk_level !== 'medium') throw new Error('bad answer');
};
`

// BenchmarkUnary measures unary Infer calls against pixelsim's gRPC endpoint (no model
// latency) two ways in the same run: through pixelk6 (a JS iteration calling
// client.invoke, with its sample) and with a plain grpc-go client of the generated stubs,
// the reference. "serial" is one VU (one goroutine); "parallel" is one VU per goroutine of
// b.RunParallel. Run: go test ./js/modules/k6/net/grpc -run '^$' -bench Unary -benchtime 2s
func BenchmarkUnary(b *testing.B) {
	cfg := simulator.DefaultConfig()
	cfg.Latency = simulator.Latency{}
	srv, err := simulator.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	addr, err := srv.StartGRPC("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()

	dir := b.TempDir()
	proto, err := os.ReadFile("../../../../../simulator/pixelpb/pixel.proto")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "bench.js")
	if err := os.WriteFile(filepath.Join(dir, "pixel.proto"), proto, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(benchScript), 0o644); err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	builtin := metrics.RegisterBuiltin(reg)
	bundle, err := js.Load(context.Background(), path, js.LoadOptions{Env: map[string]string{"ADDR": addr}, Registry: reg, Logger: nopLogger{}})
	if err != nil {
		b.Fatal(err)
	}
	defer bundle.Close()
	var samples atomic.Int64
	sink := metrics.PusherFunc(func(_ context.Context, s []metrics.Sample) { samples.Add(int64(len(s))) })
	var vuID atomic.Uint64
	newVU := func(b *testing.B) (js.VU, *modules.State) {
		id := vuID.Add(1)
		st := &modules.State{VUID: id, VUIDGlobal: id, Scenario: "default", Tags: modules.NewTagMap(nil),
			Registry: reg, Builtin: builtin, Samples: sink, Logger: nopLogger{}, Bytes: &modules.ByteCounter{}}
		vu, err := bundle.NewVU(context.Background(), st)
		if err != nil {
			b.Fatal(err)
		}
		return vu, st
	}
	iterate := func(b *testing.B, vu js.VU, st *modules.State, i int64) {
		st.Iteration = i
		if err := vu.RunIteration(context.Background(), "default", nil); err != nil {
			b.Fatal(err)
		}
	}
	conn, err := gogrpc.NewClient(addr, gogrpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	cl := pixelpb.NewInferenceClient(conn)
	call := func(b *testing.B) {
		res, err := cl.Infer(context.Background(), &pixelpb.InferRequest{Prompt: "I feel hopeless"})
		if err != nil || res.GetCrisis().GetRiskLevel() != simulator.RiskMedium {
			b.Fatalf("Infer: %v %v", res, err)
		}
	}

	b.Run("serial/pixelk6", func(b *testing.B) {
		vu, st := newVU(b)
		defer vu.Close()
		iterate(b, vu, st, 0)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			iterate(b, vu, st, int64(i+1))
		}
	})
	b.Run("serial/grpc-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call(b)
		}
	})
	b.Run("parallel/pixelk6", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			vu, st := newVU(b)
			defer vu.Close()
			var i int64
			for pb.Next() {
				iterate(b, vu, st, i)
				i++
			}
		})
	})
	b.Run("parallel/grpc-go", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				call(b)
			}
		})
	})
	if samples.Load() == 0 {
		b.Error("pixelk6 pushed no samples")
	}
}

type nopLogger struct{}

func (nopLogger) Log(string, string) {}
