package k6file

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/pixelk6/pixelk6/internal/jsonx"
	"github.com/pixelk6/pixelk6/metrics"
)

// CSVColumns are the tags that k6's CSV output gives their own column, in order; every
// other tag goes to extra_tags as k=v&k=v (sorted by key), and metadata likewise.
var CSVColumns = [...]string{
	"check", "error", "error_code", "expected_response", "group", "method", "name", "proto",
	"scenario", "service", "status", "subproto", "tls_version", "url",
}

var csvHeader = "metric_name,timestamp,metric_value," + strings.Join(CSVColumns[:], ",") + ",extra_tags,metadata\n"

// AppendCSVHeader appends k6's CSV header line.
func AppendCSVHeader(b []byte) []byte { return append(b, csvHeader...) }

// TimeFormat is how CSV rows write their timestamp (K6_CSV_TIME_FORMAT). The Scanner reads
// every one of them, telling the Unix ones apart by their number of digits.
type TimeFormat uint8

const (
	TimeUnix        TimeFormat = iota // seconds (k6's default)
	TimeUnixMilli                     // milliseconds
	TimeUnixMicro                     // microseconds
	TimeUnixNano                      // nanoseconds
	TimeRFC3339                       // RFC 3339 to the second, in the sample's time zone
	TimeRFC3339Nano                   // RFC 3339 with nanoseconds, in the sample's time zone
)

var timeFormats = [...]string{"unix", "unix_milli", "unix_micro", "unix_nano", "rfc3339", "rfc3339_nano"}

// ParseTimeFormat reads a K6_CSV_TIME_FORMAT name.
func ParseTimeFormat(s string) (TimeFormat, error) {
	for i, n := range timeFormats {
		if n == s {
			return TimeFormat(i), nil
		}
	}
	return 0, fmt.Errorf("unknown CSV time format %q (want %s)", s, strings.Join(timeFormats[:], ", "))
}

func (f TimeFormat) String() string {
	if int(f) < len(timeFormats) {
		return timeFormats[f]
	}
	return "TimeFormat(" + strconv.Itoa(int(f)) + ")"
}

// CSVEncoder writes k6's CSV rows (AppendCSVHeader writes the header). Values have six
// decimals, as k6 writes them. The zero value writes Unix seconds. It does not allocate
// per sample.
type CSVEncoder struct {
	TimeFormat TimeFormat

	cols  [len(CSVColumns)]string
	keys  []string
	extra []byte // scratch for extra_tags and metadata
}

// AppendSamples appends one row per sample.
func (e *CSVEncoder) AppendSamples(b []byte, samples []metrics.Sample) []byte {
	for i := range samples {
		s := &samples[i]
		b = e.appendRow(b, s.Metric.Name, s.Time, s.Value, s.Tags, s.Metadata)
	}
	return b
}

// AppendRecord appends the row of a Point record; CSV has no Metric records, so those
// append nothing.
func (e *CSVEncoder) AppendRecord(b []byte, r *Record) []byte {
	if r.Kind != PointKind {
		return b
	}
	p := &r.Point
	return e.appendRow(b, p.Metric, time.Unix(0, p.Time).UTC(), p.Value, p.Tags, p.Metadata)
}

