package modules

import (
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldNameMapper is the goja.FieldNameMapper of every VU runtime: it exposes a Go value's
// fields and methods to JavaScript under their Go names with the first letter lowercased
// (Score → score), or a field's `js:"name"` tag (`js:"-"` hides it; aliases after a comma,
// which DecodeOptions accepts, are ignored here). Modules' exported Go values
// (Exports.Default) are seen through it.
type FieldNameMapper struct{}

// FieldName implements goja.FieldNameMapper.
func (FieldNameMapper) FieldName(_ reflect.Type, f reflect.StructField) string {
	if tag, ok := f.Tag.Lookup("js"); ok {
		tag, _, _ = strings.Cut(tag, ",")
		if tag == "-" {
			return ""
		}
		return tag
	}
	return uncap(f.Name)
}

// MethodName implements goja.FieldNameMapper.
func (FieldNameMapper) MethodName(_ reflect.Type, m reflect.Method) string { return uncap(m.Name) }

func uncap(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
