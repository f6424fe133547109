package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/pixelk6/pixelk6/metrics"
)

const (
	defaultBlockSize = 1 << 20 // bytes read per block; blocks end on a newline
	maxLineLen       = 1 << 30 // a line longer than this is an error, not a memory blow-up
)

// BadLine is a line that could not be read, with its position.
type BadLine struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	Err  string `json:"error"`
}

// ErrTooManyBadLines stops reading when more than --max-bad-lines lines are bad.
var ErrTooManyBadLines = errors.New("too many bad lines")

// badLines collects bad lines from the workers: all are counted, the first few are kept.
type badLines struct {
	mu      sync.Mutex
	kept    []BadLine
	count   atomic.Int64
	max     int64
	keep    int
	stop    chan struct{}
	stopped sync.Once
}

func newBadLines(max int) *badLines {
	return &badLines{max: int64(max), keep: 20, stop: make(chan struct{})}
}

func (b *badLines) add(file string, line int64, err error) {
	n := b.count.Add(1)
	b.mu.Lock()
	if len(b.kept) < b.keep {
		b.kept = append(b.kept, BadLine{File: file, Line: line, Err: err.Error()})
	}
	b.mu.Unlock()
	if n > b.max {
		b.stopped.Do(func() { close(b.stop) })
	}
}

func (b *badLines) tooMany() bool { return b.count.Load() > b.max }

// block is a run of whole lines (the last one may lack its newline at end of input).
type block struct {
	buf       []byte
	firstLine int64
	final     bool // last block of the input: its last line may be truncated
}

// ndjsonReader reads k6 NDJSON with one goroutine that cuts the input into blocks on line
// boundaries and N workers that parse the lines, each into its own shard.
type ndjsonReader struct {
	tt        *typeTable
	shards    []*shard
	bad       *badLines
	blockSize int

	mu       sync.Mutex
	warnings []string
	lines    atomic.Int64
	records  atomic.Int64
}

func (nr *ndjsonReader) warn(format string, args ...any) {
	nr.mu.Lock()
	nr.warnings = append(nr.warnings, fmt.Sprintf(format, args...))
	nr.mu.Unlock()
}