func (e *CSVEncoder) appendRow(b []byte, name string, t time.Time, v float64, tags metrics.TagSet, md map[string]string) []byte {
	b = appendCSVField(b, name)
	b = append(b, ',')
	b = e.appendTime(b, t)
	b = append(b, ',')
	b = strconv.AppendFloat(b, v, 'f', 6, 64)

	// Tags and columns are both sorted: merge them in one pass.
	e.cols = [len(CSVColumns)]string{}
	e.extra = e.extra[:0]
	ci := 0
	tags.Each(func(k, v string) bool {
		for ci < len(CSVColumns) && CSVColumns[ci] < k {
			ci++
		}
		if ci < len(CSVColumns) && CSVColumns[ci] == k {
			e.cols[ci] = v
			return true
		}
		if len(e.extra) > 0 {
			e.extra = append(e.extra, '&')
		}
		e.extra = appendPair(e.extra, k, v)
		return true
	})
	for _, v := range e.cols {
		b = append(b, ',')
		b = appendCSVField(b, v)
	}
	b = append(b, ',')
	b = appendCSVField(b, e.extra)
	b = append(b, ',')
	if len(md) > 0 {
		e.keys = sortedKeys(e.keys[:0], md)
		e.extra = e.extra[:0]
		for i, k := range e.keys {
			if i > 0 {
				e.extra = append(e.extra, '&')
			}
			e.extra = appendPair(e.extra, k, md[k])
		}
		b = appendCSVField(b, e.extra)
	}
	return append(b, '\n')
}

// appendPair appends k=v for extra_tags or metadata. k6 writes them raw; the few bytes that
// would make the pair unreadable ('%' and '&', and '=' in the key) are percent-escaped,
// so that what is written reads back the same.
func appendPair(b []byte, k, v string) []byte {
	b = appendPairPart(b, k, true)
	b = append(b, '=')
	return appendPairPart(b, v, false)
}

func appendPairPart(b []byte, s string, key bool) []byte {
	const hex = "0123456789ABCDEF"
	for {
		i := 0
		for i < len(s) && s[i] != '%' && s[i] != '&' && (!key || s[i] != '=') {
			i++
		}
		b = append(b, s[:i]...)
		if i == len(s) {
			return b
		}
		c := s[i]
		b = append(b, '%', hex[c>>4], hex[c&15])
		s = s[i+1:]
	}
}

func (e *CSVEncoder) appendTime(b []byte, t time.Time) []byte {
	switch e.TimeFormat {
	case TimeUnixMilli:
		return strconv.AppendInt(b, t.UnixMilli(), 10)
	case TimeUnixMicro:
		return strconv.AppendInt(b, t.UnixMicro(), 10)
	case TimeUnixNano:
		return strconv.AppendInt(b, t.UnixNano(), 10)
	case TimeRFC3339:
		return t.AppendFormat(b, time.RFC3339)
	case TimeRFC3339Nano:
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	return strconv.AppendInt(b, t.Unix(), 10)
}

// csvNeedsQuotes reports whether a field must be quoted (RFC 4180, as encoding/csv
// decides: a comma, quote, CR or LF inside, or a leading white space).
func csvNeedsQuotes[T string | []byte](f T) bool {
	if len(f) == 0 {
		return false
	}
	if len(f) == 2 && f[0] == '\\' && f[1] == '.' {
		return true
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	if f[0] < utf8.RuneSelf {
		return unicode.IsSpace(rune(f[0]))
	}
	r, _ := utf8.DecodeRuneInString(string(f[:min(len(f), utf8.UTFMax)]))
	return unicode.IsSpace(r)
}

// appendCSVField appends f, quoted with doubled quotes when needed.
func appendCSVField[T string | []byte](b []byte, f T) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, f[i])
	}
	return append(b, '"')
}

// ParseCSVTime parses a k6 CSV timestamp in any TimeFormat to Unix nanoseconds: unix,
// unix_milli, unix_micro, unix_nano (told apart by their number of digits: up to 11 is
// seconds, 14 milliseconds, 17 microseconds), or RFC 3339.
func ParseCSVTime(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty timestamp")
	}
	if strings.ContainsAny(s, "T-:") && len(s) >= 20 {
		t, ok := parseRFC3339([]byte(s))
		if !ok {
			return 0, fmt.Errorf("timestamp %q: not RFC 3339", s)
		}
		return t, nil
	}
	if i := strings.IndexByte(s, '.'); i >= 0 { // fractional seconds
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("timestamp %q: %w", s, err)
		}
		return int64(f * 1e9), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q: expected Unix time or RFC 3339: %w", s, err)
	}
	digits := len(strings.TrimLeft(s, "-"))
	switch {
	case digits <= 11: // seconds (until year 5138)
		return n * 1e9, nil
	case digits <= 14:
		return n * 1e6, nil // milliseconds
	case digits <= 17:
		return n * 1e3, nil // microseconds
	default:
		return n, nil // nanoseconds
	}
}

