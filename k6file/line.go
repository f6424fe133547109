package k6file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/internal/jsonx"
	"github.com/pixelk6/pixelk6/metrics"
)

// FastPoint reads the fixed shape in which k6 writes Point records,
//
//	{"metric":NAME,"type":"Point","data":{"time":T,"value":V,"tags":{...}[,"metadata":{...}]}}
//
// without allocating. Parse returns false for anything else (Metric records, other member
// orders, escaped names, white space between tokens): ParseLine then decides. Name, Tags and
// Metadata alias the line; Tags is the raw tags object, braces included, not validated
// (DecodeTags decodes it; a caller may intern it by its bytes first). A FastPoint reused
// over consecutive lines skips re-parsing a time equal to the previous line's.
type FastPoint struct {
	Name     []byte
	Tags     []byte
	Metadata []byte // the raw metadata object (a flat object of strings), nil when absent
	Time     int64  // Unix nanoseconds
	Value    float64

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

// Parse reads line (without its newline) into p and reports whether it has the fixed shape.
func (p *FastPoint) Parse(line []byte) bool {
	if !bytes.HasPrefix(line, prefixMetric) {
		return false
	}
	s := line[len(prefixMetric)-1:]
	end, plain := jsonx.ScanString(s, 0)
	if end <= 2 || !plain {
		return false // escapes and non-ASCII go through encoding/json
	}
	p.Name = s[1 : end-1]
	s = s[end-1:]
	if !bytes.HasPrefix(s, midPoint) {
		return false
	}
	s = s[len(midPoint):]
	i := bytes.IndexByte(s, '"')
	if i < 0 {
		return false
	}
	if ts := s[:i]; p.lastLen > 0 && string(ts) == string(p.lastTime[:p.lastLen]) {
		p.Time = p.lastT
	} else {
		t, ok := parseRFC3339(ts)
		if !ok {
			return false
		}
		p.Time = t
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
	v, ok := jsonx.ParseNumber(s[:i])
	if !ok {
		return false
	}
	p.Value = v
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
	p.Metadata = nil
	// In valid JSON the unescaped sequence },"metadata": cannot occur inside a tag's string,
	// so its first occurrence ends the tags.
	if m := bytes.Index(s, tagsEndMeta); m >= 0 {
		meta := s[m+len(tagsEndMeta):]
		if flatObjectLen(meta) != len(meta) {
			return false
		}
		p.Metadata = meta
		s = s[:m+1]
	}
	if len(s) < 2 || s[len(s)-1] != '}' {
		return false
	}
	p.Tags = s
	return true
}

// flatObjectLen returns the length of the flat JSON object of strings at the start of s
// ({"k":"v",...}, no white space), or -1 when s does not start with one.
func flatObjectLen(s []byte) int {
	if len(s) < 2 || s[0] != '{' {
		return -1
	}
	if s[1] == '}' {
		return 2
	}
	i := 1
	for {
		if i, _ = jsonx.ScanString(s, i); i < 0 || i >= len(s) || s[i] != ':' {
			return -1
		}
		if i, _ = jsonx.ScanString(s, i+1); i < 0 || i >= len(s) {
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

// DecodeTags decodes a JSON tags object as k6 writes it (string values); other values are
// kept as their JSON text (null as ""), as a k6 reader would see them. NUL bytes, which a
// tag set cannot hold, are dropped from keys and values (of two keys that then collide,
// the greater value is kept).
func DecodeTags(raw []byte) (metrics.TagSet, error) {
	m, err := decodeStringMap(raw)
	if err != nil {
		return metrics.TagSet{}, fmt.Errorf("tags %.60q: %w", raw, err)
	}
	return metrics.NewTagSet(m), nil
}

// decodeStringMap decodes a JSON object into a map of strings (see DecodeTags).
func decodeStringMap(raw []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		var g map[string]any
		if err := json.Unmarshal(raw, &g); err != nil {
			return nil, err
		}
		m = make(map[string]string, len(g))
		for k, v := range g {
			switch x := v.(type) {
			case string:
				m[k] = x
			case nil:
				m[k] = ""
			default:
				b, _ := json.Marshal(x)
				m[k] = string(b)
			}
		}
	}
	for k, v := range m {
		if strings.IndexByte(k, 0) < 0 && strings.IndexByte(v, 0) < 0 {
			continue
		}
		delete(m, k)
		k, v = strings.ReplaceAll(k, "\x00", ""), strings.ReplaceAll(v, "\x00", "")
		if old, ok := m[k]; !ok || v > old {
			m[k] = v
		}
	}
	return m, nil
}

// decodeMetadata decodes a Point's metadata leniently: anything but an object is ignored
// (readers never relied on it), and an empty object is no metadata.
func decodeMetadata(raw []byte) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	m, err := decodeStringMap(raw)
	if err != nil || len(m) == 0 {
		return nil
	}
	return m
}

// ParseLine decodes one NDJSON line (without its newline; not empty) into a Point or a
// Metric record: the fixed shape the fast way, anything else with encoding/json. The error
// says why a line is not a k6 record; rec.Line is left to the caller.
func ParseLine(line []byte) (rec Record, err error) {
	var p FastPoint
	if p.Parse(line) {
		if ts, err := DecodeTags(p.Tags); err == nil {
			rec.Kind = PointKind
			rec.Point = Point{Metric: string(p.Name), Time: p.Time, Value: p.Value, Tags: ts}
			if p.Metadata != nil {
				rec.Point.Metadata = decodeMetadata(p.Metadata)
			}
			return rec, nil
		}
	}
	return parseSlow(line)
}

type rawRecord struct {
	Type   string          `json:"type"`
	Metric string          `json:"metric"`
	Data   json.RawMessage `json:"data"`
}

type rawPoint struct {
	Time     *string         `json:"time"`
	Value    *float64        `json:"value"`
	Tags     json.RawMessage `json:"tags"`
	Metadata json.RawMessage `json:"metadata"`
}

type rawMetric struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Contains   string          `json:"contains"`
	Thresholds json.RawMessage `json:"thresholds"`
	Submetrics []Submetric     `json:"submetrics"`
}

// parseSlow decodes a line with encoding/json: Metric records and Points in an unusual shape.
func parseSlow(ln []byte) (rec Record, err error) {
	var raw rawRecord
	if err := json.Unmarshal(ln, &raw); err != nil {
		return rec, fmt.Errorf("not a k6 JSON record: %w (line starts %.40q)", err, ln)
	}
	switch raw.Type {
	case "Point":
		var p rawPoint
		if err := json.Unmarshal(raw.Data, &p); err != nil {
			return rec, fmt.Errorf("Point %q: data: %w", raw.Metric, err)
		}
		if p.Time == nil || p.Value == nil || raw.Metric == "" {
			return rec, fmt.Errorf("Point %q: needs metric, data.time and data.value", raw.Metric)
		}
		t, ok := parseRFC3339([]byte(*p.Time))
		if !ok {
			return rec, fmt.Errorf("Point %q: time %q is not RFC 3339", raw.Metric, *p.Time)
		}
		var ts metrics.TagSet
		if len(p.Tags) != 0 && string(p.Tags) != "null" {
			if ts, err = DecodeTags(p.Tags); err != nil {
				return rec, fmt.Errorf("Point %q: %w", raw.Metric, err)
			}
		}
		rec.Kind = PointKind
		rec.Point = Point{Metric: raw.Metric, Time: t, Value: *p.Value, Tags: ts, Metadata: decodeMetadata(p.Metadata)}
		return rec, nil
	case "Metric":
		var m rawMetric
		if err := json.Unmarshal(raw.Data, &m); err != nil {
			return rec, fmt.Errorf("Metric %q: data: %w", raw.Metric, err)
		}
		name := m.Name
		if name == "" {
			name = raw.Metric
		}
		mt, err := metrics.ParseMetricType(m.Type)
		if err != nil {
			return rec, fmt.Errorf("Metric %q: %w", name, err)
		}
		vt := metrics.Default
		if m.Contains != "" {
			if vt, err = metrics.ParseValueType(m.Contains); err != nil {
				return rec, fmt.Errorf("Metric %q: %w", name, err)
			}
		}
		ths, err := thresholdItems(m.Thresholds)
		if err != nil {
			return rec, fmt.Errorf("Metric %q: %w", name, err)
		}
		if len(m.Submetrics) == 0 {
			m.Submetrics = nil // written as null
		}
		for i := range m.Submetrics {
			if m.Submetrics[i].Tags == nil {
				m.Submetrics[i].Tags = map[string]string{} // written as {}
			}
		}
		rec.Kind = MetricKind
		rec.Metric = Metric{Name: name, Type: mt, Contains: vt, MetricInfo: MetricInfo{Thresholds: ths, Submetrics: m.Submetrics}}
		return rec, nil
	case "":
		return rec, fmt.Errorf("record without a \"type\" (want Point or Metric)")
	default:
		return rec, fmt.Errorf("unknown record type %q (want Point or Metric)", strings.ToValidUTF8(raw.Type, "?"))
	}
}

// thresholdItems splits a Metric record's "thresholds" into its items, read as
// metrics.ParseThresholdsJSON reads a script's (a list, a single string or object, or
// null), each in the form the Encoder writes it: a string, or the object of a threshold
// with abortOnFail. An empty list is nil.
func thresholdItems(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	var items []json.RawMessage
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '[':
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("thresholds: %w", err)
		}
	case raw[0] == '"' || raw[0] == '{':
		items = []json.RawMessage{raw}
	default:
		return nil, fmt.Errorf("thresholds: expected a list of thresholds, found %.40s", raw)
	}
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		c := appendThreshold(nil, it)
		if string(c) == "null" {
			return nil, fmt.Errorf("thresholds: %.40s is neither a threshold string nor a threshold object", it)
		}
		out[i] = c
	}
	return out, nil
}

// parseRFC3339 parses "2006-01-02T15:04:05[.fraction](Z|±hh:mm)" to Unix nanoseconds
// without allocating; other layouts fall back to time.Time's strict RFC 3339 parser.
// Times outside int64 Unix nanoseconds (before 1678, after 2261) are refused.
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
