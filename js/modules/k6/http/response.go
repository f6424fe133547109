package http

import (
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/tidwall/gjson"

	"github.com/pixelk6/pixelk6/js/modules/k6/html"
)

// response returns the JavaScript response object of a hop. It is a dynamic object over the
// Go result: creating it costs two allocations, and the nested objects (headers, timings,
// request, cookies) and json() are built on first access and then cached. Scripts may add or
// overwrite properties.
func (m *instance) response(r *result) goja.Value {
	return m.vu.Runtime().NewDynamicObject(&responseObject{m: m, rt: m.vu.Runtime(), r: r})
}

// responseKeys are the response's own enumerable properties, in k6's order.
var responseKeys = []string{"remote_ip", "remote_port", "url", "status", "status_text", "proto", "headers",
	"cookies", "body", "timings", "tls_version", "tls_cipher_suite", "error", "error_code", "request"}

type responseObject struct {
	m     *instance // issues submitForm's and clickLink's requests
	rt    *goja.Runtime
	r     *result
	cache map[string]goja.Value // built nested values and script-set properties
	json  goja.Value            // parsed body
	doc   *html.Selection       // body parsed as HTML (html.go)
}

func (o *responseObject) Get(key string) goja.Value {
	if v, ok := o.cache[key]; ok {
		return v
	}
	r, rt := o.r, o.rt
	var v goja.Value
	switch key {
	case "status":
		return rt.ToValue(r.status)
	case "status_text":
		return rt.ToValue(r.statusTxt)
	case "proto":
		return rt.ToValue(r.proto)
	case "url":
		return rt.ToValue(r.url)
	case "error":
		return rt.ToValue(r.errMsg)
	case "error_code":
		return rt.ToValue(r.errCode)
	case "tls_version":
		return rt.ToValue(r.tls)
	case "tls_cipher_suite":
		return rt.ToValue(r.cipher)
	case "remote_ip":
		host, _ := splitRemote(r.remote)
		return rt.ToValue(host)
	case "remote_port":
		_, port := splitRemote(r.remote)
		return rt.ToValue(port)
	case "body":
		switch {
		case r.req.respType == respNone || (r.body == nil && r.status == 0):
			v = goja.Null()
		case r.req.respType == respBinary:
			v = rt.ToValue(rt.NewArrayBuffer(r.body))
		default:
			v = rt.ToValue(string(r.body))
		}
	case "headers":
		h := rt.NewObject()
		for k, vs := range r.header {
			_ = h.Set(k, flatHeader(vs))
		}
		v = h
	case "timings":
		tm := rt.NewObject()
		_ = tm.Set("blocked", r.timings.blocked)
		// k6 v2.2's Response.timings still has looking_up (undocumented, never measured:
		// always 0); kept so scripts reading it see what k6 gives them.
		_ = tm.Set("looking_up", 0)
		_ = tm.Set("connecting", r.timings.connecting)
		_ = tm.Set("tls_handshaking", r.timings.tlsHandshaking)
		_ = tm.Set("sending", r.timings.sending)
		_ = tm.Set("waiting", r.timings.waiting)
		_ = tm.Set("receiving", r.timings.receiving)
		_ = tm.Set("duration", r.timings.duration)
		v = tm
	case "cookies":
		v = responseCookiesObject(rt, r.header)
	case "request":
		req := rt.NewObject()
		_ = req.Set("method", r.method)
		_ = req.Set("url", r.url)
		rh := rt.NewObject()
		for k, vs := range r.reqHeader {
			_ = rh.Set(k, vs)
		}
		_ = req.Set("headers", rh)
		_ = req.Set("body", string(r.reqBody))
		_ = req.Set("cookies", requestCookiesObject(rt, r.cookies))
		v = req
	case "json":
		v = rt.ToValue(o.jsonMethod)
	case "html":
		v = rt.ToValue(o.htmlMethod)
	case "submitForm":
		v = rt.ToValue(o.submitForm)
	case "clickLink":
		v = rt.ToValue(o.clickLink)
	default:
		return nil
	}
	if o.cache == nil {
		o.cache = make(map[string]goja.Value, 4)
	}
	o.cache[key] = v
	return v
}

// jsonMethod is res.json([selector]): the body parsed once; with a selector, the part of the
// body it selects with GJSON's syntax (paths, #, queries, modifiers), undefined when it
// selects nothing.
func (o *responseObject) jsonMethod(call goja.FunctionCall) goja.Value {
	rt := o.rt
	if o.r.body == nil {
		panic(rt.NewGoError(errNoBody))
	}
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	if sel := call.Argument(0); !isNullish(sel) {
		res := gjson.GetBytes(o.r.body, sel.String())
		if !res.Exists() {
			return goja.Undefined()
		}
		v, err := parse(goja.Undefined(), rt.ToValue(res.Raw))
		if err != nil {
			panic(err)
		}
		return v
	}
	if o.json == nil {
		v, err := parse(goja.Undefined(), rt.ToValue(string(o.r.body)))
		if err != nil {
			panic(err)
		}
		o.json = v
	}
	return o.json
}

func (o *responseObject) Set(key string, val goja.Value) bool {
	if o.cache == nil {
		o.cache = make(map[string]goja.Value, 4)
	}
	o.cache[key] = val
	return true
}

func (o *responseObject) Has(key string) bool {
	if _, ok := o.cache[key]; ok {
		return true
	}
	for _, k := range responseKeys {
		if k == key {
			return true
		}
	}
	return isMethodKey(key)
}

func (o *responseObject) Delete(key string) bool {
	delete(o.cache, key)
	return true
}

func (o *responseObject) Keys() []string {
	keys := append([]string(nil), responseKeys...)
	for k := range o.cache {
		if !isMethodKey(k) && !containsKey(responseKeys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func isMethodKey(k string) bool {
	return k == "json" || k == "html" || k == "submitForm" || k == "clickLink"
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

type bodyError string

func (e bodyError) Error() string { return string(e) }

const errNoBody = bodyError("the response has no body to parse as JSON (responseType none, or the request failed)")

func splitRemote(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return addr, 0
	}
	p, _ := strconv.Atoi(addr[i+1:])
	return strings.Trim(addr[:i], "[]"), p
}
