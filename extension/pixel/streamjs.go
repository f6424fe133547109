package pixel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/extension/pixel/stream"
	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/metrics"
)

// session is one prepared pixel.stream call: everything read from JS on the VU goroutine,
// so that running it needs no JS.
type session struct {
	cfg    stream.Config
	base   metrics.TagSet // VU tags + custom tags + url
	expect Expect
	paths  Paths
	ms     *metricSet
	st     *modules.State
}

// prepare reads pixel.stream's arguments (on the VU goroutine).
func (mi *ModuleInstance) prepare(fn string, call goja.FunctionCall) (*session, error) {
	rt := mi.vu.Runtime()
	st, ms := mi.state(fn)
	url := call.Argument(0).String()
	if goja.IsUndefined(call.Argument(0)) || url == "" {
		return nil, fmt.Errorf("pixel.%s: a URL is required", fn)
	}
	var obj *goja.Object
	if o := call.Argument(1); !goja.IsUndefined(o) && !goja.IsNull(o) {
		obj = o.ToObject(rt)
	} else {
		obj = rt.NewObject()
	}
	get := func(k string) goja.Value {
		v := obj.Get(k)
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		return v
	}
	iopts := mi.parseInspectOptions(obj)
	s := &session{expect: iopts.expect, paths: mi.paths, ms: ms, st: st}
	cfg := &s.cfg
	cfg.URL = url
	cfg.Acks = true
	if v := get("acks"); v != nil {
		cfg.Acks = v.ToBoolean()
	}
	if h := toStringMap(rt, obj.Get("headers")); len(h) > 0 {
		cfg.Header = http.Header{}
		for k, v := range h {
			cfg.Header.Set(k, v)
		}
	}
	if v := get("subprotocols"); v != nil {
		if err := rt.ExportTo(v, &cfg.Subprotocols); err != nil {
			return nil, fmt.Errorf("pixel.%s: option subprotocols: %w", fn, err)
		}
	}
	var err error
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"connectTimeout", &cfg.ConnectTimeout}, {"ackTimeout", &cfg.AckTimeout}, {"sessionTimeout", &cfg.SessionTimeout}, {"interval", &cfg.Interval}} {
		if *d.dst, err = parseDuration(d.name, get(d.name)); err != nil {
			return nil, fmt.Errorf("pixel.%s: %w", fn, err)
		}
	}

	var spec stream.Spec
	if v := get("encoding"); v != nil {
		if spec.Encoding, err = stream.ParseEncoding(v.String()); err != nil {
			return nil, fmt.Errorf("pixel.%s: %w", fn, err)
		}
	}
	if v := get("text"); v != nil {
		spec.Text = v.String()
	}
	if v := get("textChunkSize"); v != nil {
		spec.TextChunkSize = int(v.ToInteger())
	}
	if v := get("chunks"); v != nil {
		spec.Chunks = int(v.ToInteger())
	}
	if v := get("chunkSize"); v != nil {
		spec.ChunkSize = int(v.ToInteger())
	}
	if v := get("audio"); v != nil {
		a := v.ToObject(rt)
		spec.Audio = &stream.AudioSpec{
			Frames: intOpt(a, "frames"), FrameMs: intOpt(a, "frameMs"), SampleRate: intOpt(a, "sampleRate"),
			PCM: bytesOpt(a, "data"),
		}
	}
	if v := get("image"); v != nil {
		im := v.ToObject(rt)
		spec.Image = &stream.ImageSpec{Frames: intOpt(im, "frames"), Bytes: intOpt(im, "bytes"), Data: bytesOpt(im, "data")}
	}
	if cfg.Chunks, err = mi.root.chunks(spec); err != nil {
		return nil, fmt.Errorf("pixel.%s: %w", fn, err)
	}
	if get("interval") == nil {
		cfg.Interval = 20 * time.Millisecond
		if spec.Audio != nil {
			cfg.Interval = time.Duration(max(spec.Audio.FrameMs, 0)) * time.Millisecond
			if cfg.Interval == 0 {
				cfg.Interval = 20 * time.Millisecond
			}
		}
	}

	if v := get("start"); v == nil || v.ToBoolean() {
		mi.sessions++
		sid := fmt.Sprintf("pixelk6-%d-%d", st.VUIDGlobal, mi.sessions)
		for _, k := range []string{"sessionId", "session_id"} {
			if v := get(k); v != nil {
				sid = v.String()
			}
		}
		mods := spec.Modalities()
		if v := get("modalities"); v != nil {
			mods = nil
			if err := rt.ExportTo(v, &mods); err != nil {
				return nil, fmt.Errorf("pixel.%s: option modalities: %w", fn, err)
			}
		}
		if mods == nil {
			mods = []string{}
		}
		start, err := json.Marshal(struct {
			Type       string   `json:"type"`
			SessionID  string   `json:"session_id"`
			Modalities []string `json:"modalities"`
		}{"start", sid, mods})
		if err != nil {
			return nil, fmt.Errorf("pixel.%s: start message: %w", fn, err)
		}
		cfg.Start = start
	}
	if st.Bytes != nil {
		cfg.Sent, cfg.Received = &st.Bytes.Sent, &st.Bytes.Received
	}
	s.base = baseTags(st, iopts.tags)
	if systemTag(st, "url") {
		s.base = s.base.With("url", url)
	}
	return s, nil
}

