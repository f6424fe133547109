// Package pixel is the k6/x/pixel extension: native crisis and bias detection counters for
// Pixelated Empathy inference responses (pixel.inspect), and a multimodal streaming client
// for its /ws/pixel-multimodal endpoint (pixel.stream, pixel.streamAsync) whose pacing, ack
// matching and timing run in Go (package stream).
//
// It is written only against the extension SDK (js/modules) and metrics, exactly as a
// third-party xk6-style extension would be: a blank import of this package registers
// "k6/x/pixel". Metric names, types and units are a contract, defined in package
// pixelmetrics (which the analyzer imports too).
package pixel
