// Package webcrypto is the `crypto` global as k6 has it (a subset of the W3C Web Cryptography
// API): getRandomValues, randomUUID, and crypto.subtle, whose methods return Promises settled
// on the VU's event loop. What SubtleCrypto supports is listed in subtle.go; anything else
// rejects with a NotSupportedError naming the algorithm. Errors are Error objects whose name
// is the DOMException name the specification gives (OperationError, InvalidAccessError,
// SyntaxError, DataError, NotSupportedError, ...), as k6 rejects with.
package webcrypto

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// DOMException names used here.
const (
	NotSupportedError  = "NotSupportedError"
	OperationError     = "OperationError"
	InvalidAccessError = "InvalidAccessError"
	SyntaxError        = "SyntaxError"
	DataError          = "DataError"
	TypeError          = "TypeError"
	QuotaExceededError = "QuotaExceededError"
	TypeMismatchError  = "TypeMismatchError"
)

// Error is a DOMException-like error: Name is the exception's name.
type Error struct {
	Name, Message string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

func errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}

// jsError makes the script's error object for err: an Error whose name is the DOMException's
// (OperationError for errors that carry none).
func jsError(rt *goja.Runtime, err error) goja.Value {
	var de *Error
	if !errors.As(err, &de) {
		de = &Error{Name: OperationError, Message: err.Error()}
	}
	var o *goja.Object
	if ctor, ok := goja.AssertConstructor(rt.Get("Error")); ok {
		if v, cerr := ctor(nil, rt.ToValue(de.Message)); cerr == nil {
			o = v
		}
	}
	if o == nil {
		o = rt.NewObject()
		_ = o.Set("message", de.Message)
	}
	_ = o.Set("name", de.Name)
	return o
}

// New returns the `crypto` global for a VU.
func New(vu modules.VU) *goja.Object {
	rt := vu.Runtime()
	c := &cryptoObject{vu: vu}
	o := rt.NewObject()
	_ = o.Set("getRandomValues", c.getRandomValues)
	_ = o.Set("randomUUID", c.randomUUID)
	_ = o.Set("subtle", newSubtle(vu))
	return o
}

type cryptoObject struct{ vu modules.VU }

// maxRandomBytes is the most getRandomValues fills at once (the specification's quota).
const maxRandomBytes = 65536

// getRandomValues(typedArray) fills an integer typed array with random values and returns it.
func (c *cryptoObject) getRandomValues(v goja.Value) goja.Value {
	rt := c.vu.Runtime()
	o, ok := v.(*goja.Object)
	if !ok {
		panic(jsError(rt, errorf(TypeMismatchError, "getRandomValues: want an integer typed array, got %s", v)))
	}
	switch o.Export().(type) {
	case []int8, []uint8, []int16, []uint16, []int32, []uint32, []int64, []uint64:
	default:
		panic(jsError(rt, errorf(TypeMismatchError, "getRandomValues: want an integer typed array, got %s", v)))
	}
	b, err := viewBytes(o)
	if err != nil {
		panic(jsError(rt, err))
	}
	if len(b) > maxRandomBytes {
		panic(jsError(rt, errorf(QuotaExceededError, "getRandomValues: %d bytes asked, at most %d", len(b), maxRandomBytes)))
	}
	_, _ = rand.Read(b)
	return v
}

// randomUUID returns a random (version 4) UUID string.
func (c *cryptoObject) randomUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// viewBytes returns the bytes a typed array or DataView views (shared with the script).
func viewBytes(o *goja.Object) ([]byte, error) {
	buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil, errorf(TypeError, "want an ArrayBuffer, a typed array or a DataView")
	}
	off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
	b := buf.Bytes()
	if off < 0 || n < 0 || off+n > int64(len(b)) {
		return nil, errorf(TypeError, "view out of its buffer's range")
	}
	return b[off : off+n], nil
}

// bufferSource returns a copy of the bytes of an ArrayBuffer, typed array or DataView.
func bufferSource(v goja.Value) ([]byte, error) {
	if ab, ok := v.Export().(goja.ArrayBuffer); ok {
		return append([]byte(nil), ab.Bytes()...), nil
	}
	if o, ok := v.(*goja.Object); ok {
		if b, err := viewBytes(o); err == nil {
			return append([]byte(nil), b...), nil
		}
	}
	return nil, errorf(TypeError, "want an ArrayBuffer, a typed array or a DataView, got %s", v)
}
