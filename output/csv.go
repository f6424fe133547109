package output

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pixelk6/pixelk6/metrics"
)

// csvColumns are the tags that k6's CSV output gives their own column, in order; every
// other tag goes to extra_tags as k=v&k=v (sorted by key), and metadata likewise.
var csvColumns = [...]string{
	"check", "error", "error_code", "expected_response", "group", "method", "name", "proto",
	"scenario", "service", "status", "subproto", "tls_version", "url",
}

var csvHeader = []byte("metric_name,timestamp,metric_value," + strings.Join(csvColumns[:], ",") + ",extra_tags,metadata\n")

// csvTimeFormat is K6_CSV_TIME_FORMAT.
type csvTimeFormat uint8

const (
	timeUnix csvTimeFormat = iota
	timeUnixMilli
	timeUnixMicro
	timeUnixNano
	timeRFC3339
	timeRFC3339Nano
)

var csvTimeFormats = map[string]csvTimeFormat{
	"unix": timeUnix, "unix_milli": timeUnixMilli, "unix_micro": timeUnixMicro,
	"unix_nano": timeUnixNano, "rfc3339": timeRFC3339, "rfc3339_nano": timeRFC3339Nano,
}

type csvConfig struct {
	fileName     string
	timeFormat   csvTimeFormat
	saveInterval time.Duration
}

// parseCSVConfig reads the csv output's argument ("FILE", or k6's "fileName=F,timeFormat=T,
// saveInterval=D" form) over the K6_CSV_* environment.
func parseCSVConfig(arg string, env map[string]string) (csvConfig, error) {
	cfg := csvConfig{fileName: "file.csv"}
	set := func(key, val, from string) error {
		switch key {
		case "fileName":
			cfg.fileName = val
		case "timeFormat":
			tf, ok := csvTimeFormats[val]
			if !ok {
				return fmt.Errorf("%s: unknown CSV time format %q (want unix, unix_milli, unix_micro, unix_nano, rfc3339 or rfc3339_nano)", from, val)
			}
			cfg.timeFormat = tf
		case "saveInterval":
			d, err := parseInterval(val)
			if err != nil {
				return fmt.Errorf("%s: invalid CSV save interval %q: %w", from, val, err)
			}
			cfg.saveInterval = d
		default:
			return fmt.Errorf("%s: unknown CSV option %q (want fileName, timeFormat or saveInterval)", from, key)
		}
		return nil
	}
	for _, ev := range [...][2]string{{"K6_CSV_FILENAME", "fileName"}, {"K6_CSV_TIME_FORMAT", "timeFormat"}, {"K6_CSV_SAVE_INTERVAL", "saveInterval"}} {
		if v := env[ev[0]]; v != "" {
			if err := set(ev[1], v, ev[0]); err != nil {
				return cfg, err
			}
		}
	}
	if arg == "" {
		return cfg, nil
	}
	if !strings.HasPrefix(arg, "fileName=") && !strings.HasPrefix(arg, "timeFormat=") && !strings.HasPrefix(arg, "saveInterval=") {
		cfg.fileName = arg // a plain file name, even one with '=' or ',' in it
		return cfg, nil
	}
	for _, kv := range strings.Split(arg, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("--out csv=%s: option %q is not key=value", arg, kv)
		}
		if err := set(k, v, "--out csv="+arg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseInterval parses a Go duration ("1m45s") or a number of milliseconds.
func parseInterval(s string) (time.Duration, error) {
	if ms, err := strconv.ParseFloat(s, 64); err == nil {
		if ms <= 0 {
			return 0, fmt.Errorf("must be positive")
		}
		return time.Duration(ms * float64(time.Millisecond)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}

// csvEncoder writes k6's CSV rows.
type csvEncoder struct {
	timeFormat csvTimeFormat
	cols       [len(csvColumns)]string
	keys       []string
	extra      []byte // scratch for extra_tags and metadata
}

func (e *csvEncoder) encode(b []byte, samples []metrics.Sample) []byte {
	for i := range samples {
		b = e.appendRow(b, &samples[i])
	}
	return b
}

func (e *csvEncoder) appendRow(b []byte, s *metrics.Sample) []byte {
	b = appendCSVField(b, s.Metric.Name)
	b = append(b, ',')
	b = e.appendTime(b, s.Time)
	b = append(b, ',')
	b = strconv.AppendFloat(b, s.Value, 'f', 6, 64)

	// Tags and columns are both sorted: merge them in one pass.
	e.cols = [len(csvColumns)]string{}
	e.extra = e.extra[:0]
	ci := 0
	s.Tags.Each(func(k, v string) bool {
		for ci < len(csvColumns) && csvColumns[ci] < k {
			ci++
		}
		if ci < len(csvColumns) && csvColumns[ci] == k {
			e.cols[ci] = v
			return true
		}
		if len(e.extra) > 0 {
			e.extra = append(e.extra, '&')
		}
		e.extra = append(e.extra, k...)
		e.extra = append(e.extra, '=')
		e.extra = append(e.extra, v...)
		return true
	})
	for _, v := range e.cols {
		b = append(b, ',')
		b = appendCSVField(b, v)
	}
	b = append(b, ',')
	b = appendCSVField(b, e.extra)
	b = append(b, ',')
	if len(s.Metadata) > 0 {
		e.keys = sortedKeys(e.keys[:0], s.Metadata)
		e.extra = e.extra[:0]
		for i, k := range e.keys {
			if i > 0 {
				e.extra = append(e.extra, '&')
			}
			e.extra = append(e.extra, k...)
			e.extra = append(e.extra, '=')
			e.extra = append(e.extra, s.Metadata[k]...)
		}
		b = appendCSVField(b, e.extra)
	}
	return append(b, '\n')
}

func (e *csvEncoder) appendTime(b []byte, t time.Time) []byte {
	switch e.timeFormat {
	case timeUnixMilli:
		return strconv.AppendInt(b, t.UnixMilli(), 10)
	case timeUnixMicro:
		return strconv.AppendInt(b, t.UnixMicro(), 10)
	case timeUnixNano:
		return strconv.AppendInt(b, t.UnixNano(), 10)
	case timeRFC3339:
		return t.AppendFormat(b, time.RFC3339)
	case timeRFC3339Nano:
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