func intOpt(o *goja.Object, k string) int {
	v := o.Get(k)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	return int(v.ToInteger())
}

func bytesOpt(o *goja.Object, k string) []byte {
	v := o.Get(k)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	switch x := v.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes()
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

// run runs the session and records its samples; it needs no JS, so streamAsync runs it on
// its own goroutine.
func (s *session) run(ctx context.Context) (*stream.Result, *Detection, error) {
	rec := newRecorder(ctx, s)
	res := stream.Run(ctx, s.cfg, rec)
	det, derr := rec.finish(res)
	return res, det, derr
}

// stream(url, options) runs one streaming session on the VU goroutine and returns its
// result object.
func (mi *ModuleInstance) stream(call goja.FunctionCall) goja.Value {
	rt := mi.vu.Runtime()
	s, err := mi.prepare("stream", call)
	if err != nil {
		panic(rt.NewGoError(err))
	}
	res, det, derr := s.run(mi.vu.Context())
	return resultObject(rt, s, res, det, derr)
}

// streamAsync(url, options) runs the session on its own goroutine and returns a Promise of
// the result object, so one VU can hold several sessions at once. The promise always
// resolves (failures are in the result), except for invalid options, which throw at once.
func (mi *ModuleInstance) streamAsync(call goja.FunctionCall) goja.Value {
	rt := mi.vu.Runtime()
	s, err := mi.prepare("streamAsync", call)
	if err != nil {
		panic(rt.NewGoError(err))
	}
	promise, resolve, _ := rt.NewPromise()
	enqueue := mi.vu.RegisterCallback()
	ctx := mi.vu.Context()
	// Owned by the VU's event loop through RegisterCallback; it ends when the session does,
	// which ctx bounds.
	go func() {
		res, det, derr := s.run(ctx)
		enqueue(func() error {
			return resolve(resultObject(rt, s, res, det, derr))
		})
	}()
	return rt.ToValue(promise)
}

func resultObject(rt *goja.Runtime, s *session, res *stream.Result, det *Detection, derr error) *goja.Object {
	o := rt.NewObject()
	_ = o.Set("ok", res.Err == nil)
	_ = o.Set("url", s.cfg.URL)
	_ = o.Set("status", res.Status)
	_ = o.Set("subprotocol", res.Subprotocol)
	if res.Err != nil {
		_ = o.Set("error", res.Err.Error())
	} else {
		_ = o.Set("error", "")
	}
	_ = o.Set("errorKind", string(res.Kind))
	_ = o.Set("connectingMs", ms(res.Connecting))
	_ = o.Set("durationMs", ms(res.Duration))
	_ = o.Set("chunks", len(s.cfg.Chunks))
	_ = o.Set("chunksSent", res.ChunksSent)
	_ = o.Set("chunksAcked", res.ChunksAcked)
	_ = o.Set("msgsSent", res.MsgsSent)
	_ = o.Set("msgsReceived", res.MsgsRecv)
	_ = o.Set("maxLagMs", ms(res.MaxLag))
	lats := make([]any, len(res.ChunkLatencies))
	for i, l := range res.ChunkLatencies {
		lats[i] = ms(l)
	}
	_ = o.Set("chunkLatencies", rt.NewArray(lats...))
	if res.GotInference {
		_ = o.Set("messageLatencyMs", ms(res.MessageLatency))
		_ = o.Set("inference", detectionObject(rt, derefDetection(det), derr))
		_ = o.Set("raw", string(res.Inference))
	} else {
		_ = o.Set("messageLatencyMs", goja.Null())
		_ = o.Set("inference", goja.Null())
		_ = o.Set("raw", goja.Null())
	}
	return o
}

func derefDetection(d *Detection) Detection {
	if d == nil {
		return Detection{}
	}
	return *d
}

// ms converts a duration to float milliseconds (sub-microsecond resolution kept).
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recorder turns a session's measurements into samples. The stream client calls it from the
// VU's goroutine (Connected) and from its event loop (the rest); it batches: a chunk_latency sample per ack, and
// the counters (chunks_sent, ws_msgs_sent, ws_msgs_received) as one sample per flush whose
// value is the count since the previous flush. It flushes every flushSamples acks or
// flushEvery, whichever comes first, and at the end of the session.
type recorder struct {
	ctx context.Context
	s   *session

	mu                         sync.Mutex
	tags                       metrics.TagSet // base + status + subproto, once connected
	buf                        []metrics.Sample
	msgsSent, chunks, msgsRecv int
	lastFlush                  time.Time
}

const (
	flushSamples = 32
	flushEvery   = 250 * time.Millisecond
)

func newRecorder(ctx context.Context, s *session) *recorder {
	return &recorder{ctx: ctx, s: s, tags: s.base, lastFlush: time.Now()}
}

var _ stream.Observer = (*recorder)(nil)

func (r *recorder) Connected(start time.Time, connecting time.Duration, status int, subproto string) {
	r.mu.Lock()
	r.tags = r.withStatus(status, subproto)
	b := r.s.st.Builtin
	batch := []metrics.Sample{
		{Metric: b.WSSessions, Tags: r.tags, Time: start, Value: 1},
		{Metric: b.WSConnecting, Tags: r.tags, Time: start, Value: ms(connecting)},
	}
	r.mu.Unlock()
	r.pushNow(batch)
}

func (r *recorder) withStatus(status int, subproto string) metrics.TagSet {
	t := r.s.base
	if systemTag(r.s.st, "status") {
		t = t.With("status", fmt.Sprint(status))
	}
	if systemTag(r.s.st, "subproto") {
		t = t.With("subproto", subproto)
	}
	return t
}

func (r *recorder) Sent(at time.Time, chunk bool) {
	r.mu.Lock()
	r.msgsSent++
	if chunk {
		r.chunks++
	}
	batch := r.maybeFlush(at)
	r.mu.Unlock()
	r.pushNow(batch)
}

func (r *recorder) Received(at time.Time) {
	r.mu.Lock()
	r.msgsRecv++
	batch := r.maybeFlush(at)
	r.mu.Unlock()
	r.pushNow(batch)
}

func (r *recorder) Acked(at time.Time, _ int, latency time.Duration) {
	r.mu.Lock()
	r.buf = append(r.buf, metrics.Sample{Metric: r.s.ms.chunkLatency, Tags: r.tags, Time: at, Value: ms(latency)})
	batch := r.maybeFlush(at)
	r.mu.Unlock()
	r.pushNow(batch)
}

// maybeFlush returns the pending batch when it is due (and resets it); nil otherwise.
// Called with mu held.
func (r *recorder) maybeFlush(at time.Time) []metrics.Sample {
	if len(r.buf) < flushSamples && at.Sub(r.lastFlush) < flushEvery {
		return nil
	}
	return r.takeLocked(at)
}

func (r *recorder) takeLocked(at time.Time) []metrics.Sample {
	r.lastFlush = at
	b := r.s.st.Builtin
	add := func(m *metrics.Metric, n *int) {
		if *n > 0 {
			r.buf = append(r.buf, metrics.Sample{Metric: m, Tags: r.tags, Time: at, Value: float64(*n)})
			*n = 0
		}
	}
	add(b.WSMsgsSent, &r.msgsSent)
	add(r.s.ms.chunksSent, &r.chunks)
	add(b.WSMsgsReceived, &r.msgsRecv)
	batch := r.buf
	r.buf = make([]metrics.Sample, 0, flushSamples+4)
	return batch
}

func (r *recorder) pushNow(batch []metrics.Sample) {
	if len(batch) == 0 || r.ctx.Err() != nil || r.s.st.Samples == nil {
		return
	}
	r.s.st.Samples.Push(r.ctx, batch)
}

// finish flushes the session's last samples and records its end: ws_session_duration,
// stream_sessions, ws_connection_failed, message_latency and the detection counters of the
// final inference.
func (r *recorder) finish(res *stream.Result) (*Detection, error) {
	now := time.Now()
	r.mu.Lock()
	batch := r.takeLocked(now)
	tags := r.tags
	r.mu.Unlock()
	b := r.s.st.Builtin
	set := r.s.ms
	connected := res.Status == 101 && !res.Kind.ConnectFailed()
	if !connected {
		tags = r.s.base
		if res.Status != 0 && systemTag(r.s.st, "status") {
			tags = tags.With("status", fmt.Sprint(res.Status))
		}
	}
	errTags := tags
	if res.Kind != stream.ErrNone {
		errTags = tags.With("error", string(res.Kind))
	}
	add := func(m *metrics.Metric, t metrics.TagSet, at time.Time, v float64) {
		batch = append(batch, metrics.Sample{Metric: m, Tags: t, Time: at, Value: v})
	}
	if connected {
		add(b.WSSessionDuration, tags, res.Start, ms(res.Duration))
	}
	add(set.sessions, errTags, now, 1)
	if res.Kind.ConnectFailed() || !connected {
		add(set.connFailed, errTags, now, 1)
	} else {
		add(set.connFailed, tags, now, 0)
	}
	var det *Detection
	var derr error
	if res.GotInference {
		add(set.messageLatency, tags, now, ms(res.MessageLatency))
		d, err := ParseDetection(res.Inference, r.s.paths)
		det, derr = &d, err
		batch = set.detectionSamples(batch, r.s.base, now, d, r.s.expect, err)
	}
	r.pushNow(batch)
	return det, derr
}
