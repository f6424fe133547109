package simulator

import "github.com/pixelk6/pixelk6/internal/jsonx"

// chunkFrame is a chunk message read by parseChunkFrame. Its slices alias the frame.
type chunkFrame struct {
	seq      int64
	hasSeq   bool
	modality []byte
	data     []byte // the string's content (no escapes in it)
	hasData  bool
}

// parseChunkFrame is the per-chunk fast path of handleText: it reads the common shape
// {"type":"chunk","seq":N,"modality":"…","data":"…"} (members in any order, each at most
// once, seq/modality/data optional) without encoding/json and without allocating. It
// accepts only what encoding/json would decode identically into wsEnvelope — exact
// lower-case member names, integer seq without a fraction or exponent, strings of
// ASCII without escapes (jsonx's primitives) — and returns ok = false for anything else, which
// handleText then decodes (and diagnoses) the general way.
func parseChunkFrame(b []byte) (c chunkFrame, ok bool) {
	i := jsonx.SkipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	var seen uint8
	isChunk := false
	for {
		i = jsonx.SkipWS(b, i+1)
		key, j, ok := plainString(b, i)
		if !ok {
			return c, false
		}
		i = jsonx.SkipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = jsonx.SkipWS(b, i+1)
		var bit uint8
		switch string(key) {
		case "type":
			bit = 1
			v, j, ok := plainString(b, i)
			if !ok || string(v) != "chunk" {
				return c, false
			}
			isChunk, i = true, j
		case "seq":
			bit = 2
			n, j, ok := jsonx.ScanInt(b, i)
			if !ok {
				return c, false
			}
			c.seq, c.hasSeq, i = n, true, j
		case "modality":
			bit = 4
			v, j, ok := plainString(b, i)
			if !ok {
				return c, false
			}
			c.modality, i = v, j
		case "data":
			bit = 8
			v, j, ok := plainString(b, i)
			if !ok {
				return c, false
			}
			c.data, c.hasData, i = v, true, j
		default:
			return c, false
		}
		if seen&bit != 0 {
			return c, false // a duplicate member: encoding/json keeps the last one
		}
		seen |= bit
		i = jsonx.SkipWS(b, i)
		if i >= len(b) {
			return c, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return c, false
		}
	}
	if jsonx.SkipWS(b, i+1) != len(b) {
		return c, false
	}
	return c, isChunk
}

// plainString reads a JSON string at b[i] made of ASCII without escapes (so its bytes are
// its value); it returns its content and the index after the closing quote.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	next, plain := jsonx.ScanString(b, i)
	if next < 0 || !plain {
		return nil, i, false
	}
	return b[i+1 : next-1], next, true
}
