package html

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/dop251/goja"
	gohtml "golang.org/x/net/html"
)

// Selection is k6/html's Selection: a set of nodes of one document. Its exported methods are
// the JavaScript methods (first letter lowercased by the VU's field-name mapper). It never
// modifies the document.
type Selection struct {
	rt   *goja.Runtime
	sel  *goquery.Selection
	base *url.URL
}

// Goquery returns the goquery selection under s (a function, not a method: a Selection's
// methods are its JavaScript API).
func Goquery(s *Selection) *goquery.Selection { return s.sel }

// Derive returns the Selection of sel, a selection of s's document, with s's document URL.
func Derive(s *Selection, sel *goquery.Selection) *Selection { return s.wrap(sel) }

func (s *Selection) wrap(sel *goquery.Selection) *Selection {
	return &Selection{rt: s.rt, sel: sel, base: s.base}
}

// selector returns v as a selector string, "" when v is omitted.
func optString(v goja.Value) (string, bool) {
	if isNullish(v) {
		return "", false
	}
	return v.String(), true
}

// Find returns the descendants matching a selector (or those in a Selection).
func (s *Selection) Find(v goja.Value) *Selection {
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.FindSelection(o.sel))
	}
	return s.wrap(s.sel.Find(v.String()))
}

// Single returns the first descendant matching the selector.
func (s *Selection) Single(selector string) *Selection {
	return s.wrap(s.sel.FindMatcher(goquery.Single(selector)))
}

// Attr returns the first element's attribute, def (or undefined) when it has none.
func (s *Selection) Attr(name string, def goja.Value) goja.Value {
	if v, ok := s.sel.Attr(name); ok {
		return s.rt.ToValue(v)
	}
	if def == nil {
		return goja.Undefined()
	}
	return def
}

// Text returns the combined text of the selection's nodes and their descendants.
func (s *Selection) Text() string { return s.sel.Text() }

// Html returns the inner HTML of the first element, undefined for an empty selection.
func (s *Selection) Html() goja.Value {
	if s.sel.Length() == 0 {
		return goja.Undefined()
	}
	h, err := s.sel.Html()
	if err != nil {
		panic(s.rt.NewGoError(err))
	}
	return s.rt.ToValue(h)
}

// Size returns the number of nodes.
func (s *Selection) Size() int { return s.sel.Length() }

// Each calls fn(index, element) for each node, stopping early when fn returns false (as
// jQuery's each does), and returns the selection.
func (s *Selection) Each(fn goja.Callable) *Selection {
	for i, n := range s.sel.Nodes {
		r, err := fn(goja.Undefined(), s.rt.ToValue(i), s.element(n))
		if err != nil {
			panic(err)
		}
		if r != nil && r.StrictEquals(s.rt.ToValue(false)) {
			break
		}
	}
	return s
}

// Map calls fn(index, selection) for each node and returns the array of results (null and
// undefined results are left out, arrays are flattened, as jQuery's map does).
func (s *Selection) Map(fn goja.Callable) goja.Value {
	var out []any
	for i := range s.sel.Nodes {
		r, err := fn(goja.Undefined(), s.rt.ToValue(i), s.rt.ToValue(s.wrap(s.sel.Eq(i))))
		if err != nil {
			panic(err)
		}
		if isNullish(r) {
			continue
		}
		if o, ok := r.(*goja.Object); ok && o.ClassName() == "Array" {
			n := int(o.Get("length").ToInteger())
			for j := 0; j < n; j++ {
				out = append(out, o.Get(strconv.Itoa(j)))
			}
			continue
		}
		out = append(out, r)
	}
	return s.rt.NewArray(out...)
}

// ToArray returns each node as a one-node Selection.
func (s *Selection) ToArray() goja.Value {
	out := make([]any, len(s.sel.Nodes))
	for i := range s.sel.Nodes {
		out[i] = s.wrap(s.sel.Eq(i))
	}
	return s.rt.NewArray(out...)
}

// Get returns the Element at index (negative counts from the end), undefined out of range;
// without an index, the array of every Element (jQuery's get()).
func (s *Selection) Get(index goja.Value) goja.Value {
	n := len(s.sel.Nodes)
	if isNullish(index) {
		out := make([]any, n)
		for i, node := range s.sel.Nodes {
			out[i] = s.element(node)
		}
		return s.rt.NewArray(out...)
	}
	i := int(index.ToInteger())
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return goja.Undefined()
	}
	return s.element(s.sel.Nodes[i])
}

// Eq reduces the selection to the node at index (negative counts from the end).
func (s *Selection) Eq(i int) *Selection { return s.wrap(s.sel.Eq(i)) }

// First reduces the selection to its first node.
func (s *Selection) First() *Selection { return s.wrap(s.sel.First()) }

