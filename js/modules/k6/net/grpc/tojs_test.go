package grpc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/dop251/goja"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/pixelk6/pixelk6/js/modules/modulestest"
)

// TestToJSMatchesProtojson is the differential test of toJS against what it replaces,
// JSON.parse(protojson.Marshal(m)) with EmitUnpopulated: random messages of every field
// kind (both syntaxes, maps of every key kind, oneofs, optional, unknown enum numbers,
// NaN and infinities, well-known types) must give the same JSON.stringify.
func TestToJSMatchesProtojson(t *testing.T) {
	comp := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{"testdata"}})}
	files, err := comp.Compile(context.Background(), "types.proto", "p2.proto")
	if err != nil {
		t.Fatal(err)
	}
	reg := new(protoregistry.Files)
	for _, f := range files {
		imps := f.Imports()
		for i := range imps.Len() {
			if _, err := reg.FindFileByPath(imps.Get(i).Path()); err != nil {
				_ = reg.RegisterFile(imps.Get(i).FileDescriptor)
			}
		}
		if err := reg.RegisterFile(f); err != nil {
			t.Fatal(err)
		}
	}
	types := dynamicpb.NewTypes(reg)
	mo := protojson.MarshalOptions{EmitUnpopulated: true, Resolver: types}
	rt := modulestest.New(t)
	mi := &instance{vu: rt.VU}
	stringify, _ := goja.AssertFunction(rt.VU.Runtime().Get("JSON").ToObject(rt.VU.Runtime()).Get("stringify"))
	str := func(v goja.Value) string {
		s, err := stringify(goja.Undefined(), v)
		if err != nil {
			t.Fatal(err)
		}
		return s.String()
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range []protoreflect.FullName{"difftest.All", "difftest.Inner", "difftest2.P2"} {
		d, err := reg.FindDescriptorByName(name)
		if err != nil {
			t.Fatal(err)
		}
		md := d.(protoreflect.MessageDescriptor)
		for i := range 300 {
			m := dynamicpb.NewMessage(md)
			if i > 0 { // the first is the empty message
				fill(r, m, types, 0)
			}
			b, err := mo.Marshal(m)
			if err != nil {
				t.Fatalf("%s #%d: protojson: %v", name, i, err)
			}
			want, err := mi.parse(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mi.toJS(m, mo)
			if err != nil {
				t.Fatalf("%s #%d: toJS: %v", name, i, err)
			}
			if g, w := str(got), str(want); g != w {
				t.Fatalf("%s #%d:\n toJS     %s\n protojson %s", name, i, g, w)
			}
		}
	}
}

// fill sets a random subset of m's fields to random values.
func fill(r *rand.Rand, m protoreflect.Message, types *dynamicpb.Types, depth int) {
	switch m.Descriptor().FullName() {
	case "google.protobuf.Timestamp":
		m.Set(m.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(r.Int64N(250000000000)))
		m.Set(m.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(r.Int32N(1000)*1000000))
		return
	case "google.protobuf.Duration":
		m.Set(m.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(r.Int64N(100000)))
		return
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.Empty", "google.protobuf.ListValue":
		if v := m.Descriptor().Fields().ByName("string_value"); v != nil {
			m.Set(v, protoreflect.ValueOfString(fmt.Sprint("v", r.IntN(9))))
		}
		if f := m.Descriptor().Fields().ByName("fields"); f != nil {
			val := m.NewField(f).Map()
			e := val.NewValue()
			e.Message().Set(e.Message().Descriptor().Fields().ByName("number_value"), protoreflect.ValueOfFloat64(1.5))
			val.Set(protoreflect.ValueOfString("k").MapKey(), e)
			m.Set(f, protoreflect.ValueOfMap(val))
		}
		return
	case "google.protobuf.Int64Value":
		m.Set(m.Descriptor().Fields().ByName("value"), protoreflect.ValueOfInt64(r.Int64()))
		return
	case "google.protobuf.Any":
		mt, err := types.FindMessageByName("difftest.Inner")
		if err != nil {
			panic(err)
		}
		inner := mt.New()
		inner.Set(inner.Descriptor().Fields().ByName("name"), protoreflect.ValueOfString("in any"))
		b, err := proto.Marshal(inner.Interface())
		if err != nil {
			panic(err)
		}
		m.Set(m.Descriptor().Fields().ByName("type_url"), protoreflect.ValueOfString("type.googleapis.com/difftest.Inner"))
		m.Set(m.Descriptor().Fields().ByName("value"), protoreflect.ValueOfBytes(b))
		return
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if r.IntN(10) < 4 || (fd.Message() != nil && depth > 2) {
			continue
		}
		switch {
		case fd.IsList():
			l := m.NewField(fd).List()
			for range r.IntN(4) {
				if fd.Message() != nil {
					e := l.NewElement()
					fill(r, e.Message(), types, depth+1)
					l.Append(e)
				} else {
					l.Append(scalar(r, fd))
				}
			}
			m.Set(fd, protoreflect.ValueOfList(l))
		case fd.IsMap():
			mp := m.NewField(fd).Map()
			for range r.IntN(4) {
				k := scalar(r, fd.MapKey()).MapKey()
				if fd.MapValue().Message() != nil {
					v := mp.NewValue()
					fill(r, v.Message(), types, depth+1)
					mp.Set(k, v)
				} else {
					mp.Set(k, scalar(r, fd.MapValue()))
				}
			}
			m.Set(fd, protoreflect.ValueOfMap(mp))
		case fd.Message() != nil:
			v := m.NewField(fd)
			fill(r, v.Message(), types, depth+1)
			m.Set(fd, v)
		default:
			m.Set(fd, scalar(r, fd))
		}
	}
}

// scalar is a random value of fd's scalar kind, edge cases included.
func scalar(r *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	pick := r.IntN(6)
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(pick%2 == 0)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString([]string{"", "a", "ünï\u2028cödé \"q\" \\", "12", "-3", "k"}[pick])
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0, 255, byte(pick), 62, 63}[:pick%5])
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32([]int32{0, -1, math.MaxInt32, math.MinInt32, 42, -7}[pick])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32([]uint32{0, 1, math.MaxUint32, 3, 42, 9}[pick])
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64([]int64{0, -1, math.MaxInt64, math.MinInt64, 1 << 53, -9}[pick])
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64([]uint64{0, 1, math.MaxUint64, 1<<53 + 1, 42, 7}[pick])
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32([]float32{0, 0.1, float32(math.Inf(1)), float32(math.NaN()), -3.4e38, 1e-45}[pick])
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64([]float64{0, math.Copysign(0, -1), math.Inf(-1), math.NaN(), 1e300, 0.1}[pick])
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber([]int32{0, 1, 2, 7, -3, 1}[pick]))
	}
	panic(fmt.Sprintf("no scalar of kind %v", fd.Kind()))
}
