package analyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sync/errgroup"

	"github.com/pixelk6/pixelk6/k6file"
)

const (
	defaultBlockSize = 1 << 20           // bytes read per block; blocks end on a newline
	maxLineLen       = k6file.MaxLineLen // a line longer than this is an error, not a memory blow-up
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
// boundaries and N workers that parse the lines, each into its own shard. It is the
// parallel accelerator of k6file.Scanner: same records, same bad lines at the same line
// numbers, same forgiven truncated last line (TestReaderMatchesScanner checks it).
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
		g.Go(func() (err error) {
			defer recoverInternal(&err)
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

// parseBlock parses every line of b into sh: k6's fixed Point shape with
// k6file.FastPoint (its tags interned by their bytes), anything else with
// k6file.ParseLine, so that the records are the ones k6file.Scanner reads.
func (nr *ndjsonReader) parseBlock(file string, sh *shard, b block) {
	s := b.buf
	line := b.firstLine
	var p k6file.FastPoint
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
		if p.Parse(ln) {
			ti, err := sh.tagsIndex(p.Tags)
			if err == nil {
				sh.add(sh.metricIndex(p.Name), ti, p.Time, p.Value)
				line++
				continue
			}
		}
		rec, err := k6file.ParseLine(ln)
		if err == nil {
			foldRecord(nr.tt, sh, &rec)
		} else {
			nr.syntaxError(file, &k6file.SyntaxError{Line: line, Truncated: last, Err: err})
		}
		line++
	}
	nr.lines.Add(lines)
	nr.records.Add(records)
}

// syntaxError counts a bad line, or warns about a truncated last line (a crashed run).
func (nr *ndjsonReader) syntaxError(file string, e *k6file.SyntaxError) {
	if e.Truncated {
		nr.warn("%s:%d: last line is truncated or invalid (a crashed run?) and was ignored: %v", file, e.Line, e.Err)
		return
	}
	nr.bad.add(file, e.Line, e.Err)
}

// foldRecord folds a record read by k6file into sh: a Point's sample, or a Metric
// record's declaration into tt.
func foldRecord(tt *typeTable, sh *shard, r *k6file.Record) {
	switch r.Kind {
	case k6file.PointKind:
		p := &r.Point
		ti := sh.internSet(p.Tags)
		sh.add(sh.metricIndex(unsafe.Slice(unsafe.StringData(p.Metric), len(p.Metric))), ti, p.Time, p.Value)
	case k6file.MetricKind:
		m := &r.Metric
		mi := metricInfo{Type: m.Type, Contains: m.Contains}
		if m.Thresholds != nil {
			mi.Thresholds = json.RawMessage{'['}
			for i, th := range m.Thresholds {
				if i > 0 {
					mi.Thresholds = append(mi.Thresholds, ',')
				}
				mi.Thresholds = append(mi.Thresholds, th...)
			}
			mi.Thresholds = append(mi.Thresholds, ']')
		}
		for _, s := range m.Submetrics {
			mi.Submetrics = append(mi.Submetrics, s.Name)
		}
		tt.fromRecord(m.Name, mi)
	}
}
