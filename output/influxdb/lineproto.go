package influxdb

import (
	"math"
	"strconv"
	"strings"

	"github.com/influxdata/influxdb1-client/models"

	"github.com/pixelk6/pixelk6/metrics"
)

// encoder appends samples as InfluxDB 1.x line protocol in k6's layout: the measurement is
// the metric's name, the sample's tags are tags except those named in TagsAsFields (which
// become typed fields, as do the metadata so named), and the value is the field "value".
// The measurement's escaping is the client library's (models); the encoded tags of a tag
// set, the costly part, are built once and cached, and consecutive samples with the same
// tags (the nine of one HTTP request) find them without a map lookup.
type encoder struct {
	fields   map[string]fieldKind
	unit     int64 // precision in ns
	names    map[*metrics.Metric]string
	tagCache map[metrics.TagSet]tagPart
	last     metrics.TagSet
	lastPart tagPart
}

// tagPart is the encoded ",k=v..." tags of a tag set and the fields taken from them.
type tagPart struct {
	tags   string
	fields string // ",url=\"...\"" or ""
}

func newEncoder(c Config) *encoder {
	e := &encoder{fields: make(map[string]fieldKind, len(c.TagsAsFields)), unit: int64(c.precisionUnit()),
		names: map[*metrics.Metric]string{}, tagCache: map[metrics.TagSet]tagPart{}}
	e.lastPart = e.encodeTags(e.last)
	for _, f := range c.TagsAsFields {
		e.fields[f.Name] = f.Kind
	}
	return e
}

// keyEscaper escapes tag keys, tag values and field keys as the 1.x parser unescapes
// them (comma, space, equals sign); the client library's escape.String also escapes the
// double quote, which the server then keeps as \" in the tag.
var keyEscaper = strings.NewReplacer(",", `\,`, " ", `\ `, "=", `\=`)

func escapeKey(s string) string { return keyEscaper.Replace(s) }

// lineSafe makes a value fit on one line: line protocol has no escape for a newline.
func lineSafe(s string) string {
	if strings.ContainsAny(s, "\n\r") {
		s = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
	}
	return s
}

func (e *encoder) measurement(m *metrics.Metric) string {
	name, ok := e.names[m]
	if !ok {
		name = string(models.EscapeMeasurement([]byte(lineSafe(m.Name))))
		e.names[m] = name
	}
	return name
}

func (e *encoder) tags(ts metrics.TagSet) tagPart {
	if ts == e.last {
		return e.lastPart
	}
	p, ok := e.tagCache[ts]
	if !ok {
		p = e.encodeTags(ts)
		if len(e.tagCache) > 100_000 { // a runaway tag cardinality must not grow it forever
			clear(e.tagCache)
		}
		e.tagCache[ts] = p
	}
	e.last, e.lastPart = ts, p
	return p
}

func (e *encoder) encodeTags(ts metrics.TagSet) tagPart {
	var tags, fields strings.Builder
	ts.Each(func(k, v string) bool {
		if v == "" || k == "" {
			return true // line protocol has no empty tag values
		}
		if kind, ok := e.fields[k]; ok {
			fields.WriteByte(',')
			appendField(&fields, k, v, kind)
			return true
		}
		tags.WriteByte(',')
		tags.WriteString(escapeKey(lineSafe(k)))
		tags.WriteByte('=')
		tags.WriteString(escapeKey(lineSafe(v)))
		return true
	})
	return tagPart{tags.String(), fields.String()}
}

// appendField writes k=v typed as kind; a value that does not parse as kind is written as
// a string, as k6 does.
func appendField(b *strings.Builder, k, v string, kind fieldKind) {
	b.WriteString(escapeKey(lineSafe(k)))
	b.WriteByte('=')
	switch kind {
	case kindInt:
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			b.WriteString(v)
			b.WriteByte('i')
			return
		}
	case kindFloat:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
	case kindBool:
		if t, err := strconv.ParseBool(v); err == nil {
			b.WriteString(strconv.FormatBool(t))
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(models.EscapeStringField(lineSafe(v)))
	b.WriteByte('"')
}

// appendValue writes a float field value: whole numbers (most k6 values: counts, bytes,
// statuses) as integers without the i suffix, which the server reads as floats, and the
// rest in Go's shortest form.
func appendValue(buf []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(buf, int64(v), 10)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

// appendSample appends one line (with its newline) to buf.
func (e *encoder) appendSample(buf []byte, s metrics.Sample) []byte {
	tp := e.tags(s.Tags)
	buf = append(buf, e.measurement(s.Metric)...)
	buf = append(buf, tp.tags...)
	buf = append(buf, " value="...)
	buf = appendValue(buf, s.Value)
	buf = append(buf, tp.fields...)
	if len(s.Metadata) > 0 {
		var b strings.Builder
		for k, v := range s.Metadata {
			if kind, ok := e.fields[k]; ok {
				b.WriteByte(',')
				appendField(&b, k, v, kind)
			}
		}
		buf = append(buf, b.String()...)
	}
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, s.Time.UnixNano()/e.unit, 10)
	return append(buf, '\n')
}
