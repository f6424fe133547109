package http

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules/k6/html"
)

// The response's HTML members: res.html([selector]), res.submitForm({...}) and
// res.clickLink({...}). The body is parsed once per response; links and form actions resolve
// against the response's URL, and the requests they make go out as the script's own
// (http.request: same client, samples and tags).

// document returns the response body parsed as HTML, parsed on first use.
func (o *responseObject) document() *html.Selection {
	if o.doc != nil {
		return o.doc
	}
	if o.r.body == nil {
		panic(o.rt.NewGoError(fmt.Errorf("the response has no body to parse as HTML (responseType none, or the request failed)")))
	}
	base, _ := url.Parse(o.r.url)
	doc, err := html.Parse(o.rt, string(o.r.body), base)
	if err != nil {
		panic(o.rt.NewGoError(err))
	}
	o.doc = doc
	return doc
}

// htmlMethod is res.html([selector]).
func (o *responseObject) htmlMethod(call goja.FunctionCall) goja.Value {
	doc := o.document()
	if sel := call.Argument(0); !isNullish(sel) {
		return o.rt.ToValue(html.Derive(doc, html.Goquery(doc).Find(sel.String())))
	}
	return o.rt.ToValue(doc)
}

// option returns the string property key of the options object opts, def when absent.
func option(rt *goja.Runtime, opts goja.Value, key, def string) string {
	if isNullish(opts) {
		return def
	}
	if v := opts.ToObject(rt).Get(key); !isNullish(v) {
		return v.String()
	}
	return def
}

func optionValue(rt *goja.Runtime, opts goja.Value, key string) goja.Value {
	if isNullish(opts) {
		return goja.Undefined()
	}
	if v := opts.ToObject(rt).Get(key); v != nil {
		return v
	}
	return goja.Undefined()
}

// clickLink is res.clickLink({selector = "a[href]", params}): a GET of the first matching
// element's href, resolved against the response URL.
func (o *responseObject) clickLink(call goja.FunctionCall) goja.Value {
	rt := o.rt
	opts := call.Argument(0)
	selector := option(rt, opts, "selector", "a[href]")
	link := html.Goquery(o.document()).Find(selector).First()
	if link.Length() == 0 {
		panic(rt.NewGoError(fmt.Errorf("clickLink: no element found for selector %q in the response from %s", selector, o.r.url)))
	}
	href, ok := link.Attr("href")
	if !ok {
		panic(rt.NewGoError(fmt.Errorf("clickLink: the element found for selector %q has no href attribute", selector)))
	}
	target, err := o.resolve(href)
	if err != nil {
		panic(rt.NewGoError(fmt.Errorf("clickLink: %w", err)))
	}
	return o.m.request("GET", rt.ToValue(target), goja.Undefined(), optionValue(rt, opts, "params"))
}

// submitForm is res.submitForm({formSelector = "form", fields, submitSelector =
// '[type="submit"]', submitSelectorAttr = "value", params}): the form's successful fields,
// overridden and extended by fields, plus the submit button's name and value when it has a
// name, sent to the form's action (the response URL when it has none) with its method (GET:
// in the query string; otherwise as an application/x-www-form-urlencoded body).
func (o *responseObject) submitForm(call goja.FunctionCall) goja.Value {
	rt := o.rt
	opts := call.Argument(0)
	formSel := option(rt, opts, "formSelector", "form")
	form := html.Goquery(o.document()).Find(formSel).First()
	if form.Length() == 0 {
		panic(rt.NewGoError(fmt.Errorf("submitForm: no form found for selector %q in the response from %s", formSel, o.r.url)))
	}
	if goquery.NodeName(form) != "form" {
		panic(rt.NewGoError(fmt.Errorf("submitForm: the element found for selector %q is a <%s>, not a <form>", formSel, goquery.NodeName(form))))
	}
	method := strings.ToUpper(form.AttrOr("method", "GET"))
	action, err := o.resolve(form.AttrOr("action", ""))
	if err != nil {
		panic(rt.NewGoError(fmt.Errorf("submitForm: %w", err)))
	}

	var names []string // in order of first appearance
	values := map[string][]string{}
	add := func(name, value string, replace bool) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		if replace {
			values[name] = []string{value}
			return
		}
		values[name] = append(values[name], value)
	}
	for _, f := range html.FormFields(form) {
		add(f.Name, f.Value, false)
	}
	if fields := optionValue(rt, opts, "fields"); !isNullish(fields) {
		fo := fields.ToObject(rt)
		for _, k := range fo.Keys() {
			v := fo.Get(k)
			arr, ok := v.(*goja.Object)
			if !ok || arr.ClassName() != "Array" {
				add(k, v.String(), true)
				continue
			}
			// An array sets every value of a multi-valued field (a multiple select, checkboxes).
			delete(values, k)
			n := int(arr.Get("length").ToInteger())
			for i := 0; i < n; i++ {
				add(k, arr.Get(strconv.Itoa(i)).String(), false)
			}
		}
	}
	submitSel := option(rt, opts, "submitSelector", `[type="submit"]`)
	if btn := form.Find(submitSel).First(); btn.Length() > 0 {
		if name, ok := btn.Attr("name"); ok && name != "" {
			add(name, btn.AttrOr(option(rt, opts, "submitSelectorAttr", "value"), ""), true)
		}
	}
	var b strings.Builder
	for _, name := range names {
		for _, v := range values[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(name))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	params := optionValue(rt, opts, "params")
	if method == "GET" {
		u, err := url.Parse(action)
		if err != nil {
			panic(rt.NewGoError(fmt.Errorf("submitForm: %w", err)))
		}
		u.RawQuery = b.String()
		return o.m.request("GET", rt.ToValue(u.String()), goja.Undefined(), params)
	}
	return o.m.request(method, rt.ToValue(action), rt.ToValue(b.String()), withFormType(rt, params))
}

// withFormType returns a copy of the params object whose headers have a Content-Type
// (application/x-www-form-urlencoded unless the script set one).
func withFormType(rt *goja.Runtime, params goja.Value) goja.Value {
	p := rt.NewObject()
	h := rt.NewObject()
	hasType := false
	if !isNullish(params) {
		src := params.ToObject(rt)
		for _, k := range src.Keys() {
			_ = p.Set(k, src.Get(k))
		}
		if hv := src.Get("headers"); !isNullish(hv) {
			ho := hv.ToObject(rt)
			for _, k := range ho.Keys() {
				_ = h.Set(k, ho.Get(k))
				hasType = hasType || strings.EqualFold(k, "Content-Type")
			}
		}
	}
	if !hasType {
		_ = h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	_ = p.Set("headers", h)
	return p
}

// resolve resolves ref against the response URL.
func (o *responseObject) resolve(ref string) (string, error) {
	base, err := url.Parse(o.r.url)
	if err != nil {
		return "", fmt.Errorf("the response URL %q: %w", o.r.url, err)
	}
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("the link %q: %w", ref, err)
	}
	return base.ResolveReference(u).String(), nil
}
