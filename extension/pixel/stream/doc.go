// Package stream is the goja-free multimodal streaming client behind pixel.stream: it opens a
// WebSocket to a Pixelated Empathy /ws/pixel-multimodal endpoint, sends a start message,
// streams pre-built text, audio and image chunks paced in real time, matches the server's
// chunk acknowledgements to the chunks by client_seq, sends end, waits for the final
// inference and closes.
//
// It owns session pacing (the pure Schedule), chunk building (BuildChunks), the tiny parser
// for server messages, and the connection pumps: one reader goroutine per connection, and the
// goroutine that calls Run as the writer. Measurements are reported as they happen through an
// Observer and summarised in a Result; every failure is returned as an ErrorKind, never a
// panic, and Run does not return before the reader goroutine has exited.
//
// It imports no JavaScript engine and no pixelk6 package, so it can be used, tested and
// benchmarked on its own.
package stream
