package html

import (
	"bytes"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/dop251/goja"
	gohtml "golang.org/x/net/html"
)

// element returns the Element of n: an object whose members are functions, as k6's are
// (el.nodeName(), el.textContent(), ...); elements of some tags get more (an anchor's
// host(), a select's options(), ...). A nil node gives undefined. Members are built on
// first access (an Element costs one small object until then).
func (s *Selection) element(n *gohtml.Node) goja.Value {
	if n == nil {
		return goja.Undefined()
	}
	e := &elementObject{s: s, n: n}
	e.obj = s.rt.NewDynamicObject(e)
	return e.obj
}

// elementObject is an Element: a goja dynamic object over a node whose members are made
// when first read, then cached with what the script sets.
type elementObject struct {
	s     *Selection
	n     *gohtml.Node
	obj   *goja.Object
	cache map[string]goja.Value // members read, and properties the script set
	own   []string              // the properties the script set, in order
}

func (e *elementObject) Get(key string) goja.Value {
	if v, ok := e.cache[key]; ok {
		return v
	}
	v := e.member(key)
	if v == nil {
		return nil
	}
	if e.cache == nil {
		e.cache = make(map[string]goja.Value, 4)
	}
	e.cache[key] = v
	return v
}

func (e *elementObject) Set(key string, val goja.Value) bool {
	if e.cache == nil {
		e.cache = make(map[string]goja.Value, 4)
	}
	e.cache[key] = val
	if !slices.Contains(e.own, key) {
		e.own = append(e.own, key)
	}
	return true
}

func (e *elementObject) Has(key string) bool { return e.Get(key) != nil }

func (e *elementObject) Delete(key string) bool {
	delete(e.cache, key)
	e.own = slices.DeleteFunc(e.own, func(k string) bool { return k == key })
	return true
}

// Keys lists the properties the script set; members, like a DOM element's, are not own
// enumerable properties.
func (e *elementObject) Keys() []string { return e.own }

