package analyzer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pixelk6/pixelk6/metrics"
)

// csvColumns maps k6's CSV header to what each column is.
type csvColumns struct {
	metric, timestamp, value, extra, metadata int
	tags                                      []int // ordinary tag columns
	names                                     []string
}

func parseCSVHeader(h []string) (*csvColumns, error) {
	c := &csvColumns{metric: -1, timestamp: -1, value: -1, extra: -1, metadata: -1}
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

// parseCSVTime parses a k6 CSV timestamp in any timeFormat: unix (seconds), unix_milli,
// unix_micro, unix_nano (told apart by their number of digits), or rfc3339_nano.
func parseCSVTime(s string) (int64, error) {
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

// lastByteReader remembers the last byte read, to tell a truncated last row.
type lastByteReader struct {
	r    io.Reader
	last byte
}

func (l *lastByteReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.last = p[n-1]
	}
	return n, err
}

// readCSV reads k6 CSV output into sh. A bad last row without its newline is a warning (a
// crashed run); other bad rows are counted in bad.
func readCSV(ctx context.Context, file string, r io.Reader, sh *shard, bad *badLines, warn func(string, ...any)) (lines int64, err error) {
	lr := &lastByteReader{r: r}
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("CSV header: %w", err)
	}
	cols, err := parseCSVHeader(head)
	if err != nil {
		return 0, err
	}
	key := make([]byte, 0, 256)
	tagIdx := map[string]int32{}
	var pending *BadLine // the latest bad row, held back until we know it is not the last
	flush := func() error {
		if pending != nil {
			bad.add(pending.File, pending.Line, errors.New(pending.Err))
			pending = nil
		}
		if bad.tooMany() {
			return ErrTooManyBadLines
		}
		return nil
	}
	for {
		if lines%4096 == 0 && ctx.Err() != nil {
			return lines, ctx.Err()
		}
		rec, err := cr.Read()
		if err == io.EOF {
			if pending != nil && lr.last != '\n' {
				warn("%s:%d: last row is truncated or invalid (a crashed run?) and was ignored: %s", file, pending.Line, pending.Err)
				pending = nil
			}
			return lines, flush()
		}
		if ferr := flush(); ferr != nil {
			return lines, ferr
		}
		lines++
		var pe *csv.ParseError
		if err != nil {
			if !errors.As(err, &pe) {
				return lines, fmt.Errorf("read: %w", err)
			}
			pending = &BadLine{File: file, Line: int64(pe.StartLine), Err: err.Error()}
			continue
		}
		line, _ := cr.FieldPos(0)
		if err := csvRow(sh, cols, rec, &key, tagIdx); err != nil {
			pending = &BadLine{File: file, Line: int64(line), Err: err.Error()}
		}
	}
}

// csvRow folds one CSV row into sh. key is scratch space for interning the row's tags.
func csvRow(sh *shard, cols *csvColumns, rec []string, key *[]byte, tagIdx map[string]int32) error {
	if len(rec) <= cols.metric || len(rec) <= cols.timestamp || len(rec) <= cols.value {
		return fmt.Errorf("row has %d fields, want %d", len(rec), len(cols.names))
	}
	name := rec[cols.metric]
	if !metrics.ValidMetricName(name) {
		return fmt.Errorf("invalid metric name %q", name)
	}
	t, err := parseCSVTime(rec[cols.timestamp])
	if err != nil {
		return err
	}
	vs := rec[cols.value]
	v, ok := parseNumber(unsafe.Slice(unsafe.StringData(vs), len(vs)))
	if !ok {
		return fmt.Errorf("metric_value %q is not a number", vs)
	}
	k := (*key)[:0]
	for _, i := range cols.tags {
		if i < len(rec) {
			k = append(k, rec[i]...)
		}
		k = append(k, 0)
	}
	if cols.extra >= 0 && cols.extra < len(rec) {
		k = append(k, rec[cols.extra]...)
	}
	*key = k
	ti, ok := tagIdx[string(k)]
	if !ok {
		m := map[string]string{}
		for _, i := range cols.tags {
			if i < len(rec) && rec[i] != "" {
				m[cols.names[i]] = rec[i]
			}
		}
		if cols.extra >= 0 && cols.extra < len(rec) && rec[cols.extra] != "" {
			for _, kv := range strings.Split(rec[cols.extra], "&") {
				kk, vv, _ := strings.Cut(kv, "=")
				if uk, err := url.QueryUnescape(kk); err == nil {
					kk = uk
				}
				if uv, err := url.QueryUnescape(vv); err == nil {
					vv = uv
				}
				if kk != "" {
					m[kk] = vv
				}
			}
		}
		ti = sh.internSet(metrics.NewTagSet(m))
		tagIdx[string(k)] = ti
	}
	sh.add(sh.metricIndex([]byte(name)), ti, t, v)
	return nil
}
