// Package stream is the goja-free multimodal streaming client behind pixel.stream: it opens a
// WebSocket to a Pixelated Empathy /ws/pixel-multimodal endpoint, sends a start message,
// streams pre-built text, audio and image chunks paced in real time, matches the server's
// chunk acknowledgements to the chunks by client_seq, sends end, waits for the final
// inference and closes.
//
// It owns session pacing (the pure Schedule), chunk building (BuildChunks), the tiny parser
// for server messages, the opening handshake, and the session protocol as a state machine on
// an event loop (internal/evloop): the goroutine that calls Driver.Run dials and performs the
// handshake, then hands the connection to its Driver's loop, where every session's pacing
// timers, frame writes, ack matching and timing run, and waits. A session has no goroutine
// of its own: at 1000 concurrent sessions on two cores, a reader and a writer goroutine per
// connection spent more CPU in the Go scheduler than in the work (see the README of
// extension/pixel). Measurements are reported as they happen through an Observer and
// summarised in a Result; every failure is returned as an ErrorKind, never a panic, and Run
// returns once the session's connection is closed.
//
// A Driver has an owner that closes it: the package keeps no Driver of its own (k6/x/pixel
// keeps one per test run, closed when the run ends).
//
// It imports no JavaScript engine and no pixelk6 package, so it can be used, tested and
// benchmarked on its own.
package stream