// read parses one input. It returns when the input is consumed, ctx is done, a read fails,
// or too many lines are bad; every goroutine it starts has exited by then.
func (nr *ndjsonReader) read(ctx context.Context, file string, r io.Reader) error {
	nw := len(nr.shards)
	blocks := make(chan block, nw)
	free := make(chan []byte, 2*nw+1)
	for range cap(free) {
		free <- make([]byte, 0, nr.blockSize)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(blocks)
		return nr.split(gctx, r, blocks, free)
	})
	for i := range nw {
		sh := nr.shards[i]
		g.Go(func() error {
			for b := range blocks {
				nr.parseBlock(file, sh, b)
				free <- b.buf[:0] // never blocks: at most cap(free) buffers exist
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil && nr.bad.tooMany() {
		return ErrTooManyBadLines
	}
	return err
}

// split reads r into buffers from free and sends blocks that end on a newline.
func (nr *ndjsonReader) split(ctx context.Context, r io.Reader, blocks chan<- block, free chan []byte) error {
	var carry []byte
	line := int64(1)
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return ctx.Err()
		case <-nr.bad.stop:
			return nil
		}
		buf = append(buf[:0], carry...)
		eof := false
		for {
			if len(buf) == cap(buf) {
				if bytes.IndexByte(buf, '\n') >= 0 {
					break
				}
				if cap(buf) >= maxLineLen {
					return fmt.Errorf("line %d: longer than %d bytes", line, maxLineLen)
				}
				nb := make([]byte, len(buf), 2*cap(buf))
				copy(nb, buf)
				buf = nb
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
		}
		if eof {
			if len(buf) > 0 {
				select {
				case blocks <- block{buf: buf, firstLine: line, final: true}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
		cut := bytes.LastIndexByte(buf, '\n')
		carry = append(carry[:0], buf[cut+1:]...)
		b := block{buf: buf[:cut+1], firstLine: line}
		line += int64(bytes.Count(b.buf, nl))
		select {
		case blocks <- b:
		case <-ctx.Done():
			return ctx.Err()
		case <-nr.bad.stop:
			return nil
		}
	}
}

var nl = []byte{'\n'}

// parseBlock parses every line of b into sh.
func (nr *ndjsonReader) parseBlock(file string, sh *shard, b block) {
	s := b.buf
	line := b.firstLine
	var p point
	var lines, records int64
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		var ln []byte
		last := false
		if i < 0 {
			ln, s = s, nil
			last = b.final
		} else {
			ln, s = s[:i], s[i+1:]
		}
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		lines++
		if len(ln) == 0 {
			line++
			continue
		}
		records++
		if parsePoint(ln, &p) {
			ti, err := sh.tagsIndex(p.tags)
			if err == nil {
				sh.add(sh.metricIndex(p.name), ti, p.t, p.v)
				line++
				continue
			}
		}
		if err := nr.slowLine(sh, ln); err != nil {
			if last {
				nr.warn("%s:%d: last line is truncated or invalid (a crashed run?) and was ignored: %v", file, line, err)
			} else {
				nr.bad.add(file, line, err)
			}
		}
		line++
	}
	nr.lines.Add(lines)
	nr.records.Add(records)
}

type rawRecord struct {
	Type   string          `json:"type"`
	Metric string          `json:"metric"`
	Data   json.RawMessage `json:"data"`
}

type rawPoint struct {
	Time  *string         `json:"time"`
	Value *float64        `json:"value"`
	Tags  json.RawMessage `json:"tags"`
}

type rawSubmetric struct {
	Name   string            `json:"name"`
	Suffix string            `json:"suffix"`
	Tags   map[string]string `json:"tags"`
}

type rawMetric struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Contains   string          `json:"contains"`
	Thresholds json.RawMessage `json:"thresholds"`
	Submetrics []rawSubmetric  `json:"submetrics"`
}

// slowLine decodes a line with encoding/json: Metric records and Points in an unusual shape.
func (nr *ndjsonReader) slowLine(sh *shard, ln []byte) error {
	var rec rawRecord
	if err := json.Unmarshal(ln, &rec); err != nil {
		return fmt.Errorf("not a k6 JSON record: %w (line starts %.40q)", err, ln)
	}
	switch rec.Type {
	case "Point":
		var p rawPoint
		if err := json.Unmarshal(rec.Data, &p); err != nil {
			return fmt.Errorf("Point %q: data: %w", rec.Metric, err)
		}
		if p.Time == nil || p.Value == nil || rec.Metric == "" {
			return fmt.Errorf("Point %q: needs metric, data.time and data.value", rec.Metric)
		}
		t, ok := parseRFC3339([]byte(*p.Time))
		if !ok {
			return fmt.Errorf("Point %q: time %q is not RFC 3339", rec.Metric, *p.Time)
		}
		var ti int32
		if len(p.Tags) == 0 || string(p.Tags) == "null" {
			ti = sh.internSet(metrics.TagSet{})
		} else {
			ts, err := decodeTags(p.Tags)
			if err != nil {
				return fmt.Errorf("Point %q: %w", rec.Metric, err)
			}
			ti = sh.internSet(ts)
		}
		sh.add(sh.metricIndex([]byte(rec.Metric)), ti, t, *p.Value)
		return nil
	case "Metric":
		var m rawMetric
		if err := json.Unmarshal(rec.Data, &m); err != nil {
			return fmt.Errorf("Metric %q: data: %w", rec.Metric, err)
		}
		name := m.Name
		if name == "" {
			name = rec.Metric
		}
		mt, err := metrics.ParseMetricType(m.Type)
		if err != nil {
			return fmt.Errorf("Metric %q: %w", name, err)
		}
		vt := metrics.Default
		if m.Contains != "" {
			if vt, err = metrics.ParseValueType(m.Contains); err != nil {
				return fmt.Errorf("Metric %q: %w", name, err)
			}
		}
		mi := metricInfo{Type: mt, Contains: vt, Thresholds: append(json.RawMessage(nil), m.Thresholds...)}
		for _, s := range m.Submetrics {
			mi.Submetrics = append(mi.Submetrics, s.Name)
		}
		nr.tt.fromRecord(name, mi)
		return nil
	case "":
		return fmt.Errorf("record without a \"type\" (want Point or Metric)")
	default:
		return fmt.Errorf("unknown record type %q (want Point or Metric)", strings.ToValidUTF8(rec.Type, "?"))
	}
}