// Last reduces the selection to its last node.
func (s *Selection) Last() *Selection { return s.wrap(s.sel.Last()) }

// Slice reduces the selection to the nodes in [start, end) (negative counts from the end).
func (s *Selection) Slice(start int, end goja.Value) *Selection {
	n := s.sel.Length()
	e := n
	if !isNullish(end) {
		e = int(end.ToInteger())
	}
	clamp := func(i int) int {
		if i < 0 {
			i += n
		}
		return max(0, min(i, n))
	}
	start, e = clamp(start), clamp(e)
	if start >= e {
		return s.wrap(s.sel.Slice(0, 0))
	}
	return s.wrap(s.sel.Slice(start, e))
}

// Children returns the element children, optionally filtered by a selector.
func (s *Selection) Children(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.ChildrenFiltered(sel))
	}
	return s.wrap(s.sel.Children())
}

// Contents returns the children including text and comment nodes.
func (s *Selection) Contents() *Selection { return s.wrap(s.sel.Contents()) }

// Closest returns, for each node, the first of itself and its ancestors matching.
func (s *Selection) Closest(v goja.Value) *Selection {
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.ClosestSelection(o.sel))
	}
	return s.wrap(s.sel.Closest(v.String()))
}

// Filter keeps the nodes matching a selector, a Selection, or a function(index, selection).
func (s *Selection) Filter(v goja.Value) *Selection {
	if fn, ok := goja.AssertFunction(v); ok {
		return s.wrap(s.sel.FilterFunction(s.predicate(fn)))
	}
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.FilterSelection(o.sel))
	}
	return s.wrap(s.sel.Filter(v.String()))
}

// Not removes the nodes matching a selector, a Selection, or a function(index, selection).
func (s *Selection) Not(v goja.Value) *Selection {
	if fn, ok := goja.AssertFunction(v); ok {
		return s.wrap(s.sel.NotFunction(s.predicate(fn)))
	}
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.NotSelection(o.sel))
	}
	return s.wrap(s.sel.Not(v.String()))
}

// Is reports whether any node matches a selector, a Selection, or a function(index, selection).
func (s *Selection) Is(v goja.Value) bool {
	if fn, ok := goja.AssertFunction(v); ok {
		return s.sel.IsFunction(s.predicate(fn))
	}
	if o := s.asSelection(v); o != nil {
		return s.sel.IsSelection(o.sel)
	}
	return s.sel.Is(v.String())
}

// Has keeps the nodes with a descendant matching the selector (or in the Selection).
func (s *Selection) Has(v goja.Value) *Selection {
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.HasSelection(o.sel))
	}
	return s.wrap(s.sel.Has(v.String()))
}

// Add returns the union of the selection and the nodes matching a selector (or a Selection).
func (s *Selection) Add(v goja.Value) *Selection {
	if o := s.asSelection(v); o != nil {
		return s.wrap(s.sel.AddSelection(o.sel))
	}
	return s.wrap(s.sel.Add(v.String()))
}

// AddBack adds the previous selection (of the chain) to this one.
func (s *Selection) AddBack(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.AddBackFiltered(sel))
	}
	return s.wrap(s.sel.AddBack())
}

// End returns the selection this one was made from.
func (s *Selection) End() *Selection { return s.wrap(s.sel.End()) }

// Index returns the position of the first node among its siblings, or, given a selector or
// a Selection, the position of the first node in the set it names; -1 when absent.
func (s *Selection) Index(v goja.Value) int {
	if isNullish(v) {
		return s.sel.Index()
	}
	if o := s.asSelection(v); o != nil {
		return s.sel.IndexOfSelection(o.sel)
	}
	return s.sel.IndexSelector(v.String())
}

// Siblings returns the siblings of each node, optionally filtered by a selector.
func (s *Selection) Siblings(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.SiblingsFiltered(sel))
	}
	return s.wrap(s.sel.Siblings())
}

// Next returns each node's next element sibling, optionally filtered by a selector.
func (s *Selection) Next(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.NextFiltered(sel))
	}
	return s.wrap(s.sel.Next())
}

// NextAll returns the following element siblings, optionally filtered by a selector.
func (s *Selection) NextAll(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.NextAllFiltered(sel))
	}
	return s.wrap(s.sel.NextAll())
}

// NextUntil returns the following siblings up to (not including) one matching until,
// optionally filtered.
func (s *Selection) NextUntil(until, filter goja.Value) *Selection {
	return s.untilOp(until, filter, s.sel.NextUntil, s.sel.NextUntilSelection, s.sel.NextFilteredUntil, s.sel.NextFilteredUntilSelection, s.sel.NextAll, s.sel.NextAllFiltered)
}

// Prev returns each node's previous element sibling, optionally filtered by a selector.
func (s *Selection) Prev(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.PrevFiltered(sel))
	}
	return s.wrap(s.sel.Prev())
}

