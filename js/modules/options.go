package modules

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// DecodeOptions reads the JavaScript object v into the struct dst points to, the way k6
// extensions validate their options: a property whose name no field has is an error naming
// the key and the known ones, so a typo ({ackTimout: '1s'}) fails instead of being ignored.
//
// A field's option name is its `js` tag, else the name of its `json` tag, else its Go name
// with the first letter lowercased; `js:"-"` (or `json:"-"`) skips the field. A js tag may
// list aliases after the name, comma-separated (`js:"riskLevel,risk_level"`). An embedded
// struct without a tag contributes its fields (options that extend others).
//
// Values: an undefined property leaves its field untouched; null sets the field's zero value
// (a nil pointer: "not given"). Field types:
//
//   - string: String(v); bool: JavaScript truthiness; ints and floats: ToInteger / ToFloat;
//   - time.Duration: a number of milliseconds or a duration string ("20s", "1m30s", "250ms"),
//     as k6 accepts timeouts;
//   - map[string]string: the object's own properties, each converted with String(v) (tags,
//     headers);
//   - []byte: an ArrayBuffer or a string; other slices and maps: goja's ExportTo;
//   - a nested struct: a nested object, decoded by the same rules (its unknown keys are
//     errors too, named with their path, "audio.frms");
//   - a pointer to any of these: allocated when the property is given (use it to tell
//     "absent" from a zero value);
//   - goja.Value: the value itself; any: v.Export().
//
// A nullish v decodes nothing and returns nil. Errors name the option ("option audio.frames:
// ..."); wrap them with the function's name (pixel.stream: ...).
func DecodeOptions(rt *goja.Runtime, v goja.Value, dst any) error {
	if IsNullish(v) {
		return nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("DecodeOptions: dst is a %T, not a pointer to a struct", dst)
	}
	return decodeStruct(rt, v, rv.Elem(), "")
}

// fieldOptName returns a field's option name: its js tag's first name, its json tag's name, or
// its Go name with the first letter lowercased; "" when the field is not an option.
func fieldOptName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, ok := f.Tag.Lookup("js")
	if !ok {
		name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			return strings.ToLower(f.Name[:1]) + f.Name[1:]
		}
	}
	name, _, _ = strings.Cut(name, ",")
	if name == "-" {
		return ""
	}
	return name
}

// isEmbedded reports whether f contributes its own fields (an untagged embedded struct).
func isEmbedded(f reflect.StructField) bool {
	_, tagged := f.Tag.Lookup("js")
	return f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct
}

// matches reports whether f's option name or one of its aliases is k, without allocating
// (DecodeOptions runs on hot paths such as pixel.inspect).
func matches(f reflect.StructField, k string) bool {
	if !f.IsExported() || k == "" {
		return false
	}
	if js, ok := f.Tag.Lookup("js"); ok {
		if first, _, _ := strings.Cut(js, ","); first == "-" {
			return false
		}
		for js != "" {
			var name string
			name, js, _ = strings.Cut(js, ",")
			if name == k {
				return true
			}
		}
		return false
	}
	if jn, _, _ := strings.Cut(f.Tag.Get("json"), ","); jn != "" {
		return jn != "-" && jn == k
	}
	first := f.Name[0]
	if 'A' <= first && first <= 'Z' {
		first += 'a' - 'A'
	}
	return len(k) == len(f.Name) && k[0] == first && k[1:] == f.Name[1:]
}

