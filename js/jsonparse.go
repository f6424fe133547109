package js

import (
	"reflect"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// JSON.parse is in the hot path of most load-test scripts (res.json(), JSON.parse(res.body),
// every WebSocket message), and goja's own decodes through encoding/json's token stream: an
// interface value per token and three to seven times the allocations of the objects it
// builds. installJSONParse puts a direct parser in front of it. The fast path only ever
// returns what goja's JSON.parse returns for the same input, because it is taken only
// where the two agree by construction:
//   - a string argument and no reviver (anything else goes to goja's);
//   - input that is valid UTF-8 and strict JSON at a nesting depth of at most maxJSONDepth,
//     whose numbers fit a float64; on anything else the parser gives up and goja's
//     JSON.parse runs on the same argument, so errors and their messages are goja's;
//   - values as goja makes them: numbers through ToValue(float64) (goja's floatToValue),
//     strings decoded as encoding/json decodes them (a lone surrogate escape becomes
//     U+FFFD), object properties defined in document order, the later of two equal keys
//     winning, "__proto__" an own property.
//
// FuzzJSONParse holds the two to the same results.

// maxJSONDepth bounds the fast parser's recursion; deeper documents go to goja's.
const maxJSONDepth = 512

var stringType = reflect.TypeOf("")

// installJSONParse replaces JSON.parse of rt with the fast parser in front of goja's.
func installJSONParse(rt *goja.Runtime) error {
	jsonObj := rt.Get("JSON").ToObject(rt)
	orig, ok := goja.AssertFunction(jsonObj.Get("parse"))
	if !ok {
		return nil
	}
	p := &jsonParser{rt: rt}
	fn := rt.ToValue(func(call goja.FunctionCall) goja.Value {
		if len(call.Arguments) > 0 && (len(call.Arguments) < 2 || call.Arguments[1] == goja.Undefined()) &&
			call.Arguments[0].ExportType() == stringType {
			if v, ok := p.parse(call.Arguments[0].String()); ok {
				return v
			}
		}
		v, err := orig(call.This, call.Arguments...)
		if err != nil {
			panic(err) // goja's own exception (a SyntaxError), rethrown as it is
		}
		return v
	}).(*goja.Object)
	if err := fn.DefineDataProperty("name", rt.ToValue("parse"), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	if err := fn.DefineDataProperty("length", rt.ToValue(2), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	return jsonObj.DefineDataProperty("parse", fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// jsonParser is the fast path of JSON.parse; one per runtime (a VU's goroutine only).
type jsonParser struct {
	rt  *goja.Runtime
	s   string
	i   int
	buf []byte // unescaped strings
}

// parse returns the value of the JSON document s, or false where goja's parser must
// decide (invalid, unusual or too deep input).
func (p *jsonParser) parse(s string) (v goja.Value, ok bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	p.s, p.i = s, 0
	defer func() { p.s = "" }()
	p.space()
	v, ok = p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	if p.i != len(p.s) {
		return nil, false
	}
	return v, true
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (goja.Value, bool) {
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, false
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, false
		}
		return p.array(depth + 1)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		return p.rt.ToValue(s), true
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", goja.Value(p.rt.ToValue(true)))
	case c == 'f':
		return p.literal("false", goja.Value(p.rt.ToValue(false)))
	case c == 'n':
		return p.literal("null", goja.Null())
	}
	return nil, false
}

func (p *jsonParser) literal(word string, v goja.Value) (goja.Value, bool) {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return nil, false
	}
	p.i += len(word)
	return v, true
}

func (p *jsonParser) object(depth int) (goja.Value, bool) {
	p.i++ // {
	o := p.rt.NewObject()
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return o, true
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		// CreateDataProperty, as JSON.parse does: no setter of Object.prototype runs and
		// "__proto__" is an own property.
		if o.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) != nil {
			return nil, false
		}
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.space()
		case '}':
			p.i++
			return o, true
		default:
			return nil, false
		}
	}
}

func (p *jsonParser) array(depth int) (goja.Value, bool) {
	p.i++ // [
	var items []any
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return p.rt.NewArray(), true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		items = append(items, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.space()
		case ']':
			p.i++
			return p.rt.NewArray(items...), true
		default:
			return nil, false
		}
	}
}

// number scans JSON's number grammar strictly and converts it as encoding/json does
// (strconv.ParseFloat); out of float64's range goes to goja's parser.
func (p *jsonParser) number() (goja.Value, bool) {
	s, start := p.s, p.i
	i := p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return nil, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return nil, false
	}
	p.i = i
	return p.rt.ToValue(f), true
}

// str scans a JSON string at p.i and returns its value. Without escapes it is a substring
// of the input; with them it is decoded as encoding/json decodes: \uXXXX pairs make one
// character, a surrogate escape that is not half of a pair becomes U+FFFD.
func (p *jsonParser) str() (string, bool) {
	s := p.s
	i := p.i + 1
	start := i
	for i < len(s) {
		c := s[i]
		if c == '"' {
			p.i = i + 1
			return s[start:i], true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		i++
	}
	b := append(p.buf[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = b
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if x, ok := hex4(s, i+2); ok {
						r2 = x
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return "", false
}

// hex4 reads the four hex digits of a \u escape at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
