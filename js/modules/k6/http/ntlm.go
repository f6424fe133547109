package http

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/bits"
	"strings"
	"time"
	"unicode/utf16"
)

// NTLM (MS-NLMP) for params.auth "ntlm": a Negotiate message on the first request, the
// server's Challenge in its 401, then an Authenticate message with an NTLMv2 response on the
// same connection (the VU's clients reuse their most recently idle connection). The user
// may be "DOMAIN\user".

const ntlmFlags = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x20000000 | 0x80000000

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmNegotiate is the Authorization header of the first request.
func ntlmNegotiate() string {
	m := make([]byte, 32)
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 1)
	binary.LittleEndian.PutUint32(m[12:], ntlmFlags)
	return "NTLM " + base64.StdEncoding.EncodeToString(m)
}

// ntlmChallenge is a server's Challenge message: its flags, challenge and target info.
type ntlmChallenge struct {
	flags      uint32
	challenge  [8]byte
	targetInfo []byte
}

// parseNTLMChallenge reads the Challenge message from WWW-Authenticate values.
func parseNTLMChallenge(values []string) (*ntlmChallenge, error) {
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "NTLM") || rest == "" {
			continue
		}
		m, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return nil, errors.New("ntlm: the challenge is not base64")
		}
		if len(m) < 32 || !bytes.Equal(m[:8], ntlmSignature) || binary.LittleEndian.Uint32(m[8:]) != 2 {
			return nil, errors.New("ntlm: not a Challenge message")
		}
		c := &ntlmChallenge{flags: binary.LittleEndian.Uint32(m[20:])}
		copy(c.challenge[:], m[24:32])
		if len(m) >= 48 {
			n, off := int(binary.LittleEndian.Uint16(m[40:])), int(binary.LittleEndian.Uint32(m[44:]))
			if off+n > len(m) || off < 0 {
				return nil, errors.New("ntlm: target info out of bounds")
			}
			c.targetInfo = m[off : off+n]
		}
		return c, nil
	}
	return nil, errors.New("ntlm: no NTLM challenge in the 401")
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, x := range u {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// ntowfv2 is NTOWFv2 (MS-NLMP 3.3.2).
func ntowfv2(user, pass, domain string) []byte {
	return hmacMD5(md4Sum(utf16le(pass)), utf16le(strings.ToUpper(user)+domain))
}

// ntlmv2Responses computes the NT and LM challenge responses (MS-NLMP 3.3.2) for a
// timestamp (Windows FILETIME) and client challenge.
func ntlmv2Responses(key []byte, c *ntlmChallenge, filetime uint64, client [8]byte) (nt, lm []byte) {
	temp := make([]byte, 0, 32+len(c.targetInfo))
	temp = append(temp, 1, 1, 0, 0, 0, 0, 0, 0)
	temp = binary.LittleEndian.AppendUint64(temp, filetime)
	temp = append(temp, client[:]...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, c.targetInfo...)
	temp = append(temp, 0, 0, 0, 0)
	proof := hmacMD5(key, c.challenge[:], temp)
	nt = append(proof, temp...)
	lm = append(hmacMD5(key, c.challenge[:], client[:]), client[:]...)
	return nt, lm
}

// ntlmAuthenticate is the Authorization header answering a challenge.
func ntlmAuthenticate(cr credentials, c *ntlmChallenge) string {
	domain, user, ok := strings.Cut(cr.user, `\`)
	if !ok {
		domain, user = "", cr.user
	}
	var client [8]byte
	_, _ = rand.Read(client[:])
	filetime := uint64(time.Now().UnixNano()/100) + 116444736000000000
	nt, lm := ntlmv2Responses(ntowfv2(user, cr.pass, domain), c, filetime, client)
	fields := [][]byte{lm, nt, utf16le(domain), utf16le(user), nil, nil} // workstation, session key
	const head = 64
	m := make([]byte, head)
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 3)
	off := head
	for i, f := range fields {
		binary.LittleEndian.PutUint16(m[12+8*i:], uint16(len(f)))
		binary.LittleEndian.PutUint16(m[14+8*i:], uint16(len(f)))
		binary.LittleEndian.PutUint32(m[16+8*i:], uint32(off))
		off += len(f)
	}
	binary.LittleEndian.PutUint32(m[60:], ntlmFlags&c.flags|0x00000001)
	for _, f := range fields {
		m = append(m, f...)
	}
	return "NTLM " + base64.StdEncoding.EncodeToString(m)
}

// md4Sum is MD4 (RFC 1320), which NTLM's password hash needs and the standard library lacks.
func md4Sum(msg []byte) []byte {
	a, b, c, d := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)
	n := len(msg)
	padded := append(append([]byte(nil), msg...), 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.LittleEndian.AppendUint64(padded, uint64(n)*8)
	var x [16]uint32
	for blk := 0; blk < len(padded); blk += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(padded[blk+4*i:])
		}
		aa, bb, cc, dd := a, b, c, d
		f := func(x, y, z uint32) uint32 { return x&y | ^x&z }
		g := func(x, y, z uint32) uint32 { return x&y | x&z | y&z }
		h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
		for _, i := range [4]int{0, 4, 8, 12} {
			a = bits.RotateLeft32(a+f(b, c, d)+x[i], 3)
			d = bits.RotateLeft32(d+f(a, b, c)+x[i+1], 7)
			c = bits.RotateLeft32(c+f(d, a, b)+x[i+2], 11)
			b = bits.RotateLeft32(b+f(c, d, a)+x[i+3], 19)
		}
		for _, i := range [4]int{0, 1, 2, 3} {
			a = bits.RotateLeft32(a+g(b, c, d)+x[i]+0x5a827999, 3)
			d = bits.RotateLeft32(d+g(a, b, c)+x[i+4]+0x5a827999, 5)
			c = bits.RotateLeft32(c+g(d, a, b)+x[i+8]+0x5a827999, 9)
			b = bits.RotateLeft32(b+g(c, d, a)+x[i+12]+0x5a827999, 13)
		}
		for _, i := range [4]int{0, 2, 1, 3} {
			a = bits.RotateLeft32(a+h(b, c, d)+x[i]+0x6ed9eba1, 3)
			d = bits.RotateLeft32(d+h(a, b, c)+x[i+8]+0x6ed9eba1, 9)
			c = bits.RotateLeft32(c+h(d, a, b)+x[i+4]+0x6ed9eba1, 11)
			b = bits.RotateLeft32(b+h(c, d, a)+x[i+12]+0x6ed9eba1, 15)
		}
		a, b, c, d = a+aa, b+bb, c+cc, d+dd
	}
	out := make([]byte, 16)
	binary.LittleEndian.PutUint32(out, a)
	binary.LittleEndian.PutUint32(out[4:], b)
	binary.LittleEndian.PutUint32(out[8:], c)
	binary.LittleEndian.PutUint32(out[12:], d)
	return out
}
