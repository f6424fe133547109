package wsframe

import (
	"encoding/binary"
	"fmt"
)

// maxRetained is the largest assembly buffer, in bytes, a Reader keeps from one
// fragmented message to the next; a larger one is dropped when the next fragmented
// message starts, so that one big message does not pin its memory for the connection's life.
const maxRetained = 64 << 10

// Reader parses a byte stream into messages and control frames. It assembles fragmented
// data messages; control frames may arrive between fragments and are returned at once.
// The zero Reader reads unmasked frames with no size limit. Not safe for concurrent use.
type Reader struct {
	// Masked: the peer's frames must be masked (a server reading a client: true); when false
	// they must not be (a client reading a server). A frame that breaks the rule is a
	// protocol error (1002).
	Masked bool
	// MaxMessage bounds a data message's payload, all fragments together, in bytes (0: no
	// limit). A larger one is a *ProtocolError with Code CloseTooBig, reported as soon as a
	// frame header shows the limit is passed (before the payload has arrived). Control
	// frames are bounded by RFC 6455 instead (125 bytes).
	MaxMessage int

	inMessage bool   // a fragmented data message is being assembled
	op        byte   // its opcode: OpText or OpBinary
	buf       []byte // its payload so far (fragments unmasked and concatenated)
	err       error  // the first protocol error; Next returns it again from then on
}

// Message is a whole data message (OpText or OpBinary, fragments assembled) or one control
// frame (OpClose, OpPing, OpPong). Payload is unmasked. It aliases the slice given to Next
// or the Reader's assembly buffer: valid until the next call to Next or until that slice
// is modified. Its capacity is its length, so appending to it copies.
type Message struct {
	Op      byte
	Payload []byte
}

// ProtocolError is a violation of RFC 6455 by the peer: Code is the close code to answer
// with (1002 protocol error, 1009 message too big), Reason says what was wrong.
type ProtocolError struct {
	Code   int
	Reason string
}

// Error returns the reason with the close code.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("websocket protocol error (close %d): %s", e.Code, e.Reason)
}

// protocolError returns a *ProtocolError with Code CloseProtocolError.
func protocolError(format string, args ...any) error {
	return &ProtocolError{Code: CloseProtocolError, Reason: fmt.Sprintf(format, args...)}
}

// header is a parsed frame header.
type header struct {
	fin    bool
	op     byte
	masked bool
	key    [4]byte
	len    int    // header length in bytes: 2 to 14
	plen   uint64 // payload length in bytes, < 2^63
}

// Next parses b from its start, unmasking payloads in place (b must be writable). It
// returns ok = true with the next message and n, the number of bytes of b consumed up to
// the end of that message's last frame. When b holds no complete message yet it returns
// ok = false and the n bytes it consumed anyway (whole fragments of a message in progress,
// copied into the Reader): the caller keeps b[n:], appends more bytes and calls again.
// err is a *ProtocolError (the close code to send and why) for a frame that breaks RFC 6455:
// reserved bits set, an unknown opcode, a control frame over 125 bytes or fragmented, a
// continuation with no message in progress or a new data frame during one, a 64-bit
// length with its top bit set, the masking rule broken, or MaxMessage passed. A header is
// checked as far as it has arrived, so an error is reported as soon as the bytes showing
// it are in b. With an error, n is the number of bytes consumed before the bad frame.
// After an error the Reader must not be used again (Next returns the same error).
// Text is not validated as UTF-8, nor close payloads (see [ParseClosePayload]).
// Next does not allocate for an unfragmented message.
func (r *Reader) Next(b []byte) (m Message, n int, ok bool, err error) {
	if r.err != nil {
		return Message{}, 0, false, r.err
	}
	for {
		h, complete, err := r.parseHeader(b[n:])
		if err != nil {
			r.err = err
			return Message{}, n, false, err
		}
		if !complete {
			return Message{}, n, false, nil
		}
		rest := b[n+h.len:]
		if uint64(len(rest)) < h.plen {
			return Message{}, n, false, nil
		}
		payload := rest[:h.plen:h.plen]
		if h.masked {
			maskBytes(payload, payload, h.key)
		}
		n += h.len + len(payload)
		switch {
		case isControl(h.op):
			return Message{Op: h.op, Payload: payload}, n, true, nil
		case h.op == OpContinuation:
			r.buf = append(r.buf, payload...)
			if h.fin {
				r.inMessage = false
				return Message{Op: r.op, Payload: r.buf[:len(r.buf):len(r.buf)]}, n, true, nil
			}
		case h.fin: // an unfragmented data message
			return Message{Op: h.op, Payload: payload}, n, true, nil
		default: // the first fragment of a data message
			r.inMessage, r.op = true, h.op
			if cap(r.buf) > maxRetained {
				r.buf = nil
			}
			r.buf = append(r.buf[:0], payload...)
		}
	}
}

