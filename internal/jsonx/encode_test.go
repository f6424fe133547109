package jsonx

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString: every string encodes as valid JSON that decodes to the same string,
// with invalid UTF-8 bytes replaced by U+FFFD.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x01\x1f\n\r\t\b\f", "<&>", "\u2028\u2029", "bad\xff\xfeutf8", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, b, err)
		}
		if want := replaceInvalidBytes(s); got != want {
			t.Fatalf("%q round-tripped to %q, want %q", s, got, want)
		}
	})
}

// replaceInvalidBytes returns s with each byte that is not part of valid UTF-8 replaced by
// U+FFFD, as the encoder does.
func replaceInvalidBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
