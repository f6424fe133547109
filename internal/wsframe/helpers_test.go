package wsframe

import (
	"encoding/binary"
	"fmt"
)

// msg is a Message copied out of the Reader's buffers, comparable with ==.
type msg struct {
	Op      byte
	Payload string
}

func (m msg) String() string {
	p := m.Payload
	if len(p) > 20 {
		p = fmt.Sprintf("%.20s...(%d bytes)", p, len(m.Payload))
	}
	return fmt.Sprintf("{op %#x %q}", m.Op, p)
}

// feedResult is what feeding a stream to a Reader produced.
type feedResult struct {
	msgs     []msg
	err      error
	leftover int // bytes still unconsumed at the end (a partial frame)
}

// feed feeds stream to r the way a connection would: for each cut (increasing offsets
// into stream, the end of the stream implied), the bytes left unconsumed plus the new
// ones are passed to Next until it wants more. stream itself is not modified. It panics
// if Next breaks its contract on n.
func feed(r *Reader, stream []byte, cuts []int) feedResult {
	var res feedResult
	var pending []byte
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		if c <= prev || c > len(stream) {
			continue
		}
		pending = append(pending, stream[prev:c]...)
		prev = c
		for {
			m, n, ok, err := r.Next(pending)
			if n < 0 || n > len(pending) {
				panic(fmt.Sprintf("Next consumed %d of %d bytes", n, len(pending)))
			}
			if err != nil {
				res.err = err
				res.leftover = len(pending) - n
				return res
			}
			if ok {
				if n == 0 {
					panic("Next returned a message and consumed nothing")
				}
				res.msgs = append(res.msgs, msg{m.Op, string(m.Payload)})
			}
			pending = pending[n:]
			if !ok {
				break
			}
		}
	}
	res.leftover = len(pending)
	return res
}

// everyByte returns the cuts that feed a stream of n bytes one byte at a time.
func everyByte(n int) []int {
	cuts := make([]int, 0, n)
	for i := 1; i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// frame is one frame to encode for a test stream.
type frame struct {
	fin     bool
	op      byte
	payload string
}

func data(op byte, p string) frame  { return frame{true, op, p} }
func first(op byte, p string) frame { return frame{false, op, p} }
func more(p string) frame           { return frame{false, OpContinuation, p} }
func last(p string) frame           { return frame{true, OpContinuation, p} }

// encode encodes frames the way AppendFrame would, with its own header code (so that the
// Reader is not only tested against the writer), masked with keys from a fixed sequence
// when mask is set.
func encode(mask bool, frames ...frame) []byte {
	var out []byte
	ks := newKeySource(42)
	for _, f := range frames {
		b0 := f.op
		if f.fin {
			b0 |= 0x80
		}
		var b1 byte
		if mask {
			b1 = 0x80
		}
		out = append(out, b0)
		switch n := len(f.payload); {
		case n < 126:
			out = append(out, b1|byte(n))
		case n < 1<<16:
			out = append(out, b1|126)
			out = binary.BigEndian.AppendUint16(out, uint16(n))
		default:
			out = append(out, b1|127)
			out = binary.BigEndian.AppendUint64(out, uint64(n))
		}
		if !mask {
			out = append(out, f.payload...)
			continue
		}
		key := ks.Next()
		out = append(out, key[:]...)
		for i := range len(f.payload) {
			out = append(out, f.payload[i]^key[i%4])
		}
	}
	return out
}

// appendFragment appends one frame like AppendFrame but with FIN cleared unless fin.
func appendFragment(dst []byte, op byte, payload []byte, fin, mask bool, key [4]byte) []byte {
	start := len(dst)
	dst = AppendFrame(dst, op, payload, mask, key)
	if !fin {
		dst[start] &^= finBit
	}
	return dst
}

// pattern returns n bytes of printable ASCII that vary with seed.
func pattern(n int, seed byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + (byte(i)*7+seed)%26
	}
	return string(b)
}
