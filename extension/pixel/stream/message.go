package stream

import (
	"errors"
	"fmt"
	"math"

	"github.com/pixelk6/pixelk6/internal/jsonx"
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
		key, ok := p.str(p.kbuf[:0])
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
			v, ok := p.str(p.vbuf[:0])
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
				return m, p.errorf("%q is not an integer", string(key))
			}
			if string(key) == "seq" {
				m.seq = n
			} else {
				m.clientSeq, m.hasClientSeq = n, true
			}
		default:
			if !p.skipValue() {
				return m, p.errorf("bad value of %q", string(key))
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

// jsonScanner walks a message with jsonx's primitives, keeping the position for errors.
type jsonScanner struct {
	b          []byte
	i          int
	kbuf, vbuf [32]byte // a member name and a string value with escapes, decoded
}

func (p *jsonScanner) errorf(format string, a ...any) error {
	return fmt.Errorf("at byte %d: "+format, append([]any{p.i}, a...)...)
}

func (p *jsonScanner) ws() { p.i = jsonx.SkipWS(p.b, p.i) }

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string and returns its value, decoded into buf when it has escapes.
func (p *jsonScanner) str(buf []byte) ([]byte, bool) {
	s, next, ok := jsonx.ReadString(p.b, p.i, buf)
	if !ok {
		return nil, false
	}
	p.i = next
	return s, true
}

// maxSafeInt is the largest integer a JavaScript number holds exactly (2^53).
const maxSafeInt = 1 << 53

// int reads an integer (a number with an integral value, e.g. 3 or 3.0) of at most 2^53
// in magnitude.
func (p *jsonScanner) int() (int64, bool) {
	if n, next, ok := jsonx.ScanInt(p.b, p.i); ok {
		if n > maxSafeInt || n < -maxSafeInt {
			return 0, false
		}
		p.i = next
		return n, true
	}
	end := jsonx.ScanNumber(p.b, p.i)
	if end < 0 {
		return 0, false
	}
	f, ok := jsonx.ParseNumber(p.b[p.i:end])
	if !ok || f != math.Trunc(f) || math.Abs(f) > maxSafeInt {
		return 0, false
	}
	p.i = end
	return int64(f), true
}

// skipValue skips any value (nesting at most jsonx.MaxDepth).
func (p *jsonScanner) skipValue() bool {
	end := jsonx.SkipValue(p.b, p.i)
	if end < 0 {
		return false
	}
	p.i = end
	return true
}
