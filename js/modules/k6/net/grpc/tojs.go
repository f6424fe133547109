package grpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// toJS converts a received message to the JavaScript value that
// JSON.parse(protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)) gives — k6's
// message objects — without the JSON text in between: the JSON round trip was half of a
// unary call's cost in the VU (README, gRPC). Messages protojson writes in a form of their
// own (the well-known types: Any, Timestamp, Duration, Struct, wrappers, ...) and messages
// with extensions take the JSON road; TestToJSMatchesProtojson holds the two to the same
// result. On the VU goroutine.
func (mi *instance) toJS(m protoreflect.Message, mo protojson.MarshalOptions) (goja.Value, error) {
	if ownJSONForm(m) {
		b, err := mo.Marshal(m.Interface())
		if err != nil {
			return nil, err
		}
		return mi.parse(b)
	}
	rt := mi.vu.Runtime()
	obj := rt.NewObject()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		var v goja.Value
		switch {
		case m.Has(fd):
			var err error
			if v, err = mi.fieldToJS(fd, m.Get(fd), mo); err != nil {
				return nil, err
			}
		case fd.ContainingOneof() != nil:
			continue // an unset member of a oneof (or an unset proto3 optional) is left out
		case fd.HasPresence():
			v = goja.Null() // an unset message, or an unset scalar with presence (proto2)
		default:
			var err error
			if v, err = mi.fieldToJS(fd, m.Get(fd), mo); err != nil {
				return nil, err
			}
		}
		if err := obj.Set(fd.JSONName(), v); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// ownJSONForm reports whether protojson writes m in a form of its own: a well-known type, or
// a message with extensions set.
func ownJSONForm(m protoreflect.Message) bool {
	if strings.HasPrefix(string(m.Descriptor().FullName()), "google.protobuf.") {
		return true
	}
	ext := false
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		ext = fd.IsExtension()
		return !ext
	})
	return ext
}

// fieldToJS converts a field's value: a list, a map or a single value.
func (mi *instance) fieldToJS(fd protoreflect.FieldDescriptor, v protoreflect.Value, mo protojson.MarshalOptions) (goja.Value, error) {
	rt := mi.vu.Runtime()
	switch {
	case fd.IsList():
		l := v.List()
		items := make([]any, l.Len())
		for i := range l.Len() {
			x, err := mi.singularToJS(fd, l.Get(i), mo)
			if err != nil {
				return nil, err
			}
			items[i] = x
		}
		return rt.NewArray(items...), nil
	case fd.IsMap():
		mp := v.Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		slices.SortFunc(keys, compareMapKeys)
		obj := rt.NewObject()
		for _, k := range keys {
			x, err := mi.singularToJS(fd.MapValue(), mp.Get(k), mo)
			if err != nil {
				return nil, err
			}
			if err := obj.Set(k.String(), x); err != nil {
				return nil, err
			}
		}
		return obj, nil
	}
	return mi.singularToJS(fd, v, mo)
}

// compareMapKeys orders map keys as protojson writes them: false before true, integers by
// value, strings by bytes.
func compareMapKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case bool:
		y := b.Bool()
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int32, int64:
		return cmpOrdered(a.Int(), b.Int())
	case uint32, uint64:
		return cmpOrdered(a.Uint(), b.Uint())
	}
	return strings.Compare(a.String(), b.String())
}

func cmpOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// singularToJS converts one value of fd's kind as protojson writes it: 64-bit integers as
// decimal strings, bytes as standard base64, enums by name (by number when unknown), NaN and
// infinities as strings.
func (mi *instance) singularToJS(fd protoreflect.FieldDescriptor, v protoreflect.Value, mo protojson.MarshalOptions) (goja.Value, error) {
	rt := mi.vu.Runtime()
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return rt.ToValue(v.Bool()), nil
	case protoreflect.StringKind:
		s := v.String()
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("field %s: invalid UTF-8", fd.FullName())
		}
		return rt.ToValue(s), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return rt.ToValue(v.Int()), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return rt.ToValue(int64(v.Uint())), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return rt.ToValue(strconv.FormatInt(v.Int(), 10)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return rt.ToValue(strconv.FormatUint(v.Uint(), 10)), nil
	case protoreflect.FloatKind:
		return floatToJS(rt, v.Float(), 32), nil
	case protoreflect.DoubleKind:
		return floatToJS(rt, v.Float(), 64), nil
	case protoreflect.BytesKind:
		return rt.ToValue(base64.StdEncoding.EncodeToString(v.Bytes())), nil
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return goja.Null(), nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return rt.ToValue(string(ev.Name())), nil
		}
		return rt.ToValue(int64(v.Enum())), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return mi.toJS(v.Message(), mo)
	}
	return nil, fmt.Errorf("field %s: unknown kind %v", fd.FullName(), fd.Kind())
}

// floatToJS is a float or double as protojson writes it and JSON.parse reads it back: a
// float goes through its shortest 32-bit decimal form.
func floatToJS(rt *goja.Runtime, f float64, bits int) goja.Value {
	switch {
	case math.IsNaN(f):
		return rt.ToValue("NaN")
	case math.IsInf(f, 1):
		return rt.ToValue("Infinity")
	case math.IsInf(f, -1):
		return rt.ToValue("-Infinity")
	}
	if bits == 32 {
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', -1, 32), 64)
	}
	return rt.ToValue(f)
}
