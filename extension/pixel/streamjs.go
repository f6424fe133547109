package pixel

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
	driver *stream.Driver // the run's driver (RootModule.driver)
	done   func()         // releases driver; run calls it
}

// streamOptions are pixel.stream's options (index.d.ts StreamOptions). Pointers tell an
// option that was not given from a zero value.
type streamOptions struct {
	inspectOptions
	Headers        map[string]string `js:"headers"`
	Subprotocols   []string          `js:"subprotocols"`
	ConnectTimeout time.Duration     `js:"connectTimeout"`
	AckTimeout     time.Duration     `js:"ackTimeout"`
	SessionTimeout time.Duration     `js:"sessionTimeout"`
	Interval       *time.Duration    `js:"interval"`
	Encoding       *string           `js:"encoding"`
	Acks           *bool             `js:"acks"`
	Start          *bool             `js:"start"`
	SessionID      *string           `js:"sessionId,session_id"`
	Modalities     *[]string         `js:"modalities"`
	Text           string            `js:"text"`
	TextChunkSize  int               `js:"textChunkSize"`
	Chunks         int               `js:"chunks"`
	ChunkSize      int               `js:"chunkSize"`
	Audio          *audioOptions     `js:"audio"`
	Image          *imageOptions     `js:"image"`
}

// audioOptions are stream's audio option (index.d.ts AudioOptions).
type audioOptions struct {
	Frames     int    `js:"frames"`
	FrameMs    int    `js:"frameMs"`
	SampleRate int    `js:"sampleRate"`
	Data       []byte `js:"data"`
}

// imageOptions are stream's image option (index.d.ts ImageOptions).
type imageOptions struct {
	Frames int    `js:"frames"`
	Bytes  int    `js:"bytes"`
	Data   []byte `js:"data"`
}

// prepare reads pixel.stream's arguments (on the VU goroutine). A session it returns must be
// run (run releases its driver).
func (mi *ModuleInstance) prepare(fn string, call goja.FunctionCall) (*session, error) {
	rt := mi.vu.Runtime()
	st, ms := mi.state(fn)
	url := call.Argument(0).String()
	if goja.IsUndefined(call.Argument(0)) || url == "" {
		return nil, fmt.Errorf("pixel.%s: a URL is required", fn)
	}
	o := streamOptions{inspectOptions: inspectOptions{ThrowOnError: mi.throwOnError}}
	if err := modules.DecodeOptions(rt, call.Argument(1), &o); err != nil {
		return nil, fmt.Errorf("pixel.%s: %w", fn, err)
	}
	s := &session{expect: o.Expect, paths: mi.paths, ms: ms, st: st}
	cfg := &s.cfg
	cfg.URL = url
	cfg.Acks = o.Acks == nil || *o.Acks
	if len(o.Headers) > 0 {
		cfg.Header = http.Header{}
		for k, v := range o.Headers {
			cfg.Header.Set(k, v)
		}
	}
	cfg.Subprotocols = o.Subprotocols
	cfg.ConnectTimeout, cfg.AckTimeout, cfg.SessionTimeout = o.ConnectTimeout, o.AckTimeout, o.SessionTimeout

	spec := stream.Spec{Text: o.Text, TextChunkSize: o.TextChunkSize, Chunks: o.Chunks, ChunkSize: o.ChunkSize}
	var err error
	if o.Encoding != nil {
		if spec.Encoding, err = stream.ParseEncoding(*o.Encoding); err != nil {
			return nil, fmt.Errorf("pixel.%s: %w", fn, err)
		}
	}
	if a := o.Audio; a != nil {
		spec.Audio = &stream.AudioSpec{Frames: a.Frames, FrameMs: a.FrameMs, SampleRate: a.SampleRate, PCM: a.Data}
	}
	if im := o.Image; im != nil {
		spec.Image = &stream.ImageSpec{Frames: im.Frames, Bytes: im.Bytes, Data: im.Data}
	}
	if cfg.Chunks, err = mi.root.chunks(spec); err != nil {
		return nil, fmt.Errorf("pixel.%s: %w", fn, err)
	}
	switch {
	case o.Interval != nil:
		cfg.Interval = *o.Interval
	case spec.Audio != nil && spec.Audio.FrameMs > 0:
		cfg.Interval = time.Duration(spec.Audio.FrameMs) * time.Millisecond
	default:
		cfg.Interval = 20 * time.Millisecond
	}

	if o.Start == nil || *o.Start {
		mi.sessions++
		sid := fmt.Sprintf("pixelk6-%d-%d", st.VUIDGlobal, mi.sessions)
		if o.SessionID != nil {
			sid = *o.SessionID
		}
		mods := spec.Modalities()
		if o.Modalities != nil {
			mods = *o.Modalities
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
	s.base = modules.WithSystemTag(st, modules.SampleTags(st, o.Tags), "url", url)
	if s.driver, s.done, err = mi.root.driver(st); err != nil {
		return nil, fmt.Errorf("pixel.%s: %w", fn, err)
	}
	return s, nil
}

// run runs the session and records its samples; it needs no JS, so streamAsync runs it on
// its own goroutine.
func (s *session) run(ctx context.Context) (*stream.Result, *Detection, error) {
	defer s.done()
	rec := newRecorder(ctx, s)
	res := s.driver.Run(ctx, s.cfg, rec)
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
	t := modules.WithSystemTag(r.s.st, r.s.base, "status", strconv.Itoa(status))
	return modules.WithSystemTag(r.s.st, t, "subproto", subproto)
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
		if res.Status != 0 {
			tags = modules.WithSystemTag(r.s.st, tags, "status", strconv.Itoa(res.Status))
		}
	}
	errTags := tags
	if res.Kind != stream.ErrNone {
		errTags = modules.WithSystemTag(r.s.st, tags, "error", string(res.Kind))
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
