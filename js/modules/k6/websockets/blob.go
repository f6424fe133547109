package websockets

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/gorilla/websocket"

	"github.com/pixelk6/pixelk6/js/modules"
)

// blob is a Blob's immutable content.
type blob struct {
	data []byte
	typ  string
}

// newBlobCall is `new Blob([parts], [{type}])`: parts are strings (UTF-8), ArrayBuffers,
// typed arrays, DataViews and Blobs, concatenated.
func (m *instance) newBlobCall(call goja.ConstructorCall) *goja.Object {
	rt := m.vu.Runtime()
	var data []byte
	if parts := call.Argument(0); !modules.IsNullish(parts) {
		po, ok := parts.(*goja.Object)
		if !ok {
			panic(rt.NewTypeError("Blob: the parts must be an array"))
		}
		n := int(po.Get("length").ToInteger())
		for i := range n {
			p := po.Get(fmt.Sprint(i))
			if b, ok := m.bytesOf(p); ok {
				data = append(data, b...)
			} else {
				data = append(data, p.String()...)
			}
		}
	}
	typ := ""
	if opts := call.Argument(1); !modules.IsNullish(opts) {
		if t := opts.ToObject(rt).Get("type"); !modules.IsNullish(t) {
			typ = strings.ToLower(t.String())
		}
	}
	m.initBlob(call.This, &blob{data: data, typ: typ})
	return nil
}

// newBlob returns a new Blob holding data (not copied: the caller gives it up).
func (m *instance) newBlob(data []byte, typ string) *goja.Object {
	o, err := m.vu.Runtime().New(m.blobCtl)
	if err != nil {
		panic(err)
	}
	m.blobOf(o).data, m.blobOf(o).typ = data, typ
	return o
}

// initBlob puts the Blob API on o.
func (m *instance) initBlob(o *goja.Object, b *blob) {
	rt := m.vu.Runtime()
	_ = o.DefineDataPropertySymbol(m.blobKey, rt.ToValue(b), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = o.DefineAccessorProperty("size", rt.ToValue(func() int { return len(b.data) }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = o.DefineAccessorProperty("type", rt.ToValue(func() string { return b.typ }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	resolved := func(v any) goja.Value {
		p, resolve, _ := rt.NewPromise()
		_ = resolve(v)
		return rt.ToValue(p)
	}
	_ = o.Set("text", func() goja.Value { return resolved(string(b.data)) })
	_ = o.Set("arrayBuffer", func() goja.Value {
		return resolved(rt.NewArrayBuffer(append([]byte(nil), b.data...)))
	})
	_ = o.Set("bytes", func() goja.Value {
		u8, err := rt.New(rt.Get("Uint8Array"), rt.ToValue(rt.NewArrayBuffer(append([]byte(nil), b.data...))))
		if err != nil {
			panic(err)
		}
		return resolved(u8)
	})
	_ = o.Set("slice", func(call goja.FunctionCall) goja.Value {
		n := int64(len(b.data))
		start, end := int64(0), n
		if a := call.Argument(0); !goja.IsUndefined(a) {
			start = relIndex(a.ToInteger(), n)
		}
		if a := call.Argument(1); !goja.IsUndefined(a) {
			end = relIndex(a.ToInteger(), n)
		}
		typ := ""
		if a := call.Argument(2); !goja.IsUndefined(a) {
			typ = strings.ToLower(a.String())
		}
		var part []byte
		if end > start {
			part = b.data[start:end:end]
		}
		return m.newBlob(part, typ)
	})
}

// relIndex resolves a Blob.slice index (negative: from the end) into [0, n].
func relIndex(i, n int64) int64 {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

// blobOf returns the content of a Blob object, nil if o is not one.
func (m *instance) blobOf(o *goja.Object) *blob {
	v := o.GetSymbol(m.blobKey)
	if v == nil {
		return nil
	}
	b, _ := v.Export().(*blob)
	return b
}

// bytesOf returns the bytes of a Blob, ArrayBuffer, typed array or DataView value (a copy
// for the mutable ones), false for anything else.
func (m *instance) bytesOf(v goja.Value) ([]byte, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	if b := m.blobOf(o); b != nil {
		return b.data, true
	}
	switch x := o.Export().(type) {
	case goja.ArrayBuffer:
		return append([]byte(nil), x.Bytes()...), true
	}
	// a view: typed array or DataView
	buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil, false
	}
	off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
	all := buf.Bytes()
	if off < 0 || n < 0 || off+n > int64(len(all)) {
		return nil, false
	}
	return append([]byte(nil), all[off:off+n]...), true
}

// frameOf is the frame send(v) writes: text for a string, binary for bytes.
func (m *instance) frameOf(v goja.Value) (frame, error) {
	if b, ok := m.bytesOf(v); ok {
		return frame{kind: websocket.BinaryMessage, data: b}, nil
	}
	if modules.IsNullish(v) {
		return frame{}, errors.New("WebSocket.send: the data must be a string, an ArrayBuffer, a typed array, a DataView or a Blob")
	}
	return frame{kind: websocket.TextMessage, text: v.String()}, nil
}