// member returns the member key of the element, nil when it has none. Each member is
// declared below with set (a getter-like method) or method (a function taking arguments);
// only the one named key is kept.
func (e *elementObject) member(key string) goja.Value {
	s, n, rt, o := e.s, e.n, e.s.rt, e.obj
	var found goja.Value
	sel := s.wrap(s.sel.FindNodes().AddNodes(n))
	set := func(name string, f func() any) {
		if name == key && found == nil {
			found = rt.ToValue(func(goja.FunctionCall) goja.Value { return rt.ToValue(f()) })
		}
	}
	method := func(name string, f any) {
		if name == key && found == nil {
			found = rt.ToValue(f)
		}
	}
	elems := func(ns []*gohtml.Node) any {
		out := make([]any, len(ns))
		for i, c := range ns {
			out[i] = s.element(c)
		}
		return rt.NewArray(out...)
	}
	attr := func(name string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	attrOr := func(name, def string) string {
		if v, ok := attr(name); ok {
			return v
		}
		return def
	}

	set("selection", func() any { return sel })
	set("nodeName", func() any { return nodeName(n) })
	set("nodeType", func() any { return nodeType(n) })
	set("nodeValue", func() any {
		if n.Type == gohtml.TextNode || n.Type == gohtml.CommentNode {
			return n.Data
		}
		return goja.Undefined()
	})
	set("id", func() any { return attrOr("id", "") })
	set("innerHTML", func() any {
		var b bytes.Buffer
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			_ = gohtml.Render(&b, c)
		}
		return b.String()
	})
	set("textContent", func() any { return sel.sel.Text() })
	set("ownerDocument", func() any {
		d := n
		for d.Parent != nil {
			d = d.Parent
		}
		if d.Type != gohtml.DocumentNode {
			return goja.Undefined()
		}
		return s.element(d)
	})
	set("attributes", func() any {
		a := rt.NewObject()
		for _, at := range n.Attr {
			v := rt.NewObject()
			_ = v.Set("name", at.Key)
			_ = v.Set("value", at.Val)
			_ = v.Set("localName", at.Key)
			_ = v.Set("namespaceURI", at.Namespace)
			_ = v.Set("prefix", at.Namespace)
			_ = v.Set("ownerElement", o)
			_ = a.Set(at.Key, v)
		}
		return a
	})
	set("firstChild", func() any { return s.element(n.FirstChild) })
	set("lastChild", func() any { return s.element(n.LastChild) })
	set("childElementCount", func() any { return len(elementChildren(n)) })
	set("firstElementChild", func() any { return s.element(firstElement(n.FirstChild, next)) })
	set("lastElementChild", func() any { return s.element(firstElement(n.LastChild, prev)) })
	set("previousSibling", func() any { return s.element(n.PrevSibling) })
	set("nextSibling", func() any { return s.element(n.NextSibling) })
	set("previousElementSibling", func() any { return s.element(firstElement(n.PrevSibling, prev)) })
	set("nextElementSibling", func() any { return s.element(firstElement(n.NextSibling, next)) })
	set("parentElement", func() any {
		if n.Parent == nil || n.Parent.Type != gohtml.ElementNode {
			return goja.Undefined()
		}
		return s.element(n.Parent)
	})
	set("parentNode", func() any { return s.element(n.Parent) })
	set("childNodes", func() any {
		var cs []*gohtml.Node
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			cs = append(cs, c)
		}
		return elems(cs)
	})
	set("children", func() any { return elems(elementChildren(n)) })
	set("classList", func() any {
		fs := strings.Fields(attrOr("class", ""))
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = f
		}
		return rt.NewArray(out...)
	})
	set("className", func() any { return attrOr("class", "") })
	set("lang", func() any {
		for p := n; p != nil; p = p.Parent {
			for _, a := range p.Attr {
				if a.Key == "lang" {
					return a.Val
				}
			}
		}
		return ""
	})
	set("toString", func() any {
		switch n.Type {
		case gohtml.TextNode:
			return "[object Text]"
		case gohtml.CommentNode:
			return "[object Comment]"
		case gohtml.DocumentNode:
			return "[object HTMLDocument]"
		}
		return "[object html.Node]"
	})
	method("hasAttribute", func(name string) bool { _, ok := attr(name); return ok })
	method("getAttribute", func(name string) goja.Value {
		if v, ok := attr(name); ok {
			return rt.ToValue(v)
		}
		return goja.Undefined()
	})
	method("getAttributeNode", func(name string) goja.Value {
		v, ok := attr(name)
		if !ok {
			return goja.Undefined()
		}
		a := rt.NewObject()
		_ = a.Set("name", name)
		_ = a.Set("value", v)
		return a
	})
	set("hasAttributes", func() any { return len(n.Attr) > 0 })
	set("hasChildNodes", func() any { return n.FirstChild != nil })
	method("isSameNode", func(v goja.Value) bool { return nodeOf(v) == n })
	method("isEqualNode", func(v goja.Value) bool {
		other := nodeOf(v)
		return other != nil && render(other) == render(n)
	})
	method("getElementsByClassName", func(name string) any {
		return elems(sel.sel.Find("." + cssIdent(name)).Nodes)
	})
	method("getElementsByTagName", func(name string) any { return elems(sel.sel.Find(name).Nodes) })
	method("querySelector", func(q string) goja.Value {
		f := sel.sel.FindMatcher(goquery.Single(q))
		if f.Length() == 0 {
			return goja.Undefined()
		}
		return s.element(f.Nodes[0])
	})
	method("querySelectorAll", func(q string) any { return elems(sel.sel.Find(q).Nodes) })
	method("contains", func(v goja.Value) bool {
		other := nodeOf(v)
		for p := other; p != nil; p = p.Parent {
			if p == n {
				return true
			}
		}
		return false
	})
	method("matches", func(q string) bool { return sel.sel.Is(q) })
	set("namespaceURI", func() any {
		if n.Namespace == "" && n.Type == gohtml.ElementNode {
			return "http://www.w3.org/1999/xhtml"
		}
		return n.Namespace
	})
	method("isDefaultNamespace", func(uri string) bool {
		return uri == "http://www.w3.org/1999/xhtml" && n.Namespace == ""
	})

	if n.Type == gohtml.ElementNode {
		s.tagMembers(n, sel, set, elems, attr, attrOr)
	}
	return found
}

