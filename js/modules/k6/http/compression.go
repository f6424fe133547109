package http

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// codeDecompression is k6's error code for a response body that cannot be decoded.
const codeDecompression = 1701

// The content codings k6 knows: "deflate" is the zlib format (RFC 9110 8.4.1.2).
var codings = []string{"gzip", "deflate", "br", "zstd"}

func knownCoding(c string) bool {
	for _, k := range codings {
		if k == c {
			return true
		}
	}
	return false
}

// compressBody applies params.compression: one or more comma-separated codings, in order.
// It returns the body and the Content-Encoding header value.
func compressBody(body []byte, spec string) ([]byte, string, error) {
	var names []string
	for _, c := range strings.Split(spec, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !knownCoding(c) {
			return nil, "", fmt.Errorf("unknown compression algorithm %q: want gzip, deflate, br or zstd", c)
		}
		var buf bytes.Buffer
		var w io.WriteCloser
		switch c {
		case "gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		case "br":
			w = brotli.NewWriter(&buf)
		case "zstd":
			zw, err := zstd.NewWriter(&buf)
			if err != nil {
				return nil, "", fmt.Errorf("compression %s: %w", c, err)
			}
			w = zw
		}
		if _, err := w.Write(body); err != nil {
			return nil, "", fmt.Errorf("compression %s: %w", c, err)
		}
		if err := w.Close(); err != nil {
			return nil, "", fmt.Errorf("compression %s: %w", c, err)
		}
		body = buf.Bytes()
		names = append(names, c)
	}
	return body, strings.Join(names, ", "), nil
}

// decodeBody undoes a response's Content-Encoding (codings applied in the listed order, so
// undone from the last), as k6 does before the script sees the body. Unknown codings (and
// identity) are left as they are. The header stays as the server sent it.
func decodeBody(body []byte, contentEncoding string, limit int64) ([]byte, error) {
	cs := strings.Split(contentEncoding, ",")
	for i := len(cs) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(cs[i]))
		if !knownCoding(c) {
			continue
		}
		var (
			rd  io.Reader
			err error
		)
		src := bytes.NewReader(body)
		switch c {
		case "gzip":
			rd, err = gzip.NewReader(src)
		case "deflate":
			rd, err = zlib.NewReader(src)
		case "br":
			rd = brotli.NewReader(src)
		case "zstd":
			var zr *zstd.Decoder
			zr, err = zstd.NewReader(src, zstd.WithDecoderConcurrency(1))
			if err == nil {
				defer zr.Close()
				rd = zr
			}
		}
		if err == nil && limit > 0 {
			body, err = io.ReadAll(io.LimitReader(rd, limit+1))
			if err == nil && int64(len(body)) > limit {
				return body[:limit], bodyTooLarge(limit)
			}
		} else if err == nil {
			body, err = io.ReadAll(rd)
		}
		if err != nil {
			return nil, decodeError{fmt.Errorf("decoding the %s response body: %w", c, err)}
		}
	}
	return body, nil
}

// decodeError is a response body that its Content-Encoding does not decode.
type decodeError struct{ error }

func (e decodeError) Unwrap() error { return e.error }