// fieldFor returns sv's field whose option is k, looking into embedded structs.
func fieldFor(sv reflect.Value, k string) (reflect.Value, bool) {
	t := sv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if isEmbedded(f) {
			if fv, ok := fieldFor(sv.Field(i), k); ok {
				return fv, true
			}
			continue
		}
		if matches(f, k) {
			return sv.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// optNames lists t's option names in field order, embedded structs flattened (for errors).
func optNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if isEmbedded(f) {
			out = append(out, optNames(f.Type)...)
		} else if n := fieldOptName(f); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func decodeStruct(rt *goja.Runtime, v goja.Value, sv reflect.Value, prefix string) error {
	obj, ok := v.(*goja.Object)
	if !ok {
		return fmt.Errorf("%s: %s is not an object", optName(prefix, "options"), describe(v))
	}
	for _, k := range obj.Keys() {
		fv, ok := fieldFor(sv, k)
		if !ok {
			return fmt.Errorf("unknown option %q (want one of %s)", prefix+k, strings.Join(optNames(sv.Type()), ", "))
		}
		if err := decodeValue(rt, obj.Get(k), fv, optPath{prefix, k}); err != nil {
			return err
		}
	}
	return nil
}

// optPath names an option in errors: its parent's path and its key, joined only when needed.
type optPath struct{ prefix, key string }

func (p optPath) String() string { return p.prefix + p.key }

var (
	durationType = reflect.TypeFor[time.Duration]()
	valueType    = reflect.TypeFor[goja.Value]()
	bytesType    = reflect.TypeFor[[]byte]()
	stringsMap   = reflect.TypeFor[map[string]string]()
)

func decodeValue(rt *goja.Runtime, v goja.Value, fv reflect.Value, name optPath) error {
	if v == nil || goja.IsUndefined(v) {
		return nil
	}
	t := fv.Type()
	if t == valueType {
		fv.Set(reflect.ValueOf(v))
		return nil
	}
	if goja.IsNull(v) {
		fv.SetZero()
		return nil
	}
	switch {
	case t == durationType:
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("option %s: %w", name, err)
		}
		fv.SetInt(int64(d))
		return nil
	case t == bytesType:
		switch x := v.Export().(type) {
		case goja.ArrayBuffer:
			fv.SetBytes(x.Bytes())
		case []byte:
			fv.SetBytes(x)
		case string:
			fv.SetBytes([]byte(x))
		default:
			return fmt.Errorf("option %s: %s is not an ArrayBuffer or a string", name, describe(v))
		}
		return nil
	case t == stringsMap:
		obj, ok := v.(*goja.Object)
		if !ok {
			return fmt.Errorf("option %s: %s is not an object", name, describe(v))
		}
		keys := obj.Keys()
		m := make(map[string]string, len(keys))
		for _, k := range keys {
			m[k] = obj.Get(k).String()
		}
		fv.Set(reflect.ValueOf(m))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := decodeValue(rt, v, p.Elem(), name); err != nil {
			return err
		}
		fv.Set(p)
	case reflect.Struct:
		return decodeStruct(rt, v, fv, name.String()+".")
	case reflect.String:
		fv.SetString(v.String())
	case reflect.Bool:
		fv.SetBool(v.ToBoolean())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fv.SetInt(v.ToInteger())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n := v.ToInteger()
		if n < 0 {
			return fmt.Errorf("option %s: %d is negative", name, n)
		}
		fv.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		fv.SetFloat(v.ToFloat())
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return fmt.Errorf("option %s: cannot decode into %s", name, t)
		}
		if x := v.Export(); x != nil {
			fv.Set(reflect.ValueOf(x))
		}
	default:
		p := reflect.New(t)
		if err := rt.ExportTo(v, p.Interface()); err != nil {
			return fmt.Errorf("option %s: %w", name, err)
		}
		fv.Set(p.Elem())
	}
	return nil
}

// ParseDuration reads a k6 duration value: a number of milliseconds (fractions kept) or a
// duration string ("20s", "1m30s", "250ms", "1.5h"; Go's time.ParseDuration syntax). A
// nullish value is 0.
func ParseDuration(v goja.Value) (time.Duration, error) {
	if IsNullish(v) {
		return 0, nil
	}
	switch x := v.Export().(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (want milliseconds or e.g. \"10s\"): %w", x, err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("%s is not a duration (want milliseconds or e.g. \"10s\")", describe(v))
}

func optName(prefix, whole string) string {
	if prefix == "" {
		return whole
	}
	return "option " + strings.TrimSuffix(prefix, ".")
}

// describe names a value in an error: its JavaScript text and type.
func describe(v goja.Value) string {
	s := v.String()
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	if v.ExportType() != nil && v.ExportType().Kind() == reflect.String {
		return fmt.Sprintf("%q", s)
	}
	return s
}