// csvLayout maps a CSV header to what each column is.
type csvLayout struct {
	metric, timestamp, value, extra, metadata int
	tags                                      []int // ordinary tag columns
	names                                     []string
}

func parseCSVHeader(h []string) (*csvLayout, error) {
	c := &csvLayout{metric: -1, timestamp: -1, value: -1, extra: -1, metadata: -1}
	for i, name := range h {
		switch name {
		case "metric_name":
			c.metric = i
		case "timestamp":
			c.timestamp = i
		case "metric_value":
			c.value = i
		case "extra_tags":
			c.extra = i
		case "metadata":
			c.metadata = i
		default:
			c.tags = append(c.tags, i)
		}
	}
	c.names = append([]string(nil), h...)
	if c.metric < 0 || c.timestamp < 0 || c.value < 0 {
		return nil, fmt.Errorf("CSV header %q: expected k6's columns metric_name, timestamp, metric_value", strings.Join(h, ","))
	}
	return c, nil
}

// csvRow reads one CSV row into p. tagCache interns tag sets by the row's tag fields.
func (s *Scanner) csvRow(rec []string, p *Point) error {
	c := s.layout
	if len(rec) <= c.metric || len(rec) <= c.timestamp || len(rec) <= c.value {
		return fmt.Errorf("row has %d fields, want %d", len(rec), len(c.names))
	}
	name := rec[c.metric]
	if !metrics.ValidMetricName(name) {
		return fmt.Errorf("invalid metric name %q", name)
	}
	t, err := ParseCSVTime(rec[c.timestamp])
	if err != nil {
		return err
	}
	vs := rec[c.value]
	v, ok := jsonx.ParseNumber(unsafe.Slice(unsafe.StringData(vs), len(vs)))
	if !ok {
		return fmt.Errorf("metric_value %q is not a number", vs)
	}
	k := s.key[:0]
	for _, i := range c.tags {
		if i < len(rec) {
			k = append(k, rec[i]...)
		}
		k = append(k, 0)
	}
	if c.extra >= 0 && c.extra < len(rec) {
		k = append(k, rec[c.extra]...)
	}
	s.key = k
	ts, ok := s.tagCache[string(k)]
	if !ok {
		m := map[string]string{}
		for _, i := range c.tags {
			if i < len(rec) {
				addTag(m, c.names[i], rec[i])
			}
		}
		if c.extra >= 0 && c.extra < len(rec) {
			pairs(rec[c.extra], m)
		}
		ts = metrics.NewTagSet(m)
		s.cache(string(k), ts)
	}
	*p = Point{Metric: s.intern(name), Time: t, Value: v, Tags: ts}
	if c.metadata >= 0 && c.metadata < len(rec) && rec[c.metadata] != "" {
		md := map[string]string{}
		pairs(rec[c.metadata], md)
		if len(md) > 0 {
			p.Metadata = md
		}
	}
	return nil
}

// pairs reads k=v&k=v into m (percent escapes decoded), as addTag adds them.
func pairs(s string, m map[string]string) {
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		k, v, _ := strings.Cut(kv, "=")
		addTag(m, unescape(k), unescape(v))
	}
}

// addTag sets m[k] = v without NUL bytes (which a tag set cannot hold). CSV cannot tell
// an empty tag from a missing one (an empty column is both), so an empty key or value adds
// nothing.
func addTag(m map[string]string, k, v string) {
	if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
		k, v = strings.ReplaceAll(k, "\x00", ""), strings.ReplaceAll(v, "\x00", "")
	}
	if k != "" && v != "" {
		m[k] = v
	}
}

// unescape decodes %XX escapes; a '%' not followed by two hex digits stands for itself.
func unescape(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
