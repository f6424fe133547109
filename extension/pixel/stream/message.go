package stream

import (
	"errors"
	"fmt"
	"strconv"
)

// msgType is the "type" of a server message the client acts on.
type msgType uint8

const (
	msgOther     msgType = iota // a type the client does not know: ignored
	msgReady                    // {"type":"ready"}: the session is set up
	msgAck                      // {"type":"chunk_ack","seq":S,"client_seq":N}
	msgInference                // {"type":"inference",...}: the final result
	msgError                    // {"type":"error",...}: the server rejected something
)

// serverMsg is what the client reads from a server message: its type, and for acks the
// sequence numbers. Everything else is skipped without allocating.
type serverMsg struct {
	typ          msgType
	seq          int64
	clientSeq    int64
	hasClientSeq bool
}

var errNoType = errors.New(`no "type" string`)

// parseServerMsg reads a server message: a JSON object whose top-level "type" is a string;
// "seq" and "client_seq", when present, must be integers. Other members are skipped
// (validated only enough to find their end). It does not allocate.
func parseServerMsg(b []byte) (serverMsg, error) {
	var m serverMsg
	p := jsonScanner{b: b}
	p.ws()
	if !p.eat('{') {
		return m, p.errorf("want an object")
	}
	hasType := false
	p.ws()
	if p.eat('}') {
		return m, errNoType
	}
	for {
		p.ws()
		key, ok := p.str()
		if !ok {
			return m, p.errorf("want a member name")
		}
		p.ws()
		if !p.eat(':') {
			return m, p.errorf("want ':'")
		}
		p.ws()
		switch string(key) { // no allocation: the compiler compares in place
		case "type":
			v, ok := p.str()
			if !ok {
				return m, p.errorf(`"type" is not a string`)
			}
			hasType = true
			switch string(v) {
			case "ready":
				m.typ = msgReady
			case "chunk_ack":
				m.typ = msgAck
			case "inference":
				m.typ = msgInference
			case "error":
				m.typ = msgError
			default:
				m.typ = msgOther
			}
		case "seq", "client_seq":
			n, ok := p.int()
			if !ok {
				return m, p.errorf("%q is not an integer", key)
			}
			if string(key) == "seq" {
				m.seq = n
			} else {
				m.clientSeq, m.hasClientSeq = n, true
			}
		default:
			if !p.skipValue(0) {
				return m, p.errorf("bad value of %q", key)
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return m, p.errorf("want ',' or '}'")
	}
	p.ws()
	if p.i != len(p.b) {
		return m, p.errorf("trailing data")
	}
	if !hasType {
		return m, errNoType
	}
	return m, nil
}

// jsonScanner is a minimal JSON scanner over a byte slice.
type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) errorf(format string, a ...any) error {
	return fmt.Errorf("at byte %d: "+format, append([]any{p.i}, a...)...)
}

func (p *jsonScanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string and returns its raw contents (escapes not decoded).
func (p *jsonScanner) str() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, true
		case c == '\\':
			if !p.escape() {
				return nil, false
			}
		case c < 0x20:
			return nil, false
		default:
			p.i++
		}
	}
	return nil, false
}

// escape skips one escape sequence at p.i (the backslash included).
func (p *jsonScanner) escape() bool {
	if p.i+1 >= len(p.b) {
		return false
	}
	switch p.b[p.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.i += 2
		return true
	case 'u':
		if p.i+6 > len(p.b) {
			return false
		}
		for _, h := range p.b[p.i+2 : p.i+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return false
			}
		}
		p.i += 6
		return true
	}
	return false
}

// int reads an integer (a number with an integral value, e.g. 3 or 3.0).
func (p *jsonScanner) int() (int64, bool) {
	start := p.i
	if !p.number() {
		return 0, false
	}
	s := p.b[start:p.i]
	var n int64
	neg := false
	k := 0
	if s[0] == '-' {
		neg, k = true, 1
	}
	for ; k < len(s); k++ {
		c := s[k]
		if c < '0' || c > '9' {
			f, err := strconv.ParseFloat(string(s), 64)
			if err != nil || f != float64(int64(f)) {
				return 0, false
			}
			return int64(f), true
		}
		n = n*10 + int64(c-'0')
		if n > 1<<53 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

func (p *jsonScanner) number() bool {
	start := p.i
	p.eat('-')
	digits := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		digits++
	}
	if digits == 0 || digits > 1 && p.b[p.i-digits] == '0' {
		p.i = start
		return false
	}
	if p.eat('.') {
		d := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			d++
		}
		if d == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if !p.eat('+') {
			p.eat('-')
		}
		d := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			d++
		}
		if d == 0 {
			return false
		}
	}
	return true
}

func (p *jsonScanner) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// maxDepth bounds the nesting that skipValue follows.
const maxDepth = 64

func (p *jsonScanner) skipValue(depth int) bool {
	if depth > maxDepth || p.i >= len(p.b) {
		return false
	}
	switch p.b[p.i] {
	case '"':
		_, ok := p.str()
		return ok
	case '{':
		p.i++
		p.ws()
		if p.eat('}') {
			return true
		}
		for {
			p.ws()
			if _, ok := p.str(); !ok {
				return false
			}
			p.ws()
			if !p.eat(':') {
				return false
			}
			p.ws()
			if !p.skipValue(depth + 1) {
				return false
			}
			p.ws()
			if p.eat('}') {
				return true
			}
			if !p.eat(',') {
				return false
			}
		}
	case '[':
		p.i++
		p.ws()
		if p.eat(']') {
			return true
		}
		for {
			p.ws()
			if !p.skipValue(depth + 1) {
				return false
			}
			p.ws()
			if p.eat(']') {
				return true
			}
			if !p.eat(',') {
				return false
			}
		}
	case 't':
		return p.lit("true")
	case 'f':
		return p.lit("false")
	case 'n':
		return p.lit("null")
	default:
		return p.number()
	}
}