// tagMembers adds the members some element types have beyond Element's.
func (s *Selection) tagMembers(n *gohtml.Node, sel *Selection, set func(string, func() any),
	elems func([]*gohtml.Node) any, attr func(string) (string, bool), attrOr func(string, string) string) {
	rt := s.rt
	form := func() any {
		if id, ok := attr("form"); ok {
			f := s.sel.FindNodes().AddNodes(root(n)).Find("form#" + cssIdent(id))
			if f.Length() > 0 {
				return s.element(f.Nodes[0])
			}
			return goja.Undefined()
		}
		return s.element(sel.sel.Closest("form").Get(0))
	}
	intAttr := func(name string, def int) func() any {
		return func() any {
			if v, err := strconv.Atoi(attrOr(name, "")); err == nil {
				return v
			}
			return def
		}
	}
	text := func() any { return sel.sel.Text() }
	switch n.Data {
	case "a", "area":
		u := s.resolve(attrOr("href", ""))
		set("href", func() any { return u.String() })
		set("hash", func() any {
			if u.Fragment == "" {
				return ""
			}
			return "#" + u.Fragment
		})
		set("host", func() any { return u.Host })
		set("hostname", func() any { return u.Hostname() })
		set("port", func() any { return u.Port() })
		set("username", func() any { return u.User.Username() })
		set("password", func() any { p, _ := u.User.Password(); return p })
		set("origin", func() any {
			if u.Scheme == "" {
				return ""
			}
			return u.Scheme + "://" + u.Host
		})
		set("pathname", func() any { return u.EscapedPath() })
		set("protocol", func() any {
			if u.Scheme == "" {
				return ""
			}
			return u.Scheme + ":"
		})
		set("search", func() any {
			if u.RawQuery == "" {
				return ""
			}
			return "?" + u.RawQuery
		})
		set("rel", func() any { return attrOr("rel", "") })
		set("relList", func() any { return strList(rt, attrOr("rel", "")) })
		set("target", func() any { return attrOr("target", "") })
		set("text", text)
	case "button":
		set("form", form)
		set("formAction", func() any { return s.resolve(attrOr("formaction", "")).String() })
		set("formEnctype", func() any { return attrOr("formenctype", "application/x-www-form-urlencoded") })
		set("formMethod", func() any { return strings.ToLower(attrOr("formmethod", "get")) })
		set("formNoValidate", func() any { _, ok := attr("formnovalidate"); return ok })
		set("formTarget", func() any { return attrOr("formtarget", "") })
		set("labels", func() any { return elems(labelsOf(n)) })
		set("name", func() any { return attrOr("name", "") })
		set("value", func() any { return attrOr("value", "") })
		set("type", func() any { return strings.ToLower(attrOr("type", "submit")) })
	case "canvas":
		set("width", intAttr("width", 300))
		set("height", intAttr("height", 150))
	case "datalist":
		set("options", func() any { return elems(sel.sel.Find("option").Nodes) })
	case "fieldset":
		set("elements", func() any { return elems(sel.sel.Find("input,select,textarea,button,fieldset,object,output").Nodes) })
		set("type", func() any { return "fieldset" })
		set("form", form)
	case "form":
		els := func() []*gohtml.Node {
			return sel.sel.Find("input,select,textarea,button,fieldset,object,output").Nodes
		}
		set("elements", func() any { return elems(els()) })
		set("length", func() any { return len(els()) })
		set("method", func() any { return strings.ToLower(attrOr("method", "get")) })
		set("action", func() any { return s.resolve(attrOr("action", "")).String() })
		set("enctype", func() any { return attrOr("enctype", "application/x-www-form-urlencoded") })
		set("name", func() any { return attrOr("name", "") })
	case "input":
		set("form", form)
		set("name", func() any { return attrOr("name", "") })
		set("type", func() any { return strings.ToLower(attrOr("type", "text")) })
		set("value", func() any { return controlValue(sel.sel) })
		set("checked", func() any { _, ok := attr("checked"); return ok })
		set("labels", func() any { return elems(labelsOf(n)) })
	case "label":
		set("htmlFor", func() any { return attrOr("for", "") })
		set("control", func() any {
			if id, ok := attr("for"); ok {
				return s.element(s.sel.FindNodes().AddNodes(root(n)).Find("#" + cssIdent(id)).Get(0))
			}
			return s.element(sel.sel.Find("input,select,textarea,button").Get(0))
		})
		set("form", form)
	case "legend", "object", "textarea":
		set("form", form)
		if n.Data == "textarea" {
			set("value", text)
			set("name", func() any { return attrOr("name", "") })
		}
	case "link":
		set("relList", func() any { return strList(rt, attrOr("rel", "")) })
		set("href", func() any { return s.resolve(attrOr("href", "")).String() })
	case "map":
		set("areas", func() any { return elems(sel.sel.Find("area").Nodes) })
		set("images", func() any {
			name := attrOr("name", "")
			return elems(s.sel.FindNodes().AddNodes(root(n)).Find(`img[usemap="#` + name + `"],object[usemap="#` + name + `"]`).Nodes)
		})
	case "option":
		set("disabled", func() any {
			_, ok := attr("disabled")
			if !ok && sel.sel.Closest("optgroup[disabled]").Length() > 0 {
				return true
			}
			return ok
		})
		set("form", form)
		set("index", func() any {
			s := sel.sel.Closest("select,datalist").Find("option")
			return s.IndexOfNode(n)
		})
		set("label", func() any { return attrOr("label", strings.TrimSpace(sel.sel.Text())) })
		set("text", func() any { return strings.TrimSpace(sel.sel.Text()) })
		set("value", func() any { return controlValue(sel.sel) })
		set("selected", func() any { _, ok := attr("selected"); return ok })
	case "output":
		set("value", text)
		set("labels", func() any { return elems(labelsOf(n)) })
	case "progress":
		maxV := func() float64 {
			if v, err := strconv.ParseFloat(attrOr("max", ""), 64); err == nil && v > 0 {
				return v
			}
			return 1
		}
		val := func() float64 {
			v, _ := strconv.ParseFloat(attrOr("value", "0"), 64)
			return v
		}
		set("max", func() any { return maxV() })
		set("value", func() any { return val() })
		set("position", func() any {
			if _, ok := attr("value"); !ok {
				return -1
			}
			return val() / maxV()
		})
	case "script", "style", "title":
		set("text", text)
	case "select":
		opts := func() *goquery.Selection { return sel.sel.Find("option") }
		set("form", form)
		set("length", func() any { return opts().Length() })
		set("options", func() any { return elems(opts().Nodes) })
		set("selectedOptions", func() any { return elems(opts().Filter("[selected]").Nodes) })
		set("selectedIndex", func() any {
			os := opts()
			sel := os.Filter("[selected]")
			if sel.Length() == 0 {
				if _, multi := attr("multiple"); multi || os.Length() == 0 {
					return -1
				}
				return 0
			}
			return os.IndexOfSelection(sel.First())
		})
		set("value", func() any {
			vs := selectValues(sel.sel)
			if len(vs) == 0 {
				return ""
			}
			return vs[0]
		})
		set("name", func() any { return attrOr("name", "") })
	case "table":
		set("caption", func() any { return s.element(sel.sel.ChildrenFiltered("caption").Get(0)) })
		set("thead", func() any { return s.element(sel.sel.ChildrenFiltered("thead").Get(0)) })
		set("tfoot", func() any { return s.element(sel.sel.ChildrenFiltered("tfoot").Get(0)) })
		set("tbody", func() any { return s.element(sel.sel.ChildrenFiltered("tbody").Get(0)) })
		set("rows", func() any { return elems(sel.sel.Find("tr").FilterFunction(ownRow(n)).Nodes) })
	case "td", "th":
		set("cellIndex", func() any { return sel.sel.Index() })
		set("colSpan", intAttr("colspan", 1))
		set("rowSpan", intAttr("rowspan", 1))
		set("headers", func() any { return attrOr("headers", "") })
	case "tr":
		set("cells", func() any { return elems(sel.sel.ChildrenFiltered("td,th").Nodes) })
		set("colSpan", func() any {
			total := 0
			sel.sel.ChildrenFiltered("td,th").Each(func(_ int, c *goquery.Selection) {
				v, err := strconv.Atoi(c.AttrOr("colspan", "1"))
				if err != nil || v < 1 {
					v = 1
				}
				total += v
			})
			return total
		})
		set("sectionRowIndex", func() any { return sel.sel.Index() })
		set("rowIndex", func() any {
			t := sel.sel.Closest("table")
			return t.Find("tr").FilterFunction(ownRow(t.Get(0))).IndexOfNode(n)
		})
	case "video":
		set("textTracks", func() any { return elems(sel.sel.Find("track").Nodes) })
	}
}

