package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/pixelk6/pixelk6/simulator/pixelpb"
)

// GRPCService is the full name of pixelsim's gRPC inference service (simulator/pixelpb).
const GRPCService = "pixel.v1.Inference"

// grpcStopGrace is how long Close lets gRPC calls finish before cutting their connections
// (a client's idle stream would otherwise hold GracefulStop forever).
const grpcStopGrace = 2 * time.Second

// StartGRPC listens on addr and serves the gRPC inference service (pixel.v1.Inference),
// server reflection and the standard health service in their own goroutine until Close.
// opts are extra server options (grpc.Creds for TLS). It returns the listening address,
// "HOST:PORT".
func (s *Server) StartGRPC(addr string, opts ...grpc.ServerOption) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("pixelsim: listen on %q for gRPC: %w", addr, err)
	}
	return s.ServeGRPC(ln, opts...)
}

// ServeGRPC is StartGRPC on a listener of the caller's.
func (s *Server) ServeGRPC(ln net.Listener, opts ...grpc.ServerOption) (string, error) {
	gs := grpc.NewServer(opts...)
	pixelpb.RegisterInferenceServer(gs, grpcService{s: s})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(GRPCService, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", errClosed
	}
	s.grpcServers = append(s.grpcServers, grpcServing{gs, hs})
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := gs.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.errLog.Printf("serve gRPC %s: %v", ln.Addr(), err)
		}
	}()
	return ln.Addr().String(), nil
}

// grpcServing is one gRPC server and its health service.
type grpcServing struct {
	gs *grpc.Server
	hs *health.Server
}

// stopGRPC reports NOT_SERVING, lets calls finish for grpcStopGrace and then cuts the
// connections that are left.
func stopGRPC(servers []grpcServing) {
	for _, g := range servers {
		g.hs.Shutdown()
	}
	done := make(chan struct{})
	go func() {
		for _, g := range servers {
			g.gs.GracefulStop()
		}
		close(done)
	}()
	t := time.NewTimer(grpcStopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		for _, g := range servers {
			g.gs.Stop()
		}
		<-done
	}
}

// grpcService implements pixel.v1.Inference on the server's model: the same gate, latency,
// faults, labels and counters as REST and WebSocket.
type grpcService struct {
	pixelpb.UnimplementedInferenceServer
	s *Server
}

// grpcError maps an error of Server.infer to a gRPC status.
func grpcError(err error) error {
	switch {
	case errors.Is(err, errOverloaded):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, errClosed):
		return status.Error(codes.Unavailable, "server is shutting down")
	}
	return status.FromContextError(err).Err()
}

// Infer answers one inference as POST /api/ai/pixel/infer does; a request without a
// prompt or media, or with an unknown modality, is InvalidArgument; an overloaded server
// answers ResourceExhausted and an injected failure (--error-rate) Internal.
func (g grpcService) Infer(ctx context.Context, req *pixelpb.InferRequest) (*pixelpb.InferResponse, error) {
	s := g.s
	start := time.Now()
	if req.GetPrompt() == "" && len(req.GetAudio()) == 0 && len(req.GetImage()) == 0 {
		return nil, status.Error(codes.InvalidArgument, `field "prompt" is required (or "audio"/"image")`)
	}
	if err := checkModalities(req.GetModalities()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.(*requestError).msg)
	}
	p := s.draw(true)
	if err := s.infer(ctx, ctx, p); err != nil {
		return nil, grpcError(err)
	}
	if p.fail {
		s.c.injected.Add(1)
		return nil, status.Error(codes.Internal, "injected failure (--error-rate)")
	}
	v := judge(req.GetPrompt())
	s.c.record(v)
	n := s.c.grpcInfer.Add(1)
	elapsed := time.Since(start)
	s.latHist.Observe(elapsed.Seconds())
	return s.inferResponse(string(appendInferID(make([]byte, 0, 24), n, start)), v, elapsed), nil
}

// inferResponse is a verdict as a gRPC message.
func (s *Server) inferResponse(id string, v verdict, elapsed time.Duration) *pixelpb.InferResponse {
	c, b := v.crisis(), v.bias()
	return &pixelpb.InferResponse{
		Id:        id,
		Response:  responseTexts[v.risk],
		LatencyMs: float64(elapsed.Microseconds()) / 1000,
		Model:     s.cfg.Model,
		Crisis:    &pixelpb.Crisis{Detected: c.Detected, RiskLevel: c.RiskLevel, Confidence: c.Confidence},
		Bias:      &pixelpb.Bias{Detected: b.Detected, Categories: b.Categories, Score: b.Score},
	}
}

// Stream is the multimodal session of /ws/pixel-multimodal over gRPC: "start" is answered
// "ready", every "chunk" "chunk_ack", "end" "inference" on the text received since the
// last end; a bad message is answered "error" and the session goes on. Text beyond
// WSConfig.MaxSessionText ends the stream with ResourceExhausted.
func (g grpcService) Stream(st pixelpb.Inference_StreamServer) error {
	s := g.s
	s.c.grpcStreams.Add(1)
	ctx := st.Context()
	var (
		text      []byte
		seq       uint32
		sessionID string
	)
	sendError := func(code, msg string) error {
		return st.Send(&pixelpb.StreamResponse{Type: "error", SessionId: sessionID, Code: code, Message: msg})
	}
	for {
		req, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch req.GetType() {
		case "start":
			if merr := checkModalities(req.GetModalities()); merr != nil {
				err = sendError(CodeBadRequest, merr.(*requestError).msg)
			} else {
				sessionID = req.GetSessionId()
				err = st.Send(&pixelpb.StreamResponse{Type: "ready", SessionId: sessionID})
			}
		case "chunk":
			switch req.GetModality() {
			case "", "text":
				if t := req.GetText(); t != "" {
					if len(text)+len(t)+1 > s.cfg.WS.MaxSessionText {
						return status.Errorf(codes.ResourceExhausted, "session text exceeds %d bytes", s.cfg.WS.MaxSessionText)
					}
					if len(text) > 0 {
						text = append(text, ' ')
					}
					text = append(text, t...)
				}
			case "audio", "image":
				// Media is acknowledged but not judged, as over WebSocket.
			default:
				if err := sendError(CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", req.GetModality())); err != nil {
					return err
				}
				continue
			}
			seq++
			s.c.grpcChunks.Add(1)
			err = st.Send(&pixelpb.StreamResponse{Type: "chunk_ack", SessionId: sessionID, Seq: seq, ClientSeq: req.GetSeq()})
		case "end":
			start := time.Now()
			p := s.draw(false)
			if ierr := s.infer(ctx, ctx, p); ierr != nil {
				if !errors.Is(ierr, errOverloaded) {
					return grpcError(ierr)
				}
				err = sendError(CodeOverloaded, ierr.Error()) // the text stays for the next end
				break
			}
			v := judge(string(text))
			text = text[:0]
			s.c.record(v)
			n := s.c.grpcStreamInfer.Add(1)
			elapsed := time.Since(start)
			s.latHist.Observe(elapsed.Seconds())
			id := string(appendInferID(make([]byte, 0, 24), n, start))
			err = st.Send(&pixelpb.StreamResponse{Type: "inference", SessionId: sessionID, Inference: s.inferResponse(id, v, elapsed)})
		default:
			err = sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q (want start, chunk or end)", req.GetType()))
		}
		if err != nil {
			return err
		}
	}
}