// PrevAll returns the preceding element siblings, optionally filtered by a selector.
func (s *Selection) PrevAll(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.PrevAllFiltered(sel))
	}
	return s.wrap(s.sel.PrevAll())
}

// PrevUntil returns the preceding siblings down to (not including) one matching until,
// optionally filtered.
func (s *Selection) PrevUntil(until, filter goja.Value) *Selection {
	return s.untilOp(until, filter, s.sel.PrevUntil, s.sel.PrevUntilSelection, s.sel.PrevFilteredUntil, s.sel.PrevFilteredUntilSelection, s.sel.PrevAll, s.sel.PrevAllFiltered)
}

// Parent returns each node's parent, optionally filtered by a selector.
func (s *Selection) Parent(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.ParentFiltered(sel))
	}
	return s.wrap(s.sel.Parent())
}

// Parents returns each node's ancestors (the document node excluded), optionally filtered.
func (s *Selection) Parents(v goja.Value) *Selection {
	if sel, ok := optString(v); ok {
		return s.wrap(s.sel.ParentsFiltered(sel))
	}
	return s.wrap(s.sel.Parents())
}

// ParentsUntil returns the ancestors up to (not including) one matching until, optionally
// filtered.
func (s *Selection) ParentsUntil(until, filter goja.Value) *Selection {
	return s.untilOp(until, filter, s.sel.ParentsUntil, s.sel.ParentsUntilSelection, s.sel.ParentsFilteredUntil, s.sel.ParentsFilteredUntilSelection, s.sel.Parents, s.sel.ParentsFiltered)
}

// untilOp dispatches the *Until methods on their arguments' kinds.
func (s *Selection) untilOp(until, filter goja.Value,
	bySel func(string) *goquery.Selection, bySelection func(*goquery.Selection) *goquery.Selection,
	filtBySel func(string, string) *goquery.Selection, filtBySelection func(string, *goquery.Selection) *goquery.Selection,
	all func() *goquery.Selection, allFiltered func(string) *goquery.Selection,
) *Selection {
	f, hasFilter := optString(filter)
	if isNullish(until) {
		if hasFilter {
			return s.wrap(allFiltered(f))
		}
		return s.wrap(all())
	}
	if o := s.asSelection(until); o != nil {
		if hasFilter {
			return s.wrap(filtBySelection(f, o.sel))
		}
		return s.wrap(bySelection(o.sel))
	}
	if hasFilter {
		return s.wrap(filtBySel(f, until.String()))
	}
	return s.wrap(bySel(until.String()))
}

// Data returns the first element's data-* attributes as an object with camelCase keys, or,
// given a key (camelCase or dashed), one value; values that read as JSON numbers, booleans,
// null, objects or arrays are converted, as jQuery does.
func (s *Selection) Data(key goja.Value) goja.Value {
	if s.sel.Length() == 0 {
		return goja.Undefined()
	}
	n := s.sel.Nodes[0]
	if k, ok := optString(key); ok {
		want := "data-" + dashed(k)
		for _, a := range n.Attr {
			if a.Key == want {
				return s.dataValue(a.Val)
			}
		}
		return goja.Undefined()
	}
	o := s.rt.NewObject()
	for _, a := range n.Attr {
		if name, ok := strings.CutPrefix(a.Key, "data-"); ok {
			_ = o.Set(camel(name), s.dataValue(a.Val))
		}
	}
	return o
}

func (s *Selection) dataValue(v string) goja.Value {
	switch {
	case v == "true":
		return s.rt.ToValue(true)
	case v == "false":
		return s.rt.ToValue(false)
	case v == "null":
		return goja.Null()
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == v {
		return s.rt.ToValue(f)
	}
	if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			return s.rt.ToValue(x)
		}
	}
	return s.rt.ToValue(v)
}

