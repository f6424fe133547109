package simulator

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
// printable ASCII without escapes — and returns ok = false for anything else, which
// handleText then decodes (and diagnoses) the general way.
func parseChunkFrame(b []byte) (c chunkFrame, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	var seen uint8
	isChunk := false
	for {
		i = skipWS(b, i+1)
		key, j, ok := plainString(b, i)
		if !ok {
			return c, false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = skipWS(b, i+1)
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
			n, j, ok := plainInt(b, i)
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
		i = skipWS(b, i)
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
	if skipWS(b, i+1) != len(b) {
		return c, false
	}
	return c, isChunk
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] made of printable ASCII without escapes; it
// returns its content and the index after the closing quote.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, i, false
		}
	}
	return nil, i, false
}

// plainInt reads a JSON integer at b[i] (optional minus, no leading zero, at most 18
// digits so it cannot overflow) followed by a delimiter.
func plainInt(b []byte, i int) (n int64, next int, ok bool) {
	j := i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		n = n*10 + int64(b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, i, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, j, true
}
