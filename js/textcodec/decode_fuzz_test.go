package textcodec

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecode: valid UTF-8 decodes to itself, the output is always valid UTF-8, and a stream
// cut anywhere decodes as the whole does.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "abc", "h€", "\xef\xbb\xbfa", "a\xff\xe2\x82b\xf0\x90", "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		f.Add([]byte(s), 1)
	}
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		whole, err := (&decoder{ignoreBOM: true}).decode(b, false)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(whole) {
			t.Fatalf("decode(%q) = %q, not UTF-8", b, whole)
		}
		if utf8.Valid(b) && whole != string(b) {
			t.Fatalf("decode(%q) = %q", b, whole)
		}
		if _, err := (&decoder{fatal: true, ignoreBOM: true}).decode(b, false); (err == nil) != utf8.Valid(b) {
			t.Fatalf("fatal decode(%q): err %v", b, err)
		}
		if cut < 0 || cut > len(b) {
			return
		}
		for _, ignoreBOM := range []bool{true, false} {
			one, _ := (&decoder{ignoreBOM: ignoreBOM}).decode(b, false)
			d := &decoder{ignoreBOM: ignoreBOM}
			first, _ := d.decode(b[:cut], true)
			rest, _ := d.decode(b[cut:], false)
			if first+rest != one {
				t.Fatalf("decode(%q) = %q, cut at %d: %q + %q (ignoreBOM %v)", b, one, cut, first, rest, ignoreBOM)
			}
		}
	})
}
