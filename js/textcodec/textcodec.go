// Package textcodec is the TextEncoder and TextDecoder globals (WHATWG Encoding Standard,
// UTF-8 only, as k6 has them): TextEncoder's encode and encodeInto, TextDecoder's decode with
// the fatal and ignoreBOM options and streaming ({stream: true}).
package textcodec

import (
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// nullish reports an omitted, undefined or null argument.
func nullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }

func throwType(rt *goja.Runtime, msg string) {
	panic(rt.NewTypeError(msg))
}

// Encoder returns the TextEncoder constructor.
func Encoder(rt *goja.Runtime) goja.Value {
	return rt.ToValue(func(call goja.ConstructorCall) *goja.Object {
		o := call.This
		_ = o.DefineDataProperty("encoding", rt.ToValue("utf-8"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		_ = o.Set("encode", func(v goja.Value) goja.Value {
			s := ""
			if v != nil && !goja.IsUndefined(v) {
				s = v.String()
			}
			return uint8Array(rt, []byte(s))
		})
		_ = o.Set("encodeInto", func(v goja.Value, dst *goja.Object) goja.Value {
			b, ok := dst.Export().([]byte)
			if !ok {
				throwType(rt, "TextEncoder.encodeInto: the destination must be a Uint8Array")
			}
			s := v.String()
			read, written := 0, 0
			for _, r := range s {
				n := utf8.RuneLen(r)
				if n < 0 {
					r, n = utf8.RuneError, 3
				}
				if written+n > len(b) {
					break
				}
				utf8.EncodeRune(b[written:], r)
				written += n
				read++
				if r >= 0x10000 {
					read++ // two UTF-16 code units
				}
			}
			res := rt.NewObject()
			_ = res.Set("read", read)
			_ = res.Set("written", written)
			return res
		})
		return nil
	})
}

func uint8Array(rt *goja.Runtime, b []byte) goja.Value {
	ctor, ok := goja.AssertConstructor(rt.Get("Uint8Array"))
	if !ok {
		panic(rt.NewTypeError("Uint8Array is not a constructor"))
	}
	o, err := ctor(nil, rt.ToValue(rt.NewArrayBuffer(b)))
	if err != nil {
		panic(err)
	}
	return o
}

// labels are the names of UTF-8 the Encoding Standard accepts.
var labels = map[string]bool{"utf-8": true, "utf8": true, "unicode-1-1-utf-8": true,
	"unicode11utf8": true, "unicode20utf8": true, "x-unicode20utf8": true}

// Decoder returns the TextDecoder constructor.
func Decoder(rt *goja.Runtime) goja.Value {
	return rt.ToValue(func(call goja.ConstructorCall) *goja.Object {
		label := "utf-8"
		if v := call.Argument(0); !nullish(v) {
			label = strings.ToLower(strings.TrimSpace(v.String()))
		}
		if !labels[label] {
			panic(rangeError(rt, "TextDecoder: encoding "+label+" is not supported (only utf-8)"))
		}
		d := &decoder{}
		if opts, ok := call.Argument(1).(*goja.Object); ok {
			d.fatal = opts.Get("fatal") != nil && opts.Get("fatal").ToBoolean()
			d.ignoreBOM = opts.Get("ignoreBOM") != nil && opts.Get("ignoreBOM").ToBoolean()
		}
		o := call.This
		ro := func(name string, v any) {
			_ = o.DefineDataProperty(name, rt.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
		ro("encoding", "utf-8")
		ro("fatal", d.fatal)
		ro("ignoreBOM", d.ignoreBOM)
		_ = o.Set("decode", func(input, opts goja.Value) string {
			var b []byte
			if !nullish(input) {
				var ok bool
				if b, ok = bytesOf(input); !ok {
					throwType(rt, "TextDecoder.decode: want an ArrayBuffer, a typed array or a DataView")
				}
			}
			stream := false
			if o, ok := opts.(*goja.Object); ok {
				stream = o.Get("stream") != nil && o.Get("stream").ToBoolean()
			}
			s, err := d.decode(b, stream)
			if err != nil {
				throwType(rt, err.Error())
			}
			return s
		})
		return nil
	})
}

func rangeError(rt *goja.Runtime, msg string) goja.Value {
	if ctor, ok := goja.AssertConstructor(rt.Get("RangeError")); ok {
		if o, err := ctor(nil, rt.ToValue(msg)); err == nil {
			return o
		}
	}
	return rt.NewTypeError(msg)
}

func bytesOf(v goja.Value) ([]byte, bool) {
	switch x := v.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes(), true
	case []byte:
		return x, true
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil, false
	}
	off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
	b := buf.Bytes()
	if off < 0 || n < 0 || off+n > int64(len(b)) {
		return nil, false
	}
	return b[off : off+n], true
}

// decoder is a TextDecoder's state: the options and, while streaming, the bytes of an
// incomplete sequence and whether the BOM has been looked for.
type decoder struct {
	fatal, ignoreBOM bool
	pending          []byte
	bomSeen          bool
}

type decodeError struct{}

func (decodeError) Error() string { return "TextDecoder.decode: the input is not valid UTF-8" }

func (d *decoder) decode(in []byte, stream bool) (string, error) {
	b := append(d.pending, in...)
	d.pending = nil
	if !d.bomSeen && !d.ignoreBOM {
		if len(b) < 3 && stream && len(b) > 0 && string(b) == "\xef\xbb\xbf"[:len(b)] {
			d.pending = b
			return "", nil
		}
		b = []byte(strings.TrimPrefix(string(b), "\xef\xbb\xbf"))
	}
	if len(b) > 0 || !stream {
		d.bomSeen = stream
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if stream && !utf8.FullRune(b) {
				d.pending = append([]byte(nil), b...)
				break
			}
			if d.fatal {
				d.bomSeen = false
				return "", decodeError{}
			}
			sb.WriteRune(utf8.RuneError)
			b = b[invalidLen(b):]
			continue
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	if !stream {
		d.bomSeen = false
	}
	return sb.String(), nil
}

// invalidLen is how many bytes one U+FFFD replaces at the start of b (the Encoding
// Standard's maximal subpart: a valid prefix of a sequence cut short counts as one).
func invalidLen(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead >= 0xE0 && lead <= 0xEF:
		need = 2
		if lead == 0xE0 {
			lo = 0xA0
		} else if lead == 0xED {
			hi = 0x9F
		}
	case lead >= 0xF0 && lead <= 0xF4:
		need = 3
		if lead == 0xF0 {
			lo = 0x90
		} else if lead == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		c := b[i]
		if c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
