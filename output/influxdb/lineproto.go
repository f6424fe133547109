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
// The escaping is the client library's (models, escape); the key of each tag set, the
// costly part, is built once per series and cached.
type encoder struct {
	fields   map[string]fieldKind
	unit     int64 // precision in ns
	keyCache map[metrics.TimeSeries]seriesKey
}

// seriesKey is the encoded "measurement,tags" part and the fields taken from tags.
type seriesKey struct {
	key    string
	fields string // ",url=\"...\"" or ""
}

func newEncoder(c Config) *encoder {
	e := &encoder{fields: make(map[string]fieldKind, len(c.TagsAsFields)), unit: int64(c.precisionUnit()), keyCache: map[metrics.TimeSeries]seriesKey{}}
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

func (e *encoder) series(ts metrics.TimeSeries) seriesKey {
	if k, ok := e.keyCache[ts]; ok {
		return k
	}
	var key, fields strings.Builder
	key.Write(models.EscapeMeasurement([]byte(lineSafe(ts.Metric.Name))))
	ts.Tags.Each(func(k, v string) bool {
		if v == "" || k == "" {
			return true // line protocol has no empty tag values
		}
		if kind, ok := e.fields[k]; ok {
			fields.WriteByte(',')
			appendField(&fields, k, v, kind)
			return true
		}
		key.WriteByte(',')
		key.WriteString(escapeKey(lineSafe(k)))
		key.WriteByte('=')
		key.WriteString(escapeKey(lineSafe(v)))
		return true
	})
	sk := seriesKey{key.String(), fields.String()}
	if len(e.keyCache) > 100_000 { // a runaway tag cardinality must not grow it forever
		clear(e.keyCache)
	}
	e.keyCache[ts] = sk
	return sk
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
	sk := e.series(s.Series())
	buf = append(buf, sk.key...)
	buf = append(buf, " value="...)
	buf = appendValue(buf, s.Value)
	buf = append(buf, sk.fields...)
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
