package modules

import "github.com/dop251/goja"

// IsNullish reports whether v is absent: a nil goja.Value (an argument or property that was
// never set), undefined or null. It is JavaScript's `v == null`, the test for an omitted
// optional argument or option.
func IsNullish(v goja.Value) bool {
	return v == nil || goja.IsUndefined(v) || goja.IsNull(v)
}