// camel turns "test-id" into "testId".
func camel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '-' {
			up = true
			continue
		}
		if up {
			r = []rune(strings.ToUpper(string(r)))[0]
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dashed turns "testId" into "test-id" (a dashed key is unchanged).
func dashed(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Val returns the first element's current value: an input's value ("on" for a checkbox or
// radio without one), a textarea's text, a select's selected option value (an array for a
// multiple select), an option's value or text; undefined for other nodes.
func (s *Selection) Val() goja.Value {
	if s.sel.Length() == 0 {
		return goja.Undefined()
	}
	n := s.sel.Nodes[0]
	if n.Type != gohtml.ElementNode {
		return goja.Undefined()
	}
	switch n.Data {
	case "select":
		vals := selectValues(s.sel.First())
		if _, multi := s.sel.Attr("multiple"); multi {
			out := make([]any, len(vals))
			for i, v := range vals {
				out[i] = v
			}
			return s.rt.NewArray(out...)
		}
		if len(vals) == 0 {
			return goja.Undefined()
		}
		return s.rt.ToValue(vals[0])
	case "input", "textarea", "option", "button":
		return s.rt.ToValue(controlValue(s.sel.First()))
	}
	return goja.Undefined()
}

// controlValue is the value of an input, textarea, option or button.
func controlValue(sel *goquery.Selection) string {
	switch goquery.NodeName(sel) {
	case "textarea":
		return sel.Text()
	case "option":
		if v, ok := sel.Attr("value"); ok {
			return v
		}
		return strings.TrimSpace(sel.Text())
	case "input":
		v, ok := sel.Attr("value")
		if !ok {
			t := strings.ToLower(sel.AttrOr("type", ""))
			if t == "checkbox" || t == "radio" {
				return "on"
			}
		}
		return v
	}
	return sel.AttrOr("value", "")
}

// selectValues returns the values of a select's selected options; a single select with
// none selected has its first option's.
func selectValues(sel *goquery.Selection) []string {
	opts := sel.Find("option")
	chosen := opts.Filter("[selected]")
	_, multi := sel.Attr("multiple")
	if chosen.Length() == 0 && !multi {
		chosen = opts.First()
	}
	if !multi {
		chosen = chosen.Last() // the last selected wins, as in browsers
	}
	var out []string
	chosen.Each(func(_ int, o *goquery.Selection) { out = append(out, controlValue(o)) })
	return out
}

// Field is one name/value pair of a form submission.
type Field struct{ Name, Value string }

// FormFields returns the successful controls of the selection's forms (or of the controls
// themselves), in document order, as jQuery's serializeArray does: named, not disabled, not
// submit/button/image/reset/file inputs, checkboxes and radios only when checked.
func FormFields(sel *goquery.Selection) []Field {
	var out []Field
	controls := sel.Find("input,select,textarea").AddSelection(sel.Filter("input,select,textarea"))
	controls.Each(func(_ int, c *goquery.Selection) {
		name, ok := c.Attr("name")
		if !ok || name == "" {
			return
		}
		if _, disabled := c.Attr("disabled"); disabled {
			return
		}
		switch goquery.NodeName(c) {
		case "select":
			for _, v := range selectValues(c) {
				out = append(out, Field{name, v})
			}
			return
		case "input":
			switch strings.ToLower(c.AttrOr("type", "")) {
			case "submit", "button", "image", "reset", "file":
				return
			case "checkbox", "radio":
				if _, checked := c.Attr("checked"); !checked {
					return
				}
			}
		}
		v := controlValue(c)
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\n", "\r\n")
		out = append(out, Field{name, v})
	})
	return out
}

// SerializeArray returns the form fields as [{name, value}, ...].
func (s *Selection) SerializeArray() goja.Value {
	fs := FormFields(s.sel)
	out := make([]any, len(fs))
	for i, f := range fs {
		o := s.rt.NewObject()
		_ = o.Set("name", f.Name)
		_ = o.Set("value", f.Value)
		out[i] = o
	}
	return s.rt.NewArray(out...)
}

// SerializeObject returns the form fields as {name: value}; a name given more than once
// maps to the array of its values.
func (s *Selection) SerializeObject() goja.Value {
	o := s.rt.NewObject()
	multi := map[string][]any{}
	var order []string
	for _, f := range FormFields(s.sel) {
		if _, seen := multi[f.Name]; !seen {
			order = append(order, f.Name)
		}
		multi[f.Name] = append(multi[f.Name], f.Value)
	}
	for _, name := range order {
		if vs := multi[name]; len(vs) == 1 {
			_ = o.Set(name, vs[0])
		} else {
			_ = o.Set(name, s.rt.NewArray(vs...))
		}
	}
	return o
}

// Serialize returns the form fields URL-encoded (application/x-www-form-urlencoded).
func (s *Selection) Serialize() string {
	var b strings.Builder
	for i, f := range FormFields(s.sel) {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(f.Value))
	}
	return b.String()
}

// asSelection returns v's Selection when v is one (or an Element: its node's selection).
func (s *Selection) asSelection(v goja.Value) *Selection {
	if isNullish(v) {
		return nil
	}
	if o, ok := v.Export().(*Selection); ok {
		return o
	}
	if o, ok := v.(*goja.Object); ok {
		if n := nodeOf(o); n != nil {
			return s.wrap(s.sel.FindNodes().AddNodes(n))
		}
	}
	return nil
}

// predicate adapts fn(index, selection) to goquery's filter functions.
func (s *Selection) predicate(fn goja.Callable) func(int, *goquery.Selection) bool {
	return func(i int, sel *goquery.Selection) bool {
		r, err := fn(goja.Undefined(), s.rt.ToValue(i), s.rt.ToValue(s.wrap(sel)))
		if err != nil {
			panic(err)
		}
		return r.ToBoolean()
	}
}
