package wsframe

import (
	"strconv"
	"testing"
)

// BenchmarkAppendFrameMasked writes the client's per-chunk frame: a 640-byte binary
// payload, masked, into a buffer with room.
func BenchmarkAppendFrameMasked(b *testing.B) {
	payload := []byte(pattern(640, 0))
	dst := make([]byte, 0, len(payload)+maxHeader)
	keys := NewKeySource()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		dst = AppendFrame(dst[:0], OpBinary, payload, true, keys.Next())
	}
}

// BenchmarkReaderNext reads one unfragmented frame: the server's view of a chunk (640
// bytes, masked) and the client's view of a small reply (about 50 bytes of text,
// unmasked). The masked frame is unmasked in place on every iteration, which flips its
// payload back and forth; the header, and so the work, stays the same.
func BenchmarkReaderNext(b *testing.B) {
	tests := []struct {
		name   string
		masked bool
		frame  []byte
	}{
		{"masked binary 640", true, AppendFrame(nil, OpBinary, []byte(pattern(640, 0)), true, [4]byte{1, 2, 3, 4})},
		{"unmasked text 50", false, AppendFrame(nil, OpText, []byte(`{"seq":1234,"ok":true,"latency_ms":12.5,"x":0}`), false, [4]byte{})},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			r := Reader{Masked: tt.masked, MaxMessage: 1 << 20}
			b.ReportAllocs()
			b.SetBytes(int64(len(tt.frame)))
			for b.Loop() {
				_, n, ok, err := r.Next(tt.frame)
				if !ok || err != nil || n != len(tt.frame) {
					b.Fatalf("Next: n %d, ok %v, err %v", n, ok, err)
				}
			}
		})
	}
}

// BenchmarkMask measures the masking loop alone.
func BenchmarkMask(b *testing.B) {
	for _, n := range []int{50, 640, 65536} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			src := []byte(pattern(n, 0))
			dst := make([]byte, n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				maskBytes(dst, src, [4]byte{1, 2, 3, 4})
			}
		})
	}
}

// BenchmarkKeySource measures drawing one masking key.
func BenchmarkKeySource(b *testing.B) {
	k := NewKeySource()
	var sink [4]byte
	b.ReportAllocs()
	for b.Loop() {
		sink = k.Next()
	}
	_ = sink
}
