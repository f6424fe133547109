package modules_test

import (
	"testing"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

func TestIsNullish(t *testing.T) {
	rt := goja.New()
	for _, tt := range []struct {
		v    goja.Value
		want bool
	}{{nil, true}, {goja.Undefined(), true}, {goja.Null(), true}, {rt.ToValue(0), false}, {rt.ToValue(""), false}, {rt.ToValue(false), false}, {rt.NewObject(), false}} {
		if got := modules.IsNullish(tt.v); got != tt.want {
			t.Errorf("IsNullish(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
