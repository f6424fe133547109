package wsframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestAppendFrame checks the header AppendFrame writes for each length encoding, with and
// without a mask, and that the payload reads back.
func TestAppendFrame(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name       string
		op         byte
		n          int // payload length
		mask       bool
		wantHeader []byte
	}{
		{"empty text", OpText, 0, false, []byte{0x81, 0x00}},
		{"empty masked ping", OpPing, 0, true, []byte{0x89, 0x80, 0x37, 0xfa, 0x21, 0x3d}},
		{"125 bytes", OpBinary, 125, false, []byte{0x82, 125}},
		{"125 bytes masked", OpPong, 125, true, []byte{0x8A, 0x80 | 125, 0x37, 0xfa, 0x21, 0x3d}},
		{"126 bytes", OpBinary, 126, false, []byte{0x82, 126, 0x00, 126}},
		{"640 bytes masked", OpBinary, 640, true, []byte{0x82, 0x80 | 126, 0x02, 0x80, 0x37, 0xfa, 0x21, 0x3d}},
		{"65535 bytes", OpText, 65535, false, []byte{0x81, 126, 0xFF, 0xFF}},
		{"65536 bytes", OpBinary, 65536, false, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"70000 bytes masked", OpBinary, 70000, true, []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70, 0x37, 0xfa, 0x21, 0x3d}},
		{"close", OpClose, 2, false, []byte{0x88, 0x02}},
		{"high bits of op ignored", 0xF2, 1, false, []byte{0x82, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(pattern(tt.n, 9))
			orig := bytes.Clone(payload)
			prefix := []byte("prefix")
			got := AppendFrame(prefix, tt.op, payload, tt.mask, key)
			if !bytes.Equal(payload, orig) {
				t.Fatal("payload modified")
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("dst prefix lost: %q", got[:len(prefix)])
			}
			got = got[len(prefix):]
			if len(got) != len(tt.wantHeader)+tt.n {
				t.Fatalf("frame of %d bytes, want %d", len(got), len(tt.wantHeader)+tt.n)
			}
			if h := got[:len(tt.wantHeader)]; !bytes.Equal(h, tt.wantHeader) {
				t.Errorf("header % x, want % x", h, tt.wantHeader)
			}
			body := got[len(tt.wantHeader):]
			for i := range body {
				want := payload[i]
				if tt.mask {
					want ^= key[i%4]
				}
				if body[i] != want {
					t.Fatalf("body byte %d = %#x, want %#x", i, body[i], want)
				}
			}
		})
	}
}

// TestAppendFrameRFCExamples checks AppendFrame against the frames of RFC 6455 section 5.7.
func TestAppendFrameRFCExamples(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"unmasked text", AppendFrame(nil, OpText, []byte(rfcHello), false, key), []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked text", AppendFrame(nil, OpText, []byte(rfcHello), true, key), []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"unmasked ping", AppendFrame(nil, OpPing, []byte(rfcHello), false, key), []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked pong", AppendFrame(nil, OpPong, []byte(rfcHello), true, key), []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Errorf("got % x, want % x", tt.got, tt.want)
			}
		})
	}
}

// TestAppendFrameAllocs checks that AppendFrame does not allocate when dst has room.
func TestAppendFrameAllocs(t *testing.T) {
	payload := []byte(pattern(640, 0))
	dst := make([]byte, 0, 640+maxHeader)
	key := [4]byte{1, 2, 3, 4}
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendFrame(dst[:0], OpBinary, payload, true, key)
	})
	if allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
}

// TestMaskBytes compares maskBytes with a byte-at-a-time reference for every length up to
// 100 and for unaligned slices, copying and in place.
func TestMaskBytes(t *testing.T) {
	key := [4]byte{0xDE, 0xAD, 0xBE, 0xEF}
	src := []byte(pattern(200, 1))
	for off := range 8 {
		for n := range 101 {
			s := src[off : off+n]
			want := make([]byte, n)
			for i := range s {
				want[i] = s[i] ^ key[i%4]
			}
			dst := make([]byte, n+off)[off:]
			maskBytes(dst, s, key)
			if !bytes.Equal(dst, want) {
				t.Fatalf("offset %d length %d: copy got % x, want % x", off, n, dst, want)
			}
			inPlace := bytes.Clone(src)[off : off+n]
			maskBytes(inPlace, inPlace, key)
			if !bytes.Equal(inPlace, want) {
				t.Fatalf("offset %d length %d: in place got % x, want % x", off, n, inPlace, want)
			}
		}
	}
}

// TestKeySource checks that keys vary within a source and between sources, and that a
// zero seed does not get stuck.
func TestKeySource(t *testing.T) {
	seq := func(k *KeySource) [8][4]byte {
		var s [8][4]byte
		for i := range s {
			s[i] = k.Next()
		}
		return s
	}
	a, b := seq(NewKeySource()), seq(NewKeySource())
	if a == b {
		t.Errorf("two sources gave the same keys %v", a)
	}
	seen := map[[4]byte]bool{}
	for _, k := range seq(newKeySource(0)) {
		seen[k] = true
	}
	if len(seen) < 8 {
		t.Errorf("zero seed: %d distinct keys in 8", len(seen))
	}
	if x, y := seq(newKeySource(7)), seq(newKeySource(7)); x != y {
		t.Error("same seed, different keys")
	}
}

