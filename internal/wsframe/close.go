package wsframe

import (
	"encoding/binary"
	"unicode/utf8"
)

// maxCloseReason is the longest close reason that fits a control frame, in bytes.
const maxCloseReason = maxControlPayload - 2

// AppendClosePayload appends a close frame's payload: the code (2 bytes, big-endian) then
// reason, cut at a UTF-8 boundary so the payload fits a control frame (125 bytes, so at
// most 123 bytes of reason). Bytes of reason that are not valid UTF-8 are replaced by
// U+FFFD, since the peer must reject such a reason. Code CloseNoStatus means "no code",
// so it appends nothing (an empty close payload, which can carry no reason); other codes
// are written as given, without checking that they may be sent.
func AppendClosePayload(dst []byte, code int, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	room := maxCloseReason
	for i := 0; i < len(reason); {
		c, size := utf8.DecodeRuneInString(reason[i:])
		piece := reason[i : i+size]
		if c == utf8.RuneError && size == 1 {
			piece = string(utf8.RuneError)
		}
		if len(piece) > room {
			break
		}
		dst = append(dst, piece...)
		room -= len(piece)
		i += size
	}
	return dst
}

// ParseClosePayload reads a close frame's payload: an empty one is (CloseNoStatus, "");
// a 1-byte one, a code that may not be sent (below 1000, 1004-1006, 1015, 1016-2999 except
// the defined ones, or above 4999) or a reason that is not valid UTF-8 is a *ProtocolError (1002).
// The codes accepted are 1000-1003, 1007-1014 (RFC 6455 and the IANA registry) and
// 3000-4999 (libraries, frameworks and applications).
func ParseClosePayload(p []byte) (code int, reason string, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", protocolError("close payload of 1 byte (%#x): a code takes 2", p[0])
	}
	code = int(binary.BigEndian.Uint16(p))
	if !sendableCloseCode(code) {
		return 0, "", protocolError("close code %d may not be sent", code)
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", protocolError("close reason %q is not valid UTF-8", p[2:])
	}
	return code, string(p[2:]), nil
}

// sendableCloseCode reports whether code may appear in a close frame.
func sendableCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
