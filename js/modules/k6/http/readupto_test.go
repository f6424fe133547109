package http

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadUpToMatchesLimitReader: readUpTo reads what io.ReadAll(io.LimitReader(r, max))
// reads, for every length around the limit, in one-byte and half reads, and keeps the
// bytes read before an error.
func TestReadUpToMatchesLimitReader(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 10000} {
		for _, max := range []int64{1, 512, 513, 4097, 20000} {
			data := bytes.Repeat([]byte("k6"), n)[:n]
			for name, wrap := range map[string]func(io.Reader) io.Reader{
				"plain": func(r io.Reader) io.Reader { return r }, "one byte": iotest.OneByteReader, "half": iotest.HalfReader,
			} {
				want, _ := io.ReadAll(io.LimitReader(bytes.NewReader(data), max))
				got, err := readUpTo(wrap(bytes.NewReader(data)), max)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("n=%d max=%d %s: %d bytes, %v; want %d bytes", n, max, name, len(got), err, len(want))
				}
			}
		}
	}
	boom := errors.New("boom")
	got, err := readUpTo(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 100)
	if string(got) != "abc" || !errors.Is(err, boom) {
		t.Fatalf("got %q, %v; want the bytes before the error and the error", got, err)
	}
}
