// Package simulator owns pixelsim, the reference Pixelated Empathy API that pixelk6 load
// tests by default: a net/http server with a realistic latency model, deterministic
// crisis and bias labels, ground-truth counters and fault injection. It imports no goja.
//
// # Starting it
//
// In a test:
//
//	srv, _ := simulator.New(simulator.DefaultConfig())   // or a Config of your own
//	base, _ := srv.Start("127.0.0.1:0")                   // "http://127.0.0.1:PORT"
//	defer srv.Close()
//	... run the load ...
//	st := srv.Stats()                                     // ground truth
//
// From the shell, `pixelsim` (cmd/pixelsim) calls Run; `pixelsim -h` lists its flags. It
// listens on 127.0.0.1:5173 unless --addr says otherwise; a non-loopback address needs
// --public. It stops on SIGINT/SIGTERM or after --max-life, and exits 0 then, 1 when it
// cannot listen, 2 on bad flags. Its first line on stdout is
// "pixelsim listening on http://HOST:PORT".
//
// Every flag is checked before the server starts; a value out of its range exits 2 with
// one line per bad flag naming it and its value ("pixelsim: --capacity -1: must be in
// [0, 1048576] (0: unlimited)"). Counts, sizes and durations are never negative;
// --capacity and --queue go up to 1048576 (MaxCapacity), --max-body and --ws-read-limit
// up to 1 GiB (MaxBytesLimit), --ws-loops (one OS thread each) from 1 to
// max(64, 4×GOMAXPROCS) (MaxWSLoops); --reject-status is 429 or 503, --error-status a 4xx
// or 5xx, a rate is in [0,1], --model is non-empty UTF-8. A zero means what the help says
// (--capacity 0: unlimited, --stall-for 0: until the client gives up); where it could only
// mean "the default" (--max-body, --ws-read-limit, --ws-text-budget, --ws-idle-timeout,
// --ws-pong-wait, --ws-loops, the statuses) it is refused. New applies the same limits to
// a Config, where a zero field takes its default, and reports a *ConfigError.
//
// # Endpoints
//
//	GET  /health               {"status":"ok","uptime_s",...,"in_flight","requests_total",
//	                           "ws_sessions_active",...,"crisis":{level:n},"bias":{category:n}}
//	GET  /stats                Stats as JSON (the same counters plus responses by status)
//	GET  /metrics              Prometheus text exposition (the server's own registry)
//	POST /api/ai/pixel/infer   {"prompt", optional "session_id","user_id","modalities",
//	                           "audio","image" (base64)} →
//	                           {"id","response","latency_ms","model",
//	                            "crisis":{"detected","risk_level","confidence"},
//	                            "bias":{"detected","categories":[...],"score"}}
//	GET  /ws/pixel-multimodal  WebSocket, below
//
// latency_ms is the server-side processing time in milliseconds (queueing included).
// Errors are JSON {"error":{"code","message"}}: 400 bad_json / bad_request, 404 not_found,
// 405 method_not_allowed (with Allow), 413 body_too_large (body over Config.MaxBodyBytes),
// 429 overloaded (queue full; Config.RejectStatus), 500 injected_fault (Faults.ErrorStatus),
// 503 unavailable (shutting down).
//
// # WebSocket protocol
//
// Client text frames are JSON objects:
//
//	{"type":"start","session_id":"s1","modalities":["text"]}  → {"type":"ready","session_id":"s1"}   (optional)
//	{"type":"chunk","seq":N,"modality":"text","data":"..."}    → {"type":"chunk_ack","seq":S,"client_seq":N}
//	{"type":"end"}                                             → {"type":"inference","session_id","response",
//	                                                               "latency_ms","model","crisis","bias"}
//
// S counts the chunks the server acknowledged in the session (1, 2, ...); N echoes the
// client's seq (null when absent). A binary frame is a chunk too: it is acknowledged
// with client_seq = its position among the session's binary frames, and its bytes are
// treated as media, not judged. Text chunks (modality "text" or none) are joined with
// spaces and judged at "end"; audio and image chunks are acknowledged only. Acks are
// immediate; the inference pays the model latency and takes a worker like a REST call.
// After an inference the text starts afresh, so one session may carry several messages.
// A frame that is not valid JSON, has an unknown type or modality, or a non-integer seq
// gets {"type":"error","error":{"code","message"}} and the session goes on. A message
// over WSConfig.ReadLimit, or text over WSConfig.MaxSessionText, closes the connection
// with 1009. The text buffered by all sessions together is bounded by
// WSConfig.TextBudget (--ws-text-budget, default 256 MiB): a text chunk that would take it
// over closes its session with 1013 "try again later" while the other sessions go on. A
// session's share is the capacity of its text buffer (grown by doubling within
// MaxSessionText); it comes back when the session ends, however it ends, and when an
// inference empties a buffer over 4 KiB. Stats.WSTextBytes is the share in use,
// Stats.WSOverBudget counts the sessions refused. No message for WSConfig.IdleTimeout closes it with 1001 "idle timeout";
// the server pings every PongWait*9/10 and closes with 1001 "keepalive timeout" a peer
// that sent no pong for PongWait. A ping is answered with a pong, a close frame with a
// close frame echoing its code; a frame that breaks RFC 6455 closes the connection with
// 1002, and a text message that is not valid UTF-8 (checked once its fragments are
// joined, so a fragment may end inside a character) with 1007. Server.Close ends every
// session with 1001 "server shutting down".
//
// Every session runs on one event loop (internal/evloop: one goroutine for all the
// connections, epoll on Linux); an inference runs on a goroutine of its own, and the
// session reads nothing more until it is sent, so replies keep the order of the messages.
// When more than WSConfig.SendQueue×256 bytes of replies wait for a peer that reads too
// slowly, the session stops reading it until all are written (backpressure); a peer that
// takes none of them for 10 s is dropped.
//
// # gRPC
//
// With --grpc-addr HOST:PORT (StartGRPC or ServeGRPC in Go, which take grpc.ServerOptions
// such as TLS credentials) pixelsim also serves gRPC: pixel.v1.Inference from
// simulator/pixelpb/pixel.proto, server reflection (grpc.reflection.v1 and v1alpha) and the
// standard health service (SERVING for "" and pixel.v1.Inference; NOT_SERVING once Close
// begins). The stdout line "pixelsim gRPC listening on HOST:PORT ..." follows the HTTP one.
//
//	Infer(InferRequest) → InferResponse   the REST inference: same labels, latency, gate and
//	                                      faults; InvalidArgument for a request REST answers
//	                                      400, ResourceExhausted when overloaded, Internal for
//	                                      an injected failure, Unavailable when shutting down
//	Stream(stream StreamRequest) → stream StreamResponse
//	                                      the WebSocket session: type "start" → "ready",
//	                                      "chunk" → "chunk_ack" (seq, client_seq), "end" →
//	                                      "inference"; a bad message → "error" (code,
//	                                      message) and the session goes on; text over
//	                                      WSConfig.MaxSessionText ends it with ResourceExhausted
//
// Messages' JSON names are the REST body's (risk_level, latency_ms, ...). gRPC inferences
// count in the same label counters as REST and WebSocket ones, and in Stats.GRPCInferences,
// GRPCStreamsTotal, GRPCChunksAcked and GRPCStreamInferences. Close lets calls finish for
// 2 s, then cuts the connections left (a client's idle stream).
//
// # Labels
//
// Label(text) is a pure function. Matching is case-insensitive and on whole words: a
// phrase matches when it occurs with no letter or digit directly before or after it.
// The highest risk level with a matching phrase wins; confidence is 0.55, 0.70, 0.85,
// 0.95 for low … imminent (+0.01 per extra phrase at that level, at most +0.04), 0.02
// for none. Every bias category with a matching phrase is listed in the order below;
// score = min(0.99, 0.6 + 0.1·(matches−1)), 0 when none.
//
// Crisis phrases by risk level:
//
//	low       anxious, overwhelming, overwhelmed, panic attack, can't sleep, stressed out, feeling down, lonely
//	medium    hopeless, worthless, can't go on, self-harm, hurt myself, cutting myself, nobody would care
//	high      suicidal, suicide, want to die, kill myself, end my life, no reason to live
//	imminent  going to kill myself tonight, end my life tonight, i have a plan to die, taking all my pills, this is my goodbye
//
// Bias phrases by category:
//
//	gender         women are too emotional, men don't cry, like a girl, man up, women can't lead
//	race           because of your race, go back to your country, people like them are all, your kind
//	age            too old to, ok boomer, kids these days, at your age
//	religion       your religion is, nonbelievers are, heathens, godless people
//	disability     crazy person, psycho, retarded, lame excuse
//	socioeconomic  poor people are lazy, welfare queen, trailer trash
//
// CrisisPhrases and BiasPhrases return these lists; a test in this package checks that
// this comment and the lists agree.
//
// # Latency and capacity
//
// The model latency is log-normal with a given median and p99 (Latency; Quantile is the
// pure function, Sample draws it), a fixed delay when median = p99, none when both are 0.
// Capacity workers serve inferences; up to QueueLimit more wait (so latency climbs with
// load and a stress test shows a knee); beyond that the answer is RejectStatus at once.
//
// # Faults
//
// Faults.ErrorRate fails that fraction of REST inferences with ErrorStatus (after the
// model latency); SlowRate adds SlowExtra to that fraction of inferences; StallRate
// withholds the answer for StallFor (0: until the client leaves or the server closes);
// DropRate drops that fraction of WebSocket sessions (TCP closed, no close frame) when
// their first message arrives. Every fault is counted in Stats.
//
// A REST client may half-close its connection once its request is sent (shutdown
// SHUT_WR, as `nc -N` does): it still gets its full answer, after the model latency, the
// queue and a stall with an end. Since the server cannot tell that end of input from a
// client that left, a stall without end (StallFor 0) ends with it: the connection is
// closed without an answer (counted as status 499 in Stats), never with an empty 200.
// Otherwise an inference runs to its end, as a model server's would, whether its client
// is still there or not.
package simulator
