// Package jsonx holds the JSON primitives of pixelk6's hand-written JSON writers and
// scanners: the k6 NDJSON records (k6file), pixelsim's responses and chunk frames, and the
// stream client's server messages. Everything works on byte slices at an index and does
// not allocate, so the hot paths that use it stay allocation-free.
//
// Encoding: AppendString.
//
// Scanning: SkipWS, ScanString / ReadString / AppendUnquoted (strings with escapes and
// \uXXXX surrogate pairs), ScanNumber / ParseNumber / ScanInt, and SkipValue (any value,
// nesting bounded by MaxDepth).
// What they accept and decode is what encoding/json accepts and decodes (fuzzed
// differentially against it). Matching member names is left to the callers (encoding/json
// matches struct fields case-insensitively; the hand-written scanners compare exactly).
package jsonx
