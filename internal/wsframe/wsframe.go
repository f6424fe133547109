// Package wsframe reads and writes RFC 6455 WebSocket frames over byte slices, with no I/O:
// the framing both ends of the pixel stream share (the pixel.stream client and pixelsim),
// allocation-free on the per-chunk path.
//
// It owns the wire format only: frame headers (7-, 16- and 64-bit payload lengths),
// masking, the assembly of fragmented data messages with control frames interleaved,
// the protocol errors a peer can commit and the close frame payload. The opening HTTP
// handshake, timeouts, ping/pong policy and the close handshake belong to the caller.
//
// Writing: [AppendFrame] appends one whole frame to a buffer; a client masks with keys
// from a [KeySource]. Reading: a [Reader] is fed the bytes received so far; [Reader.Next]
// returns the next message or reports how many bytes it has absorbed, and the caller keeps
// the rest, appends what arrives next and calls again. Permessage-deflate and other
// extensions are not supported: a frame with a reserved bit set is a protocol error.
package wsframe

import (
	"crypto/rand"
	"encoding/binary"
	"slices"
	"unsafe"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Close codes (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // never sent: a close frame without a code
	CloseAbnormal        = 1006 // never sent: the connection dropped without a close frame
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseTooBig          = 1009
	CloseInternalError   = 1011
)

// Frame header bits and limits (RFC 6455 section 5.2).
const (
	finBit      = 0x80
	rsvBits     = 0x70
	opcodeBits  = 0x0F
	maskBit     = 0x80
	len7Bits    = 0x7F
	len16Marker = 126
	len64Marker = 127

	// maxControlPayload is the largest payload of a control frame, in bytes.
	maxControlPayload = 125
	// maxHeader is the longest frame header, in bytes: 2 + 8 (64-bit length) + 4 (key).
	maxHeader = 14
)

// isControl reports whether op is a control opcode (close, ping, pong or reserved 0xB-0xF).
func isControl(op byte) bool { return op&0x8 != 0 }

// AppendFrame appends one unfragmented frame (FIN set) with opcode op and payload to dst
// and returns the extended slice. With mask set (frames a client sends), the payload is
// masked with key as it is copied; payload itself is not modified. Without mask, key is
// ignored. The header uses the shortest length encoding: 7 bits up to 125 bytes, 16 bits
// up to 65535, 64 bits above; it is 2 to 14 bytes long.
//
// Only the low 4 bits of op are used. A control frame's payload must not exceed 125
// bytes and op should be one of the Op constants: AppendFrame does not check, and a peer
// would answer either mistake with a protocol error. It does not allocate when dst has
// room for the frame (len(payload) + 14 bytes is always enough).
func AppendFrame(dst []byte, op byte, payload []byte, mask bool, key [4]byte) []byte {
	n := len(payload)
	hlen := 2 // grows to the whole header: 2, + 2 or 8 (extended length), + 4 (key)
	switch {
	case n > 0xFFFF:
		hlen += 8
	case n > maxControlPayload:
		hlen += 2
	}
	lenEnd := hlen // end of the length fields
	if mask {
		hlen += 4
	}
	off := len(dst)
	dst = slices.Grow(dst, hlen+n)
	dst = dst[:off+hlen+n]
	h := dst[off : off+hlen]
	h[0] = finBit | op&opcodeBits
	var b1 byte
	if mask {
		b1 = maskBit
	}
	switch lenEnd {
	case 2:
		h[1] = b1 | byte(n)
	case 4:
		h[1] = b1 | len16Marker
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h[1] = b1 | len64Marker
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	body := dst[off+hlen:]
	if mask {
		copy(h[lenEnd:], key[:])
		maskBytes(body, payload, key)
	} else {
		copy(body, payload)
	}
	return dst
}

// AppendTextFrame is AppendFrame with a string payload (a text message the caller holds as
// a string), without a []byte copy of it: AppendFrame only reads its payload.
func AppendTextFrame(dst []byte, payload string, mask bool, key [4]byte) []byte {
	return AppendFrame(dst, OpText, unsafe.Slice(unsafe.StringData(payload), len(payload)), mask, key)
}

// KeySource is a cheap, non-cryptographic source of masking keys for one connection (an
// xorshift-style generator seeded from crypto/rand when made). Not safe for concurrent use.
//
// RFC 6455 asks for unpredictable keys so that a script cannot choose the bytes an
// intermediary sees; an xorshift64* stream seeded with 64 random bits is enough for a load
// generator talking to a test target, and costs a few nanoseconds per frame.
type KeySource struct {
	state uint64 // xorshift64* state, never 0
}

// NewKeySource returns a KeySource seeded from crypto/rand.
func NewKeySource() *KeySource {
	var seed [8]byte
	rand.Read(seed[:]) // never returns an error (Go 1.24+); it crashes the program instead
	return newKeySource(binary.LittleEndian.Uint64(seed[:]))
}

// newKeySource returns a KeySource with the given seed (0 is replaced, as xorshift would
// stay at 0 forever).
func newKeySource(seed uint64) *KeySource {
	if seed == 0 {
		seed = 0x9E3779B97F4A7C15
	}
	return &KeySource{state: seed}
}

// Next returns the next masking key.
func (k *KeySource) Next() [4]byte {
	x := k.state
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	k.state = x
	var key [4]byte
	// The high half of the xorshift64* output is the better-mixed one.
	binary.LittleEndian.PutUint32(key[:], uint32((x*0x2545F4914F6CDD1D)>>32))
	return key
}
