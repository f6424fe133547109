package modules_test

import (
	"testing"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

type mapped struct {
	Plain  int
	Named  int `js:"other"`
	Alias  int `js:"first,second"`
	Hidden int `js:"-"`
}

func (mapped) DoIt() int { return 1 }

func TestFieldNameMapper(t *testing.T) {
	rt := goja.New()
	rt.SetFieldNameMapper(modules.FieldNameMapper{})
	if err := rt.Set("m", mapped{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	v, err := rt.RunString(`[m.plain, m.other, m.first, m.second, m.hidden, m.Hidden, m.doIt()].join()`)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != "1,2,3,,,,1" {
		t.Errorf("fields seen as %q, want 1,2,3,,,,1", got)
	}
}
