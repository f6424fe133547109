package http

import (
	"fmt"
	gohttp "net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// CookieJar is k6's CookieJar object: the VU's jar (http.cookieJar()) or one the script
// makes (new http.CookieJar()) and passes as params.jar.
type CookieJar struct {
	jar gohttp.CookieJar
}

// reqCookie is a cookie a request sends: from the jar, or from params.cookies (replace: the
// jar's cookies of that name are left out).
type reqCookie struct {
	name, value string
	replace     bool
}

func parseURL(fn, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: invalid URL %q", fn, raw)
	}
	return u, nil
}

// CookiesForURL returns the jar's cookies for a URL: name → values.
func (j *CookieJar) CookiesForURL(raw string) (map[string][]string, error) {
	u, err := parseURL("cookiesForURL", raw)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, c := range j.jar.Cookies(u) {
		out[c.Name] = append(out[c.Name], c.Value)
	}
	return out, nil
}

// cookieOptions are jar.set's options.
type cookieOptions struct {
	Domain   string `js:"domain"`
	Path     string `js:"path"`
	Expires  string `js:"expires"`
	MaxAge   int    `js:"max_age"`
	Secure   bool   `js:"secure"`
	HTTPOnly bool   `js:"http_only"`
}

// Set stores a cookie for a URL, as a Set-Cookie header from it would (domain, path,
// expires as an HTTP date, max_age in seconds, secure, http_only).
func (j *CookieJar) Set(raw, name, value string, opts *cookieOptions) error {
	u, err := parseURL("cookieJar.set", raw)
	if err != nil {
		return err
	}
	c := &gohttp.Cookie{Name: name, Value: value}
	if opts != nil {
		c.Domain, c.Path, c.MaxAge, c.Secure, c.HttpOnly = opts.Domain, opts.Path, opts.MaxAge, opts.Secure, opts.HTTPOnly
		if opts.Expires != "" {
			t, err := gohttp.ParseTime(opts.Expires)
			if err != nil {
				return fmt.Errorf("cookieJar.set: expires %q is not an HTTP date (like %q)", opts.Expires, time.RFC1123)
			}
			c.Expires = t
		}
	}
	j.jar.SetCookies(u, []*gohttp.Cookie{c})
	return nil
}

// Clear removes the cookies the jar would send to a URL.
func (j *CookieJar) Clear(raw string) error {
	u, err := parseURL("cookieJar.clear", raw)
	if err != nil {
		return err
	}
	for _, c := range j.jar.Cookies(u) {
		j.remove(u, c.Name)
	}
	return nil
}

// Delete removes the cookie of that name the jar would send to a URL.
func (j *CookieJar) Delete(raw, name string) error {
	u, err := parseURL("cookieJar.delete", raw)
	if err != nil {
		return err
	}
	j.remove(u, name)
	return nil
}

// remove expires every cookie of that name that may apply to u: a jar keys cookies by
// domain, path and name and does not list the first two, so each path above u's and each
// domain above its host (and host-only) is expired.
func (j *CookieJar) remove(u *url.URL, name string) {
	paths := []string{"/"}
	p := ""
	for _, seg := range strings.Split(strings.Trim(u.Path, "/"), "/") {
		if seg == "" {
			continue
		}
		p += "/" + seg
		paths = append(paths, p)
	}
	domains := []string{""}
	host := u.Hostname()
	for h := host; h != ""; {
		domains = append(domains, h)
		_, rest, ok := strings.Cut(h, ".")
		if !ok || !strings.Contains(rest, ".") {
			break
		}
		h = rest
	}
	var dead []*gohttp.Cookie
	for _, d := range domains {
		for _, p := range paths {
			dead = append(dead, &gohttp.Cookie{Name: name, Domain: d, Path: p, MaxAge: -1})
		}
	}
	for _, scheme := range []string{"https", "http"} { // secure cookies are only removable over https
		v := *u
		v.Scheme = scheme
		j.jar.SetCookies(&v, dead)
	}
}

// newCookieJar is new http.CookieJar().
func (m *instance) newCookieJar(call goja.ConstructorCall) *goja.Object {
	return m.vu.Runtime().ToValue(&CookieJar{jar: NewJar()}).ToObject(m.vu.Runtime())
}

