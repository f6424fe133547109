package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/pixelk6/pixelk6/simulator/pixelpb"
)

// startGRPC starts a server with REST and gRPC on free loopback ports; it returns a gRPC
// connection to it and the REST base URL. Both close when the test ends.
func startGRPC(t *testing.T, cfg Config) (*Server, *grpc.ClientConn, string) {
	t.Helper()
	s, base := startServer(t, cfg)
	addr, err := s.StartGRPC("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, conn, base
}

// TestGRPCInferMatchesREST checks that Infer labels every phrase as POST /api/ai/pixel/infer
// does, and that both count in the same ground truth.
func TestGRPCInferMatchesREST(t *testing.T) {
	s, conn, base := startGRPC(t, Config{})
	cl := pixelpb.NewInferenceClient(conn)
	prompts := []string{"hello", "I feel hopeless", "ok boomer and man up", "this is my goodbye"}
	for _, p := range append(CrisisPhrases(), BiasPhrases()...) {
		prompts = append(prompts, "well, "+p.Text+".")
	}
	for _, p := range prompts {
		g, err := cl.Infer(context.Background(), &pixelpb.InferRequest{Prompt: p})
		if err != nil {
			t.Fatalf("Infer(%q): %v", p, err)
		}
		code, _, body := do(t, "POST", base+PathInfer, `{"prompt":`+string(mustJSON(t, p))+`}`)
		if code != 200 {
			t.Fatalf("REST %q: %d %s", p, code, body)
		}
		var r InferResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		gc, gb := g.GetCrisis(), g.GetBias()
		if gc.GetDetected() != r.Crisis.Detected || gc.GetRiskLevel() != r.Crisis.RiskLevel || gc.GetConfidence() != r.Crisis.Confidence ||
			gb.GetDetected() != r.Bias.Detected || !slices.Equal(gb.GetCategories(), r.Bias.Categories) ||
			gb.GetScore() != r.Bias.Score || g.GetResponse() != r.Response || g.GetModel() != r.Model {
			t.Errorf("%q: gRPC %v, REST %+v", p, g, r)
		}
	}
	st := s.Stats()
	if st.GRPCInferences != uint64(len(prompts)) || st.InferTotal != uint64(len(prompts)) {
		t.Errorf("stats: %d gRPC and %d REST inferences, want %d each", st.GRPCInferences, st.InferTotal, len(prompts))
	}
	if st.Crisis["imminent"]%2 != 0 || st.Crisis["imminent"] == 0 {
		t.Errorf("crisis counts %v: each label counted once per endpoint", st.Crisis)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGRPCInferErrors(t *testing.T) {
	_, conn, _ := startGRPC(t, Config{Faults: Faults{ErrorRate: 1, ErrorStatus: 500}})
	cl := pixelpb.NewInferenceClient(conn)
	tests := []struct {
		name string
		req  *pixelpb.InferRequest
		code codes.Code
	}{
		{"no prompt", &pixelpb.InferRequest{}, codes.InvalidArgument},
		{"unknown modality", &pixelpb.InferRequest{Prompt: "x", Modalities: []string{"smell"}}, codes.InvalidArgument},
		{"injected failure", &pixelpb.InferRequest{Prompt: "x"}, codes.Internal},
		{"audio only is a request", &pixelpb.InferRequest{Audio: []byte{1}}, codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cl.Infer(context.Background(), tt.req)
			if status.Code(err) != tt.code {
				t.Errorf("status %v (%v), want %v", status.Code(err), err, tt.code)
			}
		})
	}
}

// TestGRPCStream runs a multimodal session: ready, acks with the client's seq, an error
// for a bad message (the session goes on), the inference on the text, and a second
// message after it.
func TestGRPCStream(t *testing.T) {
	s, conn, _ := startGRPC(t, Config{})
	st, err := pixelpb.NewInferenceClient(conn).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	send := []*pixelpb.StreamRequest{
		{Type: "start", SessionId: "s1", Modalities: []string{"text", "image"}},
		{Type: "chunk", Seq: 7, Text: "I feel"},
		{Type: "chunk", Seq: 8, Modality: "image", Data: []byte{1, 2}},
		{Type: "chunk", Seq: 9, Modality: "smell"},
		{Type: "nonsense"},
		{Type: "chunk", Seq: 10, Text: "hopeless, your kind"},
		{Type: "end"},
		{Type: "chunk", Seq: 11, Text: "hello"},
		{Type: "end"},
	}
	for _, m := range send {
		if err := st.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var got []string
	var risks []string
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch m.GetType() {
		case "chunk_ack":
			got = append(got, "ack"+string(rune('0'+m.GetClientSeq()%10)))
		case "inference":
			got = append(got, "inference")
			risks = append(risks, m.GetInference().GetCrisis().GetRiskLevel())
			if m.GetSessionId() != "s1" {
				t.Errorf("inference session %q", m.GetSessionId())
			}
		default:
			got = append(got, m.GetType())
		}
	}
	want := "ready ack7 ack8 error error ack0 inference ack1 inference"
	if strings.Join(got, " ") != want {
		t.Errorf("messages %q, want %q", strings.Join(got, " "), want)
	}
	if strings.Join(risks, ",") != "medium,none" {
		t.Errorf("risks %v, want medium then none", risks)
	}
	stats := s.Stats()
	if stats.GRPCStreamsTotal != 1 || stats.GRPCChunksAcked != 4 || stats.GRPCStreamInferences != 2 || stats.Bias["race"] != 1 {
		t.Errorf("stats %+v", stats)
	}
}

// TestGRPCReflectionAndHealth checks that reflection lists the inference service and the
// health service, and that health reports SERVING for the server and the service.
func TestGRPCReflectionAndHealth(t *testing.T) {
	_, conn, _ := startGRPC(t, Config{})
	rs, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}}); err != nil {
		t.Fatal(err)
	}
	res, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range res.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{GRPCService, "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, not %s", names, want)
		}
	}
	_ = rs.CloseSend()
	for _, svc := range []string{"", GRPCService} {
		h, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: %v %v", svc, h, err)
		}
	}
}

// TestGRPCCloseEndsOpenStreams checks that Close returns while a client holds a stream
// open (its connection is cut after the grace period at most).
func TestGRPCCloseEndsOpenStreams(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.StartGRPC("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, err := pixelpb.NewInferenceClient(conn).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pixelpb.StreamRequest{Type: "start"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err == nil {
		t.Error("the stream is still open after Close")
	}
}

// TestRunGRPCAddr starts the command line with --grpc-addr and calls the address it prints.
func TestRunGRPCAddr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"--addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--latency=0"}, pw, &stderr)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "pixelsim gRPC listening on "); ok {
			addr, _, _ = strings.Cut(a, " ")
			break
		}
	}
	if addr == "" {
		t.Fatalf("no gRPC address printed; stderr %q", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r, err := pixelpb.NewInferenceClient(conn).Infer(context.Background(), &pixelpb.InferRequest{Prompt: "I feel lonely"})
	if err != nil || r.GetCrisis().GetRiskLevel() != RiskLow {
		t.Fatalf("Infer: %v %v", r, err)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
