package js

import (
	"reflect"
	"unicode/utf8"
	"unsafe"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/internal/jsonx"
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
//     winning, "__proto__" an own property. Scanning and decoding are jsonx's, which is
//     held to encoding/json (goja's decoder) by its own differential fuzzing.
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
	s   string // the document
	b   []byte // the same bytes, read-only, for jsonx
	i   int
	buf []byte // unescaped strings
}

// parse returns the value of the JSON document s, or false where goja's parser must
// decide (invalid, unusual or too deep input).
func (p *jsonParser) parse(s string) (v goja.Value, ok bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	// jsonx reads byte slices; b views s's bytes without a copy and is never written.
	p.s, p.b, p.i = s, unsafe.Slice(unsafe.StringData(s), len(s)), 0
	defer func() { p.s, p.b = "", nil }()
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

func (p *jsonParser) space() { p.i = jsonx.SkipWS(p.b, p.i) }

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

// number reads a JSON number as encoding/json does; out of float64's range goes to goja's
// parser.
func (p *jsonParser) number() (goja.Value, bool) {
	next := jsonx.ScanNumber(p.b, p.i)
	if next < 0 {
		return nil, false
	}
	f, ok := jsonx.ParseNumber(p.b[p.i:next])
	if !ok {
		return nil, false
	}
	p.i = next
	return p.rt.ToValue(f), true
}

// str reads the JSON string at p.i: a plain one (ASCII, no escapes) is a substring of the
// document, any other is decoded by jsonx as encoding/json decodes it.
func (p *jsonParser) str() (string, bool) {
	next, plain := jsonx.ScanString(p.b, p.i)
	if next < 0 {
		return "", false
	}
	start := p.i + 1
	p.i = next
	if plain {
		return p.s[start : next-1], true
	}
	p.buf = jsonx.AppendUnquoted(p.buf[:0], p.b[start:next-1])
	return string(p.buf), true
}
