package simulator

import (
	"strconv"
	"sync/atomic"
	"time"
)

// counters are the server's lock-free ground-truth counters.
type counters struct {
	requests atomic.Uint64
	inFlight atomic.Int64
	status   [600]atomic.Uint64 // by HTTP status code

	infer        atomic.Uint64 // REST inferences answered 200
	crisis       [len(riskLevels)]atomic.Uint64
	biasCat      [len(biasCategories)]atomic.Uint64
	biasPrimary  [len(biasCategories)]atomic.Uint64
	biasDetected atomic.Uint64

	wsTotal     atomic.Uint64
	wsActive    atomic.Int64
	wsChunks    atomic.Uint64
	wsInfer     atomic.Uint64
	wsDropped   atomic.Uint64
	wsBadFrames atomic.Uint64
	// wsOverBudget counts sessions closed with 1013 (text budget spent).
	wsOverBudget atomic.Uint64

	grpcInfer       atomic.Uint64 // gRPC Infer calls answered OK
	grpcStreams     atomic.Uint64 // gRPC Stream sessions opened
	grpcChunks      atomic.Uint64 // chunks acknowledged on gRPC streams
	grpcStreamInfer atomic.Uint64 // inferences sent on gRPC streams

	injected atomic.Uint64
	slow     atomic.Uint64
	stalled  atomic.Uint64
	rejected atomic.Uint64
}

// record counts the labels of one inference answered (REST or WebSocket).
func (c *counters) record(v verdict) {
	c.crisis[v.risk].Add(1)
	if v.biasMask == 0 {
		return
	}
	c.biasDetected.Add(1)
	first := -1
	for i := range biasCategories {
		if v.biasMask&(1<<i) != 0 {
			c.biasCat[i].Add(1)
			if first < 0 {
				first = i
			}
		}
	}
	c.biasPrimary[first].Add(1)
}

func (c *counters) countStatus(code int) {
	if code >= 0 && code < len(c.status) {
		c.status[code].Add(1)
	}
}

