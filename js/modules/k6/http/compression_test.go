package http

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzCompressionRoundTrip: what compressBody encodes, decodeBody decodes back, for every
// coding and chains of them.
func FuzzCompressionRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a", "hello, hello, hello", "\x00\xff\x10"} {
		f.Add([]byte(s))
	}
	specs := []string{"gzip", "deflate", "br", "zstd", "gzip, br", "zstd,deflate,gzip"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, spec := range specs {
			enc, header, err := compressBody(body, spec)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := decodeBody(enc, header, 0)
			if err != nil {
				t.Fatalf("%s: %v", spec, err)
			}
			if !bytes.Equal(dec, body) {
				t.Fatalf("%s: %q became %q", spec, body, dec)
			}
		}
	})
}

func TestDecodeBody(t *testing.T) {
	if b, err := decodeBody([]byte("plain"), "identity, x-unknown", 0); err != nil || string(b) != "plain" {
		t.Errorf("unknown codings: %q, %v", b, err)
	}
	var de decodeError
	if _, err := decodeBody([]byte("not zstd"), "zstd", 0); !errors.As(err, &de) {
		t.Errorf("bad zstd: %v", err)
	}
	if _, _, err := compressBody([]byte("x"), "gzip, lz4"); err == nil {
		t.Error("lz4 accepted")
	}
}