// TestAppendClosePayload checks the code and the cutting of the reason.
func TestAppendClosePayload(t *testing.T) {
	long := strings.Repeat("a", 122) + "é" // 124 bytes: é (2 bytes) does not fit
	tests := []struct {
		name   string
		code   int
		reason string
		want   string
	}{
		{"code only", CloseNormal, "", "\x03\xe8"},
		{"code and reason", CloseGoingAway, "bye", "\x03\xe9bye"},
		{"application code", 4000, "done", "\x0f\xa0done"},
		{"reason of 123 bytes kept", CloseNormal, strings.Repeat("b", 123), "\x03\xe8" + strings.Repeat("b", 123)},
		{"reason cut to 123 bytes", CloseNormal, strings.Repeat("b", 200), "\x03\xe8" + strings.Repeat("b", 123)},
		{"cut before a split rune", CloseTooBig, long, "\x03\xf1" + strings.Repeat("a", 122)},
		{"multi-byte runes kept whole", CloseNormal, strings.Repeat("€", 50), "\x03\xe8" + strings.Repeat("€", 41)},
		{"invalid UTF-8 replaced", CloseNormal, "a\xffb", "\x03\xe8a\uFFFDb"},
		{"no status means empty", CloseNoStatus, "ignored", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendClosePayload([]byte("x"), tt.code, tt.reason)
			if string(got) != "x"+tt.want {
				t.Errorf("got %q, want %q", got, "x"+tt.want)
			}
			if len(got)-1 > maxControlPayload || !utf8.Valid(got[min(len(got), 3):]) {
				t.Errorf("payload of %d bytes or invalid reason %q", len(got)-1, got)
			}
		})
	}
}

// TestParseClosePayload checks codes, reasons and the malformed payloads.
func TestParseClosePayload(t *testing.T) {
	withCode := func(code int, reason string) []byte {
		return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
	}
	tests := []struct {
		name       string
		payload    []byte
		wantCode   int
		wantReason string
		wantErr    bool
	}{
		{"empty", nil, CloseNoStatus, "", false},
		{"one byte", []byte{0x03}, 0, "", true},
		{"normal", withCode(1000, ""), 1000, "", false},
		{"with reason", withCode(1001, "going away"), 1001, "going away", false},
		{"1003", withCode(1003, ""), 1003, "", false},
		{"1007", withCode(1007, ""), 1007, "", false},
		{"1011", withCode(1011, ""), 1011, "", false},
		{"1014", withCode(1014, ""), 1014, "", false},
		{"3000", withCode(3000, "app"), 3000, "app", false},
		{"4999", withCode(4999, ""), 4999, "", false},
		{"0", withCode(0, ""), 0, "", true},
		{"999", withCode(999, ""), 0, "", true},
		{"1004", withCode(1004, ""), 0, "", true},
		{"1005 no status", withCode(1005, ""), 0, "", true},
		{"1006 abnormal", withCode(1006, ""), 0, "", true},
		{"1015", withCode(1015, ""), 0, "", true},
		{"1016", withCode(1016, ""), 0, "", true},
		{"2999", withCode(2999, ""), 0, "", true},
		{"5000", withCode(5000, ""), 0, "", true},
		{"65535", withCode(65535, ""), 0, "", true},
		{"invalid UTF-8 reason", withCode(1000, "a\xc3"), 0, "", true},
		{"round trip of AppendClosePayload", AppendClosePayload(nil, 4001, "€uro"), 4001, "€uro", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tt.payload)
			if tt.wantErr {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
					t.Errorf("err = %v, want a *ProtocolError with code 1002", err)
				}
				return
			}
			if err != nil || code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("got (%d, %q, %v), want (%d, %q, nil)", code, reason, err, tt.wantCode, tt.wantReason)
			}
		})
	}
}

// TestProtocolErrorMessage checks that the message carries the code and the reason.
func TestProtocolErrorMessage(t *testing.T) {
	err := error(&ProtocolError{Code: CloseTooBig, Reason: "too big"})
	if got := err.Error(); !strings.Contains(got, "1009") || !strings.Contains(got, "too big") {
		t.Errorf("Error() = %q", got)
	}
}

// TestAppendTextFrame: a string payload frames as the same bytes would, without allocating
// when dst has room, and the string is left as it was.
func TestAppendTextFrame(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	for _, text := range []string{"", "hello", strings.Repeat("é", 100), strings.Repeat("x", 70000)} {
		for _, mask := range []bool{false, true} {
			want := AppendFrame(nil, OpText, []byte(text), mask, key)
			before := strings.Clone(text)
			if got := AppendTextFrame(nil, text, mask, key); !bytes.Equal(got, want) {
				t.Errorf("%d bytes, mask %v: the frames differ", len(text), mask)
			}
			if text != before {
				t.Fatal("the payload string changed")
			}
		}
	}
	dst := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { dst = AppendTextFrame(dst[:0], "hello", true, key) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}
