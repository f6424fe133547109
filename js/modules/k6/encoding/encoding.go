// Package encoding is the k6/encoding module: b64encode and b64decode with k6's encodings
// ("std", "rawstd", "url", "rawurl").
package encoding

import (
	"encoding/base64"
	"fmt"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/encoding", Root{}) }

// Root is the k6/encoding module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

func (m *instance) Exports() modules.Exports {
	named := map[string]any{"b64encode": m.encode, "b64decode": m.decode}
	return modules.Exports{Default: named, Named: named}
}

// encodingFor returns the base64 variant k6 names; "" is "std".
func encodingFor(name string) (*base64.Encoding, error) {
	switch name {
	case "", "std":
		return base64.StdEncoding, nil
	case "rawstd":
		return base64.RawStdEncoding, nil
	case "url":
		return base64.URLEncoding, nil
	case "rawurl":
		return base64.RawURLEncoding, nil
	}
	return nil, fmt.Errorf("unknown base64 encoding %q (want std, rawstd, url or rawurl)", name)
}

func optString(v goja.Value) string {
	if modules.IsNullish(v) {
		return ""
	}
	return v.String()
}

// b64encode(input[, encoding]): input is a string or an ArrayBuffer.
func (m *instance) encode(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	enc, err := encodingFor(optString(call.Argument(1)))
	if err != nil {
		panic(rt.NewGoError(err))
	}
	var data []byte
	switch x := call.Argument(0).Export().(type) {
	case goja.ArrayBuffer:
		data = x.Bytes()
	case []byte:
		data = x
	default:
		data = []byte(call.Argument(0).String())
	}
	return rt.ToValue(enc.EncodeToString(data))
}

// b64decode(input[, encoding[, format]]): an ArrayBuffer, or a string when format is "s".
func (m *instance) decode(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	enc, err := encodingFor(optString(call.Argument(1)))
	if err != nil {
		panic(rt.NewGoError(err))
	}
	in := call.Argument(0).String()
	data, err := enc.DecodeString(in)
	if err != nil {
		panic(rt.NewGoError(fmt.Errorf("b64decode(%q): %w", in, err)))
	}
	if optString(call.Argument(2)) == "s" {
		return rt.ToValue(string(data))
	}
	return rt.ToValue(rt.NewArrayBuffer(data))
}