// parseHeader parses the frame header at the start of b as far as b goes, checking each
// field as soon as it is there. complete is false when b is shorter than the header.
func (r *Reader) parseHeader(b []byte) (h header, complete bool, err error) {
	if len(b) < 1 {
		return h, false, nil
	}
	b0 := b[0]
	h.fin = b0&finBit != 0
	h.op = b0 & opcodeBits
	if rsv := b0 & rsvBits; rsv != 0 {
		return h, false, protocolError("reserved bits %#x set in frame byte %#x (no extension was negotiated)", rsv, b0)
	}
	switch h.op {
	case OpContinuation:
		if !r.inMessage {
			return h, false, protocolError("continuation frame with no fragmented message in progress")
		}
	case OpText, OpBinary:
		if r.inMessage {
			return h, false, protocolError("new data frame (opcode %#x) while a fragmented message (opcode %#x) is in progress", h.op, r.op)
		}
	case OpClose, OpPing, OpPong:
		if !h.fin {
			return h, false, protocolError("fragmented control frame (opcode %#x, FIN not set)", h.op)
		}
	default:
		return h, false, protocolError("unknown opcode %#x", h.op)
	}
	if len(b) < 2 {
		return h, false, nil
	}
	b1 := b[1]
	h.masked = b1&maskBit != 0
	if h.masked != r.Masked {
		if r.Masked {
			return h, false, protocolError("unmasked frame (opcode %#x) from a client", h.op)
		}
		return h, false, protocolError("masked frame (opcode %#x) from a server", h.op)
	}
	len7 := b1 & len7Bits
	if isControl(h.op) && len7 > maxControlPayload {
		return h, false, protocolError("control frame (opcode %#x) with a payload over %d bytes (length field %d)", h.op, maxControlPayload, len7)
	}
	h.len = 2
	switch len7 {
	case len16Marker:
		h.len += 2
	case len64Marker:
		h.len += 8
	}
	if len(b) < h.len {
		return h, false, nil
	}
	switch len7 {
	case len16Marker:
		h.plen = uint64(binary.BigEndian.Uint16(b[2:]))
	case len64Marker:
		h.plen = binary.BigEndian.Uint64(b[2:])
		if h.plen>>63 != 0 {
			return h, false, protocolError("64-bit payload length %#x has its most significant bit set", h.plen)
		}
	default:
		h.plen = uint64(len7)
	}
	if r.MaxMessage > 0 && !isControl(h.op) {
		var have uint64 // bytes of this message already absorbed, <= MaxMessage
		if h.op == OpContinuation {
			have = uint64(len(r.buf))
		}
		if h.plen > uint64(r.MaxMessage)-have {
			return h, false, &ProtocolError{Code: CloseTooBig, Reason: fmt.Sprintf(
				"data message of at least %d bytes (frame of %d after %d) is over the %d-byte limit",
				have+h.plen, h.plen, have, r.MaxMessage)}
		}
	}
	if h.masked {
		if len(b) < h.len+4 {
			return h, false, nil
		}
		copy(h.key[:], b[h.len:h.len+4])
		h.len += 4
	}
	return h, true, nil
}
