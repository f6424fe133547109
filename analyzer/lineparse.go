package analyzer

import (
	"bytes"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// point is one parsed Point record. name and tags alias the input line. tags is the raw
// JSON object, braces included, and is NOT validated here: the caller decodes it with
// encoding/json the first time it sees those exact bytes (interning them), so a line whose
// tags do not decode falls back to the slow path.
type point struct {
	name []byte
	tags []byte
	t    int64 // Unix nanoseconds
	v    float64

	// The previous line's time text and value: the samples of one request share a time.
	lastTime [40]byte
	lastLen  int
	lastT    int64
}

var (
	prefixMetric = []byte(`{"metric":"`)
	midPoint     = []byte(`","type":"Point","data":{"time":"`)
	midValue     = []byte(`","value":`)
	midTags      = []byte(`"tags":`)
	tagsEndMeta  = []byte(`},"metadata":`) // '}' is rare in tags, so the search skips fast
)

// parsePoint is the hot-path scanner for k6's fixed Point shape
//
//	{"metric":NAME,"type":"Point","data":{"time":T,"value":V,"tags":{...}[,"metadata":{...}]}}
//
// It does not allocate. It returns false for anything else (Metric records, other key
// orders, escaped names, whitespace between tokens): the caller then falls back to
// encoding/json, which decides whether the line is valid.
func parsePoint(line []byte, p *point) bool {
	if !bytes.HasPrefix(line, prefixMetric) {
		return false
	}
	s := line[len(prefixMetric):]
	i := bytes.IndexByte(s, '"')
	if i <= 0 {
		return false
	}
	for _, c := range s[:i] {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false // escapes and non-ASCII go through encoding/json
		}
	}
	p.name = s[:i]
	s = s[i:]
	if !bytes.HasPrefix(s, midPoint) {
		return false
	}
	s = s[len(midPoint):]
	i = bytes.IndexByte(s, '"')
	if i < 0 {
		return false
	}
	if ts := s[:i]; p.lastLen > 0 && string(ts) == string(p.lastTime[:p.lastLen]) {
		p.t = p.lastT
	} else {
		t, ok := parseRFC3339(ts)
		if !ok {
			return false
		}
		p.t = t
		if len(ts) <= len(p.lastTime) {
			p.lastLen = copy(p.lastTime[:], ts)
			p.lastT = t
		}
	}
	s = s[i:]
	if !bytes.HasPrefix(s, midValue) {
		return false
	}
	s = s[len(midValue):]
	i = bytes.IndexByte(s, ',')
	if i <= 0 {
		return false
	}
	v, ok := parseNumber(s[:i])
	if !ok {
		return false
	}
	p.v = v
	s = s[i+1:]
	if !bytes.HasPrefix(s, midTags) {
		return false
	}
	s = s[len(midTags):]
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	if len(s) < 4 || s[0] != '{' || s[len(s)-1] != '}' || s[len(s)-2] != '}' {
		return false
	}
	s = s[:len(s)-2] // the tags object [+ ,"metadata":{...}]
	// In valid JSON the unescaped sequence ,"metadata": cannot occur inside a tag's string,
	// so its first occurrence is the key.
	if m := bytes.Index(s, tagsEndMeta); m >= 0 {
		meta := s[m+len(tagsEndMeta):]
		if objectLen(meta) != len(meta) {
			return false
		}
		s = s[:m+1]
	}
	if len(s) < 2 || s[len(s)-1] != '}' {
		return false
	}
	p.tags = s
	return true
}

// objectLen returns the length of the flat JSON object of strings at the start of s
// ({"k":"v",...}), or -1 when s does not start with one. Nested values make it return -1
// (the fallback decoder handles them).
func objectLen(s []byte) int {
	if len(s) < 2 || s[0] != '{' {
		return -1
	}
	i := 1
	if s[i] == '}' {
		return 2
	}
	for {
		// key
		if i >= len(s) || s[i] != '"' {
			return -1
		}
		j := stringEnd(s, i)
		if j < 0 {
			return -1
		}
		i = j
		if i >= len(s) || s[i] != ':' {
			return -1
		}
		i++
		if i >= len(s) || s[i] != '"' {
			return -1
		}
		j = stringEnd(s, i)
		if j < 0 {
			return -1
		}
		i = j
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// stringEnd returns the index just after the JSON string that starts at s[i] == '"', or -1
// when it is not a valid JSON string (control characters, bad escapes, no closing quote).
func stringEnd(s []byte, i int) int {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(s) {
				return -1
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1
				}
				for _, h := range s[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a JSON number. Plain decimals with at most 15 significant digits take
// an exact fast path (both the mantissa and the power of ten are exact float64s, so one
// division is correctly rounded); everything else goes to strconv.ParseFloat.
func parseNumber(b []byte) (float64, bool) {
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
	digits := 0
	frac := 0
	seenDot := false
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits < 19 {
				mant = mant*10 + uint64(c-'0')
				if mant != 0 {
					digits++
				}
				if seenDot {
					frac++
				}
			} else {
				return slowNumber(b)
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
	if digits > 15 || frac > 22 {
		return slowNumber(b)
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func slowNumber(b []byte) (float64, bool) {
	if !validJSONNumber(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// validJSONNumber reports whether b is -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// parseRFC3339 parses "2006-01-02T15:04:05[.fraction](Z|±hh:mm)" to Unix nanoseconds
// without allocating; other layouts fall back to time.Parse.
func parseRFC3339(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return slowTime(b)
	}
	year, ok1 := digitsN(b[0:4])
	mon, ok2 := digitsN(b[5:7])
	day, ok3 := digitsN(b[8:10])
	hh, ok4 := digitsN(b[11:13])
	mm, ok5 := digitsN(b[14:16])
	ss, ok6 := digitsN(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1678 || year > 2261 || mon < 1 || mon > 12 || day < 1 || day > daysIn(mon, year) || hh > 23 || mm > 59 || ss > 59 {
		return slowTime(b)
	}
	i := 19
	var nanos int64
	if i < len(b) && b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				nanos = nanos*10 + int64(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return slowTime(b)
		}
		for ; n < 9; n++ {
			nanos *= 10
		}
	}
	var off int64
	switch {
	case i == len(b)-1 && b[i] == 'Z':
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := digitsN(b[i+1 : i+3])
		om, ok2 := digitsN(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return slowTime(b)
		}
		off = int64(oh*3600 + om*60)
		if b[i] == '-' {
			off = -off
		}
	default:
		return slowTime(b)
	}
	days := daysFromCivil(int64(year), int64(mon), int64(day))
	secs := days*86400 + int64(hh*3600+mm*60+ss) - off
	return secs*1e9 + nanos, true
}

// daysIn returns the number of days of month mon (1-12) of year.
func daysIn(mon, year int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func slowTime(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var t time.Time
	if err := t.UnmarshalText(b); err != nil { // strict RFC 3339, as encoding/json
		return 0, false
	}
	if t.Year() < 1678 || t.Year() > 2261 { // outside int64 Unix nanoseconds
		return 0, false
	}
	return t.UnixNano(), true
}

func digitsN(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
