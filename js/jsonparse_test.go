package js

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// jsonParsePair is goja's own JSON.parse and the installed one, on one runtime, with a
// structural comparison written in JavaScript (Object.is for leaves, so -0 and NaN count;
// own keys in order; arrays against arrays; prototypes).
type jsonParsePair struct {
	rt         *goja.Runtime
	orig, fast goja.Callable
	same       goja.Callable
}

func newJSONParsePair(t testing.TB) *jsonParsePair {
	t.Helper()
	rt := goja.New()
	orig, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	if err := installJSONParse(rt); err != nil {
		t.Fatal(err)
	}
	fast, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	same, err := rt.RunString(`(function same(a, b) {
		if (typeof a !== typeof b) return false;
		if (a === null || typeof a !== 'object') return Object.is(a, b);
		if (b === null || Array.isArray(a) !== Array.isArray(b)) return false;
		if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
		const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b);
		if (ka.length !== kb.length) return false;
		for (let i = 0; i < ka.length; i++) {
			if (ka[i] !== kb[i]) return false;
			const da = Object.getOwnPropertyDescriptor(a, ka[i]), db = Object.getOwnPropertyDescriptor(b, kb[i]);
			if (da.writable !== db.writable || da.enumerable !== db.enumerable || da.configurable !== db.configurable) return false;
			if (!same(da.value, db.value)) return false;
		}
		return true;
	})`)
	if err != nil {
		t.Fatal(err)
	}
	sameFn, _ := goja.AssertFunction(same)
	return &jsonParsePair{rt: rt, orig: orig, fast: fast, same: sameFn}
}

// check parses in with both and reports how they differ ("" when they agree).
func (p *jsonParsePair) check(in goja.Value, extra ...goja.Value) string {
	args := append([]goja.Value{in}, extra...)
	want, werr := p.orig(goja.Undefined(), args...)
	got, gerr := p.fast(goja.Undefined(), args...)
	switch {
	case werr != nil || gerr != nil:
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			return "errors differ: goja " + errString(werr) + ", fast " + errString(gerr)
		}
		return ""
	}
	ok, err := p.same(goja.Undefined(), want, got)
	if err != nil {
		return "comparison: " + err.Error()
	}
	if !ok.ToBoolean() {
		return "values differ"
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

var jsonParseCases = []string{
	`{"type":"chunk_ack","seq":123,"client_seq":45}`,
	` { "a" : [ 1 , 2.5 , -0 , -0.0, 1e2 , 1E-2 , 0 , -1 , 12345678901234567890 , 9007199254740993 ] } `,
	`[]`, `{}`, `[[]]`, `[{}]`, `""`, `"x"`, `true`, `false`, `null`, `0`, `-0`, `1.5e300`, `1e400`, `-1e400`, `4.9e-324`, `1e-400`,
	`"\u00e9\u4e2d\ud83d\ude00"`, `"\ud800"`, `"\udc00"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud83d\ude00\ud83d"`, `"\uDBFF\uDFFF"`,
	`"\"\\\/\b\f\n\r\t"`, `"a\u0000b"`, `"é中😀"`, "\"tab\there\"", "\"nl\nhere\"",
	`{"__proto__":{"x":1}}`, `{"a":1,"a":2}`, `{"b":1,"a":2,"1":3,"0":4}`, `{"":0}`,
	`[1,]`, `{"a":1,}`, `[1 2]`, `{"a" 1}`, `{a:1}`, `'x'`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`, `NaN`, `Infinity`,
	`tru`, `nul`, `[`, `{`, `"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, ``, ` `, `1 2`, `{}{}`, `[] x`, "\ufeff1", `{"a":[1,{"b":[true,false,null]}]}`,
	strings.Repeat("[", 600) + strings.Repeat("]", 600),
	strings.Repeat(`{"a":`, 520) + "1" + strings.Repeat("}", 520),
}

func TestJSONParseMatchesGoja(t *testing.T) {
	p := newJSONParsePair(t)
	for _, c := range jsonParseCases {
		if d := p.check(p.rt.ToValue(c)); d != "" {
			t.Errorf("JSON.parse(%q): %s", c, d)
		}
	}
	// Arguments the fast path leaves to goja's: a reviver, non-strings, no argument.
	reviver, _ := p.rt.RunString(`(function (k, v) { return typeof v === 'number' ? v * 2 : v; })`)
	for _, extra := range [][]goja.Value{{reviver}, {goja.Null()}, {goja.Undefined()}} {
		if d := p.check(p.rt.ToValue(`{"a":[1,2]}`), extra...); d != "" {
			t.Errorf("JSON.parse with %v: %s", extra, d)
		}
	}
	for _, v := range []goja.Value{p.rt.ToValue(12), goja.Null(), goja.Undefined(), p.rt.ToValue(true)} {
		if d := p.check(v); d != "" {
			t.Errorf("JSON.parse(%v): %s", v, d)
		}
	}
	obj, _ := p.rt.RunString(`({ toString() { return '{"x":1}'; } })`)
	if d := p.check(obj); d != "" {
		t.Errorf("JSON.parse(an object with toString): %s", d)
	}
	// A JavaScript string with a lone surrogate (not valid UTF-8 in Go).
	lone, _ := p.rt.RunString(`'"' + String.fromCharCode(0xd800) + '"'`)
	if d := p.check(lone); d != "" {
		t.Errorf("JSON.parse(lone surrogate): %s", d)
	}
	// The function itself looks like the builtin.
	for expr, want := range map[string]string{
		"JSON.parse.name": "parse", "JSON.parse.length": "2",
		"Object.getOwnPropertyDescriptor(JSON, 'parse').enumerable": "false",
		"Object.getOwnPropertyDescriptor(JSON, 'parse').writable":   "true",
	} {
		v, err := p.rt.RunString(expr)
		if err != nil || v.String() != want {
			t.Errorf("%s = %v (%v), want %s", expr, v, err, want)
		}
	}
	// A setter on Object.prototype does not run (CreateDataProperty, as JSON.parse does).
	v, err := p.rt.RunString(`let hit = false;
		Object.defineProperty(Object.prototype, 'trap', { set() { hit = true; }, configurable: true });
		const o = JSON.parse('{"trap":1}');
		delete Object.prototype.trap;
		[hit, Object.prototype.hasOwnProperty.call(o, 'trap')].join()`)
	if err != nil || v.String() != "false,true" {
		t.Errorf("setter on Object.prototype: %v (%v), want false,true", v, err)
	}
}

func FuzzJSONParse(f *testing.F) {
	for _, c := range jsonParseCases {
		f.Add(c)
	}
	p := newJSONParsePair(f)
	f.Fuzz(func(t *testing.T, s string) {
		if d := p.check(p.rt.ToValue(s)); d != "" {
			t.Fatalf("JSON.parse(%q): %s", s, d)
		}
	})
}

func BenchmarkJSONParse(b *testing.B) {
	for _, c := range []struct{ name, doc string }{
		{"ack", `{"type":"chunk_ack","seq":123,"client_seq":45}`},
		{"inference", `{"id":"inf-42","model":"pixel-v1","risk_level":"high","crisis":true,"bias":false,"scores":{"crisis":0.97,"bias":0.02,"empathy":0.81},"labels":["crisis","self-harm"],"latency_ms":23.5,"text":"I hear you. You are not alone \u2014 let's talk."}`},
	} {
		p := newJSONParsePair(b)
		in := p.rt.ToValue(c.doc)
		b.Run(c.name+"/goja", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.orig(goja.Undefined(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/pixelk6", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.fast(goja.Undefined(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
