package jsonx

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestScanString(t *testing.T) {
	cases := []struct {
		name, in string
		next     int
		plain    bool
		val      string
	}{
		{"plain", `"abc"x`, 5, true, "abc"},
		{"empty", `""`, 2, true, ""},
		{"escapes", `"a\"b\\c\/\n\t\r\b\f"`, 21, false, "a\"b\\c/\n\t\r\b\f"},
		{"unicode", `"\u00e9\u20AC"`, 14, false, "é€"},
		{"surrogate pair", `"\ud83d\ude00"`, 14, false, "😀"},
		{"lone surrogate", `"\ud83dx"`, 9, false, "\uFFFDx"},
		{"utf8", `"é"`, 4, false, "é"},
		{"invalid utf8", "\"a\xffb\"", 5, false, "a\uFFFDb"},
		{"control", "\"a\nb\"", -1, false, ""},
		{"bad escape", `"\q"`, -1, false, ""},
		{"short unicode", `"\u12"`, -1, false, ""},
		{"unterminated", `"abc`, -1, false, ""},
		{"not a string", `abc`, -1, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, plain := ScanString([]byte(c.in), 0)
			if next != c.next || (next > 0 && plain != c.plain) {
				t.Fatalf("ScanString = %d, %v; want %d, %v", next, plain, c.next, c.plain)
			}
			if next < 0 {
				return
			}
			val, n2, ok := ReadString([]byte(c.in), 0, nil)
			if !ok || n2 != next || string(val) != c.val {
				t.Errorf("ReadString = %q, %d, %v; want %q", val, n2, ok, c.val)
			}
		})
	}
}

func TestReadStringNoAlloc(t *testing.T) {
	in := []byte(`"a\"b\u00e9\ud83d\ude00 plain text"`)
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		v, _, ok := ReadString(in, 0, buf)
		if !ok || len(v) == 0 {
			t.Fatal("not read")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}

func TestNumbers(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "3.698876", "0.000001", "123456789012345", "1234567890123456789", "0.1", "1e5", "-2.5E-3", "110853", "9007199254740993", "0.30000000000000004", "-0", "1E+2"} {
		want, _ := json.Number(s).Float64()
		got, ok := ParseNumber([]byte(s))
		if !ok || got != want {
			t.Errorf("%s: got %v %v, want %v", s, got, ok, want)
		}
		if ScanNumber([]byte(s), 0) != len(s) {
			t.Errorf("ScanNumber(%s) stops early", s)
		}
	}
	for _, s := range []string{"", "-", "1.", ".5", "+1", "1e", "NaN", "Inf", "0x10", "1_0", "1e999", "01", "-01"} {
		if _, ok := ParseNumber([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
	ints := []struct {
		in   string
		n    int64
		next int
		ok   bool
	}{
		{"12,", 12, 2, true}, {"-7}", -7, 2, true}, {"0", 0, 1, true},
		{"01", 0, 0, false}, {"1.5", 0, 0, false}, {"1e3", 0, 0, false}, {"-", 0, 0, false},
		{"1234567890123456789", 0, 0, false},
	}
	for _, c := range ints {
		n, next, ok := ScanInt([]byte(c.in), 0)
		if ok != c.ok || ok && (n != c.n || next != c.next) {
			t.Errorf("ScanInt(%q) = %d, %d, %v", c.in, n, next, ok)
		}
	}
}

func TestSkipValue(t *testing.T) {
	doc := []byte(` {"a" : [1, {"x":"}"}, "s", true, null], "k\u0065y": -2.5e3, "b": {"c":{}} } `)
	if i := SkipValue(doc, 1); i != len(doc)-1 {
		t.Errorf("SkipValue = %d, want %d", i, len(doc)-1)
	}
	deep := bytes.Repeat([]byte("["), MaxDepth+1)
	deep = append(deep, bytes.Repeat([]byte("]"), MaxDepth+1)...)
	if SkipValue(deep, 0) >= 0 {
		t.Error("nesting beyond MaxDepth accepted")
	}
	for _, bad := range []string{`{"a":}`, `[1,]`, `{"a" 1}`, `tru`, `{"a":1,}`, `[`, `"`} {
		if SkipValue([]byte(bad), 0) == len(bad) {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzString: a JSON string encoding/json accepts is read in full and decodes to the same
// value; one it rejects is not read in full.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\udc00\ud800"`, "\"\xff\"", `"\u00"`, `"é"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want string
		werr := json.Unmarshal(in, &want)
		val, next, ok := ReadString(in, SkipWS(in, 0), nil)
		full := ok && SkipWS(in, next) == len(in)
		if (werr == nil) != full {
			t.Fatalf("%q: encoding/json err %v, ReadString ok %v next %d", in, werr, ok, next)
		}
		if full && string(val) != want {
			t.Fatalf("%q: got %q, want %q", in, val, want)
		}
		// The encoder's output reads back to the same value.
		if full {
			enc := AppendString(nil, want)
			v2, n2, ok := ReadString(enc, 0, nil)
			if !ok || n2 != len(enc) || string(v2) != want {
				t.Fatalf("%q: re-encoded %s reads %q", want, enc, v2)
			}
		}
	})
}

// FuzzNumber: what encoding/json decodes as a float64, ParseNumber decodes to the same value.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "1e308", "1e309", "0.1", "1234567890123456789", "01", "1.", "-0.0e-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want float64
		werr := json.Unmarshal([]byte(s), &want)
		isNum := len(s) > 0 && ScanNumber([]byte(s), 0) == len(s)
		got, ok := ParseNumber([]byte(s))
		if werr == nil && isNum && (!ok || got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Fatalf("%q: got %v %v, want %v", s, got, ok, want)
		}
		if ok && (werr != nil || !isNum) {
			t.Fatalf("%q: accepted, encoding/json: %v", s, werr)
		}
		if n, next, ok := ScanInt([]byte(s), 0); ok && next == len(s) && (werr != nil || float64(n) != want) {
			t.Fatalf("%q: ScanInt %d, encoding/json %v %v", s, n, want, werr)
		}
	})
}

// FuzzSkipValue: SkipValue spans a whole input exactly when encoding/json finds it valid
// (within MaxDepth).
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"d"}`, `[true,false]`, `"x"`, `-0.5e3`, `{"a":1,}`, `{"type":"chunk_ack","seq":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		start := SkipWS(in, 0)
		end := SkipValue(in, start)
		whole := end >= 0 && SkipWS(in, end) == len(in)
		valid := json.Valid(in)
		if whole && !valid {
			t.Fatalf("%q: skipped whole, encoding/json finds it invalid", in)
		}
		if valid && !whole && depth(in) <= MaxDepth {
			t.Fatalf("%q: valid JSON, SkipValue = %d", in, end)
		}
	})
}

// depth is the deepest bracket nesting in b outside strings (enough for valid JSON).
func depth(b []byte) int {
	d, m, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			d++
			m = max(m, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return m
}