// Stats is a snapshot of the server's counters: the ground truth a load generator's
// metrics can be compared with. Label counts cover every inference answered, REST,
// WebSocket and gRPC together (InferTotal + WSInferences + GRPCInferences +
// GRPCStreamInferences).
type Stats struct {
	UptimeS          float64 `json:"uptime_s"`
	InFlight         int64   `json:"in_flight"`      // HTTP requests being handled (WebSocket sessions excluded)
	RequestsTotal    uint64  `json:"requests_total"` // HTTP requests received, upgrades included
	WorkersBusy      int64   `json:"workers_busy"`   // model workers in use
	Queued           int64   `json:"queued"`         // inferences waiting for a worker
	InferTotal       uint64  `json:"infer_total"`    // REST inferences answered 200
	WSSessionsTotal  uint64  `json:"ws_sessions_total"`
	WSSessionsActive int64   `json:"ws_sessions_active"`
	WSChunksAcked    uint64  `json:"ws_chunks_acked"`
	WSInferences     uint64  `json:"ws_inferences"`  // inference messages sent over WebSocket
	WSDropped        uint64  `json:"ws_dropped"`     // sessions dropped by the drop fault
	WSBadFrames      uint64  `json:"ws_bad_frames"`  // frames answered with an error message
	WSOverBudget     uint64  `json:"ws_over_budget"` // sessions closed with 1013: WSConfig.TextBudget spent
	WSTextBytes      int64   `json:"ws_text_bytes"`  // session text buffered now (of WSConfig.TextBudget), bytes
	// gRPC (pixelsim --grpc-addr): unary Infer answered OK, Stream sessions opened, their
	// chunks acknowledged and their inferences sent.
	GRPCInferences       uint64 `json:"grpc_inferences"`
	GRPCStreamsTotal     uint64 `json:"grpc_streams_total"`
	GRPCChunksAcked      uint64 `json:"grpc_chunks_acked"`
	GRPCStreamInferences uint64 `json:"grpc_stream_inferences"`
	ErrorsInjected       uint64 `json:"errors_injected"`
	SlowTail             uint64 `json:"slow_tail"`
	Stalled              uint64 `json:"stalled"`
	Rejected             uint64 `json:"rejected"` // refused because the queue was full
	// Crisis counts detections per risk level (low, medium, high, imminent; all present).
	Crisis         map[string]uint64 `json:"crisis"`
	CrisisDetected uint64            `json:"crisis_detected"`
	// Bias counts detections per category (every category of a response counts once).
	Bias map[string]uint64 `json:"bias"`
	// BiasPrimary counts biased responses by their first category (categories[0]).
	BiasPrimary  map[string]uint64 `json:"bias_primary"`
	BiasDetected uint64            `json:"bias_detected"` // responses with bias.detected
	// Status counts HTTP responses by status code (only codes seen); 101 is a WebSocket
	// upgrade, 499 an inference whose client left (or half-closed its connection) during
	// a stall without end, so it got no answer.
	Status map[string]uint64 `json:"status"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.c
	busy, queued := s.gate.busy()
	st := Stats{
		UptimeS:              time.Since(s.started).Seconds(),
		InFlight:             c.inFlight.Load(),
		RequestsTotal:        c.requests.Load(),
		WorkersBusy:          busy,
		Queued:               queued,
		InferTotal:           c.infer.Load(),
		WSSessionsTotal:      c.wsTotal.Load(),
		WSSessionsActive:     c.wsActive.Load(),
		WSChunksAcked:        c.wsChunks.Load(),
		WSInferences:         c.wsInfer.Load(),
		WSDropped:            c.wsDropped.Load(),
		WSBadFrames:          c.wsBadFrames.Load(),
		WSOverBudget:         c.wsOverBudget.Load(),
		WSTextBytes:          s.textUsed.Load(),
		GRPCInferences:       c.grpcInfer.Load(),
		GRPCStreamsTotal:     c.grpcStreams.Load(),
		GRPCChunksAcked:      c.grpcChunks.Load(),
		GRPCStreamInferences: c.grpcStreamInfer.Load(),
		ErrorsInjected:       c.injected.Load(),
		SlowTail:             c.slow.Load(),
		Stalled:              c.stalled.Load(),
		Rejected:             c.rejected.Load(),
		Crisis:               make(map[string]uint64, len(riskLevels)-1),
		Bias:                 make(map[string]uint64, len(biasCategories)),
		BiasPrimary:          make(map[string]uint64, len(biasCategories)),
		BiasDetected:         c.biasDetected.Load(),
		Status:               make(map[string]uint64),
	}
	for i := 1; i < len(riskLevels); i++ {
		n := c.crisis[i].Load()
		st.Crisis[riskLevels[i]] = n
		st.CrisisDetected += n
	}
	for i, name := range biasCategories {
		st.Bias[name] = c.biasCat[i].Load()
		st.BiasPrimary[name] = c.biasPrimary[i].Load()
	}
	for code := range c.status {
		if n := c.status[code].Load(); n > 0 {
			st.Status[strconv.Itoa(code)] = n
		}
	}
	return st
}

// appendHealth appends the /health document: the Stats fields without the status map,
// written by hand so the hot path allocates nothing.
func (s *Server) appendHealth(b []byte) []byte {
	c := &s.c
	busy, queued := s.gate.busy()
	b = append(b, `{"status":"ok","uptime_s":`...)
	b = strconv.AppendFloat(b, time.Since(s.started).Seconds(), 'f', 3, 64)
	b = appendIntField(b, "in_flight", c.inFlight.Load())
	b = appendUintField(b, "requests_total", c.requests.Load())
	b = appendIntField(b, "workers_busy", busy)
	b = appendIntField(b, "queued", queued)
	b = appendUintField(b, "infer_total", c.infer.Load())
	b = appendUintField(b, "ws_sessions_total", c.wsTotal.Load())
	b = appendIntField(b, "ws_sessions_active", c.wsActive.Load())
	b = appendUintField(b, "ws_chunks_acked", c.wsChunks.Load())
	b = appendUintField(b, "ws_inferences", c.wsInfer.Load())
	b = appendUintField(b, "ws_dropped", c.wsDropped.Load())
	b = appendUintField(b, "ws_bad_frames", c.wsBadFrames.Load())
	b = appendUintField(b, "ws_over_budget", c.wsOverBudget.Load())
	b = appendIntField(b, "ws_text_bytes", s.textUsed.Load())
	b = appendUintField(b, "grpc_inferences", c.grpcInfer.Load())
	b = appendUintField(b, "grpc_streams_total", c.grpcStreams.Load())
	b = appendUintField(b, "grpc_chunks_acked", c.grpcChunks.Load())
	b = appendUintField(b, "grpc_stream_inferences", c.grpcStreamInfer.Load())
	b = appendUintField(b, "errors_injected", c.injected.Load())
	b = appendUintField(b, "slow_tail", c.slow.Load())
	b = appendUintField(b, "stalled", c.stalled.Load())
	b = appendUintField(b, "rejected", c.rejected.Load())
	b = append(b, `,"crisis":{`...)
	var detected uint64
	for i := 1; i < len(riskLevels); i++ {
		if i > 1 {
			b = append(b, ',')
		}
		n := c.crisis[i].Load()
		detected += n
		b = append(b, '"')
		b = append(b, riskLevels[i]...)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, n, 10)
	}
	b = append(b, '}')
	b = appendUintField(b, "crisis_detected", detected)
	b = appendCategoryCounts(b, "bias", &c.biasCat)
	b = appendCategoryCounts(b, "bias_primary", &c.biasPrimary)
	b = appendUintField(b, "bias_detected", c.biasDetected.Load())
	return append(b, "}\n"...)
}

func appendCategoryCounts(b []byte, name string, n *[len(biasCategories)]atomic.Uint64) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":{`...)
	for i, cat := range biasCategories {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, cat...)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, n[i].Load(), 10)
	}
	return append(b, '}')
}

func appendIntField(b []byte, name string, v int64) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, v, 10)
}

func appendUintField(b []byte, name string, v uint64) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return strconv.AppendUint(b, v, 10)
}
