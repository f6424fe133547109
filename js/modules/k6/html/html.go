// Package html is the k6/html module: parseHTML(src) returns a Selection, a read-only,
// jQuery-like view of an HTML document (find, attr, text, each, map, filter, closest,
// serialize, val, ...), whose get(i) returns an Element with DOM-like accessors. Parsing and
// CSS selectors are github.com/PuerkitoBio/goquery's (golang.org/x/net/html and cascadia).
// k6/http's res.html() builds its Selection with Parse.
package html

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/html", Root{}) }

// Root is the k6/html module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

func (m *instance) Exports() modules.Exports {
	rt := m.vu.Runtime()
	named := map[string]any{
		"parseHTML": func(call goja.FunctionCall) goja.Value {
			sel, err := Parse(rt, call.Argument(0).String(), nil)
			if err != nil {
				panic(rt.NewGoError(err))
			}
			return rt.ToValue(sel)
		},
	}
	return modules.Exports{Default: named, Named: named}
}

// Parse parses src as an HTML document and returns the Selection of its root. base, when
// non-nil, is the document's URL: relative links of its elements resolve against it.
func Parse(rt *goja.Runtime, src string, base *url.URL) (*Selection, error) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parsing HTML: %w", err)
	}
	return &Selection{rt: rt, sel: doc.Selection, base: base}, nil
}

func isNullish(v goja.Value) bool { return v == nil || goja.IsUndefined(v) || goja.IsNull(v) }