// resolve returns ref resolved against the document URL (ref itself without one).
func (s *Selection) resolve(ref string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return &url.URL{}
	}
	if s.base != nil {
		return s.base.ResolveReference(u)
	}
	return u
}

func strList(rt *goja.Runtime, v string) goja.Value {
	fs := strings.Fields(v)
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return rt.NewArray(out...)
}

// ownRow keeps the rows of table t, not of tables nested in it.
func ownRow(t *gohtml.Node) func(int, *goquery.Selection) bool {
	return func(_ int, r *goquery.Selection) bool { return r.Closest("table").Get(0) == t }
}

func labelsOf(n *gohtml.Node) []*gohtml.Node {
	var out []*gohtml.Node
	doc := goquery.NewDocumentFromNode(root(n))
	id := ""
	for _, a := range n.Attr {
		if a.Key == "id" {
			id = a.Val
		}
	}
	doc.Find("label").Each(func(_ int, l *goquery.Selection) {
		if f, ok := l.Attr("for"); ok {
			if f == id && id != "" {
				out = append(out, l.Get(0))
			}
			return
		}
		for p := n.Parent; p != nil; p = p.Parent {
			if p == l.Get(0) {
				out = append(out, p)
				return
			}
		}
	})
	return out
}

func root(n *gohtml.Node) *gohtml.Node {
	for n.Parent != nil {
		n = n.Parent
	}
	return n
}

