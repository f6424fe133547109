package output

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pixelk6/pixelk6/metrics"
)

const (
	// maxPending is how many encoded bytes AddSamples buffers before it wakes the flusher
	// instead of waiting for its next tick.
	maxPending = 1 << 20
	// maxBacklog is how many encoded bytes AddSamples buffers before it writes them itself:
	// the flusher is behind (a slow disk), and the caller pays for the write (backpressure).
	maxBacklog = 16 << 20
)

// sink is where a stream's bytes go: a file, gzip over a file, or standard output.
type sink interface {
	io.Writer
	Close() error
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// gzipFile compresses into a buffered file.
type gzipFile struct {
	f  *os.File
	bw *bufio.Writer
	gz *gzip.Writer
}

func (g *gzipFile) Write(p []byte) (int, error) { return g.gz.Write(p) }

// Flush ends the current compressed block so that everything written so far can be
// decompressed from the file even if the process dies before Close.
func (g *gzipFile) Flush() error {
	if err := g.gz.Flush(); err != nil {
		return err
	}
	return g.bw.Flush()
}

func (g *gzipFile) Close() error {
	err := g.gz.Close()
	if ferr := g.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fileOpener opens name for writing (truncating it), compressing when it ends in ".gz".
func fileOpener(name string) func() (sink, error) {
	return func() (sink, error) {
		f, err := os.Create(name)
		if err != nil {
			return nil, fmt.Errorf("output file %q: %w", name, err)
		}
		if !strings.HasSuffix(name, ".gz") {
			return f, nil
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		return &gzipFile{f: f, bw: bw, gz: gzip.NewWriter(bw)}, nil
	}
}

// encodeFunc appends the records of samples to b and returns it.
type encodeFunc func(b []byte, samples []metrics.Sample) []byte

// stream is a buffered, periodically flushed writer of encoded records. AddSamples encodes
// into buf under mu; flush swaps buf with an empty spare under mu and writes the full one
// outside mu (writes are serialised by writeMu), so encoding never waits for the disk
// except when more than maxPending bytes are pending.
type stream struct {
	open     func() (sink, error)
	encode   encodeFunc
	header   []byte
	interval time.Duration

	mu  sync.Mutex
	buf []byte

	writeMu sync.Mutex
	spare   []byte
	out     sink
	err     error // first write error; guarded by writeMu

	done     chan struct{}
	kick     chan struct{} // wakes the flusher before its tick (capacity 1)
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// syncer is a sink that buffers and can push its buffered bytes to the file.
type syncer interface{ Flush() error }

func newStream(open func() (sink, error), enc encodeFunc, header []byte, interval time.Duration) *stream {
	return &stream{open: open, encode: enc, header: header, interval: interval, done: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Start opens the destination, writes the header (CSV) and starts the flusher.
func (s *stream) Start() error {
	out, err := s.open()
	if err != nil {
		return err
	}
	s.out = out
	s.buf = append(make([]byte, 0, 64<<10), s.header...)
	s.spare = make([]byte, 0, 64<<10)
	s.wg.Add(1)
	go s.flusher()
	return nil
}

// flusher writes the buffer every interval, and when AddSamples wakes it, until Stop.
func (s *stream) flusher() {
	defer s.wg.Done()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.flush()
		case <-s.kick:
			s.flush()
		}
	}
}

// AddSamples encodes samples into the buffer. It must be called after Start. It writes
// only when the flusher has fallen maxBacklog bytes behind; otherwise the flusher's
// goroutine does, so the caller (the engine's aggregator) does not wait for the disk.
func (s *stream) AddSamples(samples []metrics.Sample) {
	if len(samples) == 0 {
		return
	}
	s.mu.Lock()
	s.buf = s.encode(s.buf, samples)
	n := len(s.buf)
	s.mu.Unlock()
	switch {
	case n >= maxBacklog:
		s.flush()
	case n >= maxPending:
		select {
		case s.kick <- struct{}{}:
		default: // already woken
		}
	}
}

// flush writes the pending records, whole lines only.
func (s *stream) flush() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	full := s.buf
	s.buf = s.spare[:0]
	s.mu.Unlock()
	if len(full) > 0 && s.err == nil {
		if _, err := s.out.Write(full); err != nil {
			s.err = fmt.Errorf("writing output: %w", err)
		} else if f, ok := s.out.(syncer); ok {
			if err := f.Flush(); err != nil {
				s.err = fmt.Errorf("flushing output: %w", err)
			}
		}
	}
	s.spare = full[:0]
}

// Stop stops the flusher, writes what is pending and closes the destination. Calling it
// again returns the same result.
func (s *stream) Stop() error {
	if s.out == nil {
		return errors.New("output stopped before it was started")
	}
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *stream) stop() error {
	close(s.done)
	s.wg.Wait()
	s.flush()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.err
	if cerr := s.out.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing output: %w", cerr)
	}
	return err
}

var _ Output = (*stream)(nil)
