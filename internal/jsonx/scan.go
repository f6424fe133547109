package jsonx

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// SkipWS returns the index of the first byte at or after i that is not JSON white space.
func SkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// ScanString validates the JSON string that starts at b[i] (which must be '"') and returns
// the index just after its closing quote, or -1 when there is no valid string there
// (control characters, bad escapes, no closing quote). plain reports that the string has
// no escapes and only ASCII characters, so b[i+1:next-1] is its value as it stands.
func ScanString(b []byte, i int) (next int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return -1, false
	}
	plain = true
	for i++; i < len(b); i++ {
		for i < len(b) && !strSpecial[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, plain
		case c < 0x20:
			return -1, false
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return -1, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1, false
					}
				}
				i += 4
			default:
				return -1, false
			}
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return -1, false
}

// strSpecial marks the bytes a string scan must look at: the quote, the backslash,
// control characters and non-ASCII bytes.
var strSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) rune {
	switch {
	case c <= '9':
		return rune(c - '0')
	case c >= 'a':
		return rune(c-'a') + 10
	}
	return rune(c-'A') + 10
}

// ReadString reads the JSON string at b[i]. Its value aliases b when the string is plain
// (see ScanString); otherwise it is decoded into buf[:0] (which grows only if too small).
// next is the index after the closing quote.
func ReadString(b []byte, i int, buf []byte) (val []byte, next int, ok bool) {
	next, plain := ScanString(b, i)
	if next < 0 {
		return nil, i, false
	}
	if plain {
		return b[i+1 : next-1], next, true
	}
	return AppendUnquoted(buf[:0], b[i+1:next-1]), next, true
}

// AppendUnquoted appends the value of a JSON string's contents (the bytes between its
// quotes, already validated by ScanString) to dst, as encoding/json decodes them: escapes
// resolved, \uXXXX surrogate pairs joined, lone surrogates and invalid UTF-8 replaced by
// U+FFFD.
func AppendUnquoted(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			if i+1 >= len(raw) {
				return dst // not reached for validated input
			}
			switch e := raw[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, n := unicodeEscape(raw[i:])
				dst = utf8.AppendRune(dst, r)
				i += n
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\uFFFD"...)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

// unicodeEscape decodes the \uXXXX escape (and a following low surrogate) at the start of
// s and returns the rune and the bytes it used.
func unicodeEscape(s []byte) (rune, int) {
	r, ok := hex4(s)
	if !ok {
		return utf8.RuneError, len(s) // not reached for validated input
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r < 0xDC00 { // a high surrogate: a low one must follow
		if r2, ok := hex4(s[6:]); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
			return utf16.DecodeRune(r, r2), 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 decodes "\uXXXX" at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' || !isHex(s[2]) || !isHex(s[3]) || !isHex(s[4]) || !isHex(s[5]) {
		return 0, false
	}
	return hexVal(s[2])<<12 | hexVal(s[3])<<8 | hexVal(s[4])<<4 | hexVal(s[5]), true
}

// ScanNumber returns the index just after the JSON number at b[i]
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), or -1 when there is none.
func ScanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseNumber parses b, which must be exactly one JSON number, as encoding/json decodes it
// into a float64; ok is false for anything else and for numbers out of float64's range.
// Plain decimals with at most 15 significant digits take an exact fast path (the mantissa
// and the power of ten are exact float64s, so one division is correctly rounded); the rest
// goes to strconv.ParseFloat.
func ParseNumber(b []byte) (float64, bool) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	var mant uint64
	nd := 0
	frac := 0
	seenDot := false
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if nd >= 19 {
				return slowNumber(b)
			}
			mant = mant*10 + uint64(c-'0')
			if mant != 0 {
				nd++
			}
			if seenDot {
				frac++
			}
		case c == '.' && !seenDot && i > start:
			seenDot = true
		default:
			return slowNumber(b)
		}
	}
	if b[len(b)-1] == '.' || (b[start] == '0' && len(b) > start+1 && b[start+1] != '.') {
		return slowNumber(b)
	}
	if nd > 15 || frac > 22 {
		return slowNumber(b)
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func slowNumber(b []byte) (float64, bool) {
	if len(b) == 0 || ScanNumber(b, 0) != len(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// ScanInt reads a JSON integer literal at b[i]: an optional minus and at most 18 digits
// without a leading zero (so it cannot overflow), not followed by a fraction or an
// exponent. ok is false for anything else (a caller may then try ScanNumber).
func ScanInt(b []byte, i int) (n int64, next int, ok bool) {
	j := i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		n = n*10 + int64(b[j]-'0')
		j++
	}
	nd := j - start
	if nd == 0 || nd > 18 || (nd > 1 && b[start] == '0') {
		return 0, i, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, j, true
}

// MaxDepth bounds the nesting of arrays and objects that SkipValue follows.
const MaxDepth = 64

// SkipValue returns the index just after the JSON value at b[i] (no white space before
// it), or -1 when there is no valid value there or it nests deeper than MaxDepth.
func SkipValue(b []byte, i int) int { return skipValue(b, i, 0) }

func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		next, _ := ScanString(b, i)
		return next
	case '{':
		if depth >= MaxDepth {
			return -1
		}
		i = SkipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i, _ = ScanString(b, i); i < 0 {
				return -1
			}
			if i = SkipWS(b, i); i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = skipValue(b, SkipWS(b, i+1), depth+1); i < 0 {
				return -1
			}
			if i = SkipWS(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case '}':
				return i + 1
			case ',':
				i = SkipWS(b, i+1)
			default:
				return -1
			}
		}
	case '[':
		if depth >= MaxDepth {
			return -1
		}
		i = SkipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i = SkipWS(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case ']':
				return i + 1
			case ',':
				i = SkipWS(b, i+1)
			default:
				return -1
			}
		}
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	}
	return ScanNumber(b, i)
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}