func nodeName(n *gohtml.Node) string {
	switch n.Type {
	case gohtml.ElementNode:
		return n.Data
	case gohtml.TextNode:
		return "#text"
	case gohtml.CommentNode:
		return "#comment"
	case gohtml.DocumentNode:
		return "#document"
	case gohtml.DoctypeNode:
		return n.Data
	}
	return ""
}

// nodeType is the DOM's node type number.
func nodeType(n *gohtml.Node) int {
	switch n.Type {
	case gohtml.ElementNode:
		return 1
	case gohtml.TextNode:
		return 3
	case gohtml.CommentNode:
		return 8
	case gohtml.DocumentNode:
		return 9
	case gohtml.DoctypeNode:
		return 10
	}
	return 0
}

func elementChildren(n *gohtml.Node) []*gohtml.Node {
	var out []*gohtml.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == gohtml.ElementNode {
			out = append(out, c)
		}
	}
	return out
}

func next(n *gohtml.Node) *gohtml.Node { return n.NextSibling }
func prev(n *gohtml.Node) *gohtml.Node { return n.PrevSibling }

// firstElement walks from n with step until an element node.
func firstElement(n *gohtml.Node, step func(*gohtml.Node) *gohtml.Node) *gohtml.Node {
	for ; n != nil; n = step(n) {
		if n.Type == gohtml.ElementNode {
			return n
		}
	}
	return nil
}

func nodeOf(v goja.Value) *gohtml.Node {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	if sel, ok := o.Export().(*Selection); ok {
		return sel.sel.Get(0)
	}
	if e, ok := o.Export().(*elementObject); ok {
		return e.n
	}
	return nil
}

func render(n *gohtml.Node) string {
	var b bytes.Buffer
	_ = gohtml.Render(&b, n)
	return b.String()
}

// cssIdent escapes s for use as a CSS identifier in a selector.
func cssIdent(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i == 0 && r >= '0' && r <= '9' {
			b.WriteString(`\3` + string(r) + " ")
			continue
		}
		if r == '-' || r == '_' || r >= 0x80 || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('\\')
		b.WriteRune(r)
	}
	return b.String()
}