// cookieJar() returns the VU's jar (a new one each iteration unless noCookiesReset).
func (m *instance) cookieJar(goja.FunctionCall) goja.Value {
	st := m.state()
	if st.HTTPClient.Jar == nil {
		st.HTTPClient.Jar = NewJar()
	}
	return m.vu.Runtime().ToValue(&CookieJar{jar: st.HTTPClient.Jar})
}

// requestCookies reads params.cookies: name → value, or name → {value, replace}.
func requestCookies(rt *goja.Runtime, v goja.Value) []reqCookie {
	co := v.ToObject(rt)
	keys := co.Keys()
	sort.Strings(keys)
	var out []reqCookie
	for _, k := range keys {
		c := reqCookie{name: k}
		x := co.Get(k)
		if o, ok := x.(*goja.Object); ok && !isNullish(o.Get("value")) {
			c.value = o.Get("value").String()
			if r := o.Get("replace"); r != nil {
				c.replace = r.ToBoolean()
			}
		} else {
			c.value = x.String()
		}
		out = append(out, c)
	}
	return out
}

// hopCookies are the cookies one hop sends: the request's own, then the jar's for u but
// those the request replaces.
func hopCookies(req *request, u *url.URL) []reqCookie {
	out := append([]reqCookie(nil), req.cookies...)
	if req.jar == nil {
		return out
	}
	for _, c := range req.jar.Cookies(u) {
		replaced := false
		for _, rc := range req.cookies {
			if rc.replace && rc.name == c.Name {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, reqCookie{name: c.Name, value: c.Value})
		}
	}
	return out
}

// cookieLine is the Cookie header of a hop's cookies.
func cookieLine(cs []reqCookie) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString((&gohttp.Cookie{Name: c.name, Value: c.value}).String())
	}
	return b.String()
}

// responseCookies parses a response's Set-Cookie headers.
func responseCookies(h gohttp.Header) []*gohttp.Cookie {
	if len(h["Set-Cookie"]) == 0 {
		return nil
	}
	return (&gohttp.Response{Header: h}).Cookies()
}

// responseCookiesObject is res.cookies: name → [{name, value, domain, path, http_only,
// secure, max_age, expires}], expires in ms since the epoch (0 when not given).
func responseCookiesObject(rt *goja.Runtime, h gohttp.Header) *goja.Object {
	out := rt.NewObject()
	for _, c := range responseCookies(h) {
		o := rt.NewObject() // properties in k6's order
		_ = o.Set("name", c.Name)
		_ = o.Set("value", c.Value)
		_ = o.Set("domain", c.Domain)
		_ = o.Set("path", c.Path)
		_ = o.Set("http_only", c.HttpOnly)
		_ = o.Set("secure", c.Secure)
		_ = o.Set("max_age", c.MaxAge)
		var exp int64
		if !c.Expires.IsZero() {
			exp = c.Expires.UnixMilli()
		}
		_ = o.Set("expires", exp)
		appendTo(rt, out, c.Name, o)
	}
	return out
}

// requestCookiesObject is res.request.cookies: name → [{name, value, replace}].
func requestCookiesObject(rt *goja.Runtime, cs []reqCookie) *goja.Object {
	out := rt.NewObject()
	for _, c := range cs {
		o := rt.NewObject()
		_ = o.Set("name", c.name)
		_ = o.Set("value", c.value)
		_ = o.Set("replace", c.replace)
		appendTo(rt, out, c.name, o)
	}
	return out
}

func appendTo(rt *goja.Runtime, obj *goja.Object, key string, v goja.Value) {
	if a, ok := obj.Get(key).(*goja.Object); ok {
		_ = a.Set(strconv.Itoa(int(a.Get("length").ToInteger())), v)
		return
	}
	_ = obj.Set(key, rt.NewArray(v))
}

// JarOf returns the cookie jar a JavaScript params.jar value holds (a CookieJar from
// http.cookieJar() or new http.CookieJar()), for the other modules that take one (k6/ws,
// k6/websockets).
func JarOf(v any) (gohttp.CookieJar, bool) {
	j, ok := v.(*CookieJar)
	if !ok || j == nil {
		return nil, false
	}
	return j.jar, true
}
