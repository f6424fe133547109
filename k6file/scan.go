package k6file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pixelk6/pixelk6/metrics"
)

// Format is a k6 result-file format.
type Format uint8

const (
	NDJSON Format = iota + 1 // --out json
	CSV                      // --out csv
)

func (f Format) String() string {
	switch f {
	case NDJSON:
		return "ndjson"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// DetectFormat tells CSV (k6's header, "metric_name,...", after an optional UTF-8 byte
// order mark) from NDJSON by the first bytes of an uncompressed input.
func DetectFormat(head []byte) Format {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(head, []byte("metric_name")) {
		return CSV
	}
	return NDJSON
}

// MaxLineLen bounds a line: a longer one is a fatal error, not a memory blow-up.
const MaxLineLen = 1 << 30

// keptErrors is how many syntax errors SyntaxErrors keeps.
const keptErrors = 100

// maxCached bounds the Scanner's caches of tag sets and metric names.
const maxCached = 1 << 16

// Scanner reads the records of a k6 NDJSON or CSV file. Scan advances to the next record,
// skipping lines that hold none (blank NDJSON lines quietly; bad lines as syntax errors,
// which are counted, kept for SyntaxErrors and passed to OnSyntaxError); it returns false
// at the end of the input or on a fatal error, which Err returns (a read error, a missing
// CSV header, a line longer than MaxLineLen).
type Scanner struct {
	// OnSyntaxError, when set, is called with every bad line, in input order, during Scan.
	// An error it returns ends scanning: Scan returns false and Err returns that error
	// (a reader's "too many bad lines").
	OnSyntaxError func(*SyntaxError) error

	format Format
	rec    Record
	err    error
	lines  int64
	bad    int64
	errs   []*SyntaxError

	// NDJSON
	br      *bufio.Reader
	buf     []byte // a line longer than br's buffer
	fp      FastPoint
	eof     bool
	tagsRaw map[string]metrics.TagSet

	// CSV
	lr       *lastByteReader
	cr       *csv.Reader
	layout   *csvLayout
	pending  *SyntaxError // a bad row, held until we know whether it is the last
	key      []byte
	tagCache map[string]metrics.TagSet

	names map[string]string
}

// NewScanner returns a Scanner of r in format f. It buffers r itself.
func NewScanner(r io.Reader, f Format) *Scanner {
	s := &Scanner{format: f, names: map[string]string{}}
	switch f {
	case CSV:
		s.lr = &lastByteReader{r: r}
		s.cr = csv.NewReader(s.lr)
		s.cr.ReuseRecord = true
		s.cr.FieldsPerRecord = -1
		s.tagCache = map[string]metrics.TagSet{}
	default:
		s.format = NDJSON
		s.br = bufio.NewReaderSize(r, 64<<10)
		s.tagsRaw = map[string]metrics.TagSet{}
	}
	return s
}

// Record returns the record of the latest successful Scan. The next Scan overwrites the
// Record it points to, but never what the record holds: copy the Record (*sc.Record()) to
// keep it; its strings, tag sets and maps stay valid.
func (s *Scanner) Record() *Record { return &s.rec }

// Err returns the fatal error that ended scanning, nil at the end of the input.
func (s *Scanner) Err() error { return s.err }

// Lines returns how many lines were read: NDJSON lines (blank ones too), or CSV data rows
// (the header excluded).
func (s *Scanner) Lines() int64 { return s.lines }

// BadLines returns how many lines were syntax errors so far.
func (s *Scanner) BadLines() int64 { return s.bad }

// SyntaxErrors returns the first syntax errors (up to 100).
func (s *Scanner) SyntaxErrors() []*SyntaxError { return s.errs }

// syntaxError counts e and reports whether scanning goes on.
func (s *Scanner) syntaxError(e *SyntaxError) bool {
	s.bad++
	if len(s.errs) < keptErrors {
		s.errs = append(s.errs, e)
	}
	if s.OnSyntaxError != nil {
		if err := s.OnSyntaxError(e); err != nil {
			s.err = err
			return false
		}
	}
	return true
}

// Scan advances to the next record.
func (s *Scanner) Scan() bool {
	if s.err != nil {
		return false
	}
	if s.format == CSV {
		return s.scanCSV()
	}
	return s.scanNDJSON()
}

func (s *Scanner) scanNDJSON() bool {
	for !s.eof {
		ln, last, err := s.readLine()
		if err != nil {
			s.err = err
			return false
		}
		if ln == nil {
			break
		}
		s.lines++
		if len(ln) > 0 && ln[len(ln)-1] == '\r' {
			ln = ln[:len(ln)-1]
		}
		if len(ln) == 0 {
			continue
		}
		if err := s.parseNDJSON(ln); err != nil {
			if !s.syntaxError(&SyntaxError{Line: s.lines, Truncated: last, Err: err}) {
				return false
			}
			continue
		}
		s.rec.Line = s.lines
		return true
	}
	return false
}

// readLine returns the next line without its newline; last reports that it ended at EOF
// without one. ln is nil at the end of the input.
func (s *Scanner) readLine() (ln []byte, last bool, err error) {
	s.buf = s.buf[:0]
	for {
		frag, err := s.br.ReadSlice('\n')
		switch {
		case err == nil:
			if len(s.buf) == 0 {
				return frag[:len(frag)-1], false, nil
			}
			s.buf = append(s.buf, frag[:len(frag)-1]...)
			return s.buf, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(s.buf)+len(frag) > MaxLineLen {
				return nil, false, fmt.Errorf("line %d: longer than %d bytes", s.lines+1, MaxLineLen)
			}
			s.buf = append(s.buf, frag...)
		case err == io.EOF:
			s.eof = true
			s.buf = append(s.buf, frag...)
			if len(s.buf) == 0 {
				return nil, false, nil
			}
			return s.buf, true, nil
		default:
			return nil, false, fmt.Errorf("read: %w", err)
		}
	}
}

// parseNDJSON decodes one non-blank line into s.rec, as ParseLine does, reusing the tag
// sets and metric names of earlier lines.
func (s *Scanner) parseNDJSON(ln []byte) error {
	if s.fp.Parse(ln) {
		ts, ok := s.tagsRaw[string(s.fp.Tags)]
		if !ok {
			var err error
			if ts, err = DecodeTags(s.fp.Tags); err == nil {
				if len(s.tagsRaw) >= maxCached {
					clear(s.tagsRaw)
				}
				s.tagsRaw[string(s.fp.Tags)] = ts
				ok = true
			}
		}
		if ok {
			s.rec = Record{Kind: PointKind, Point: Point{Metric: s.internBytes(s.fp.Name), Time: s.fp.Time, Value: s.fp.Value, Tags: ts}}
			if s.fp.Metadata != nil {
				s.rec.Point.Metadata = decodeMetadata(s.fp.Metadata)
			}
			return nil
		}
	}
	rec, err := parseSlow(ln)
	if err != nil {
		return err
	}
	s.rec = rec
	return nil
}

func (s *Scanner) internBytes(b []byte) string {
	if n, ok := s.names[string(b)]; ok {
		return n
	}
	return s.intern(string(b))
}

func (s *Scanner) intern(n string) string {
	if m, ok := s.names[n]; ok {
		return m
	}
	if len(s.names) >= maxCached {
		clear(s.names)
	}
	n = string(append([]byte(nil), n...)) // n may alias a reused CSV record
	s.names[n] = n
	return n
}

func (s *Scanner) cache(k string, ts metrics.TagSet) {
	if len(s.tagCache) >= maxCached {
		clear(s.tagCache)
	}
	s.tagCache[k] = ts
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

func (s *Scanner) scanCSV() bool {
	if s.layout == nil {
		head, err := s.cr.Read()
		if err != nil {
			s.err = fmt.Errorf("CSV header: %w", err)
			return false
		}
		if len(head) > 0 {
			head[0] = strings.TrimPrefix(head[0], "\xef\xbb\xbf")
		}
		if s.layout, err = parseCSVHeader(head); err != nil {
			s.err = err
			return false
		}
	}
	for {
		rec, err := s.cr.Read()
		if err == io.EOF {
			if s.pending != nil {
				s.pending.Truncated = s.lr.last != '\n'
				s.flushPending()
			}
			return false
		}
		if !s.flushPending() {
			return false
		}
		s.lines++
		var pe *csv.ParseError
		if err != nil {
			if !errors.As(err, &pe) {
				s.err = fmt.Errorf("read: %w", err)
				return false
			}
			s.pending = &SyntaxError{Line: int64(pe.StartLine), Err: err}
			continue
		}
		line, _ := s.cr.FieldPos(0)
		if err := s.csvRow(rec, &s.rec.Point); err != nil {
			s.pending = &SyntaxError{Line: int64(line), Err: err}
			continue
		}
		s.rec.Kind, s.rec.Line = PointKind, int64(line)
		return true
	}
}

// flushPending reports the held-back bad row, if any, and whether scanning goes on.
func (s *Scanner) flushPending() bool {
	if s.pending == nil {
		return true
	}
	e := s.pending
	s.pending = nil
	return s.syntaxError(e)
}
