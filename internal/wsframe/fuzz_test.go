package wsframe

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// randomCuts returns increasing cut points into a stream of n bytes drawn from rng: about
// one in every few bytes, sometimes none, sometimes every byte.
func randomCuts(rng *rand.Rand, n int) []int {
	var cuts []int
	switch rng.IntN(4) {
	case 0:
		return nil
	case 1:
		if n <= 4096 {
			return everyByte(n)
		}
	}
	gap := 1 + rng.IntN(64)
	for i := 0; i < n; i += 1 + rng.IntN(gap) {
		cuts = append(cuts, i)
	}
	return cuts
}

// sameError reports whether two errors from feeding the same stream agree: both nil, or
// both *ProtocolError with the same code and reason.
func sameError(a, b error) bool {
	var pa, pb *ProtocolError
	if a == nil || b == nil {
		return a == b
	}
	return errors.As(a, &pa) && errors.As(b, &pb) && *pa == *pb
}

// FuzzReader feeds arbitrary bytes to a Reader whole and in random pieces: it must never
// panic, the two ways must agree on messages, error and (with no error) leftover, every error must be a
// *ProtocolError with code 1002 or 1009, and every message must respect the limits.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, false, uint16(0), uint64(1))
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, true, uint16(3), uint64(2))
	f.Add(encode(false, first(OpText, "ab"), data(OpPing, "p"), more("cd"), last("e"), data(OpClose, "\x03\xe8")), false, uint16(0), uint64(3))
	f.Add(encode(true, first(OpBinary, pattern(200, 0)), last(pattern(70, 1))), true, uint16(256), uint64(4))
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}, false, uint16(0), uint64(5))
	f.Add([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, false, uint16(100), uint64(6))
	f.Fuzz(func(t *testing.T, stream []byte, masked bool, maxMessage uint16, seed uint64) {
		newReader := func() *Reader { return &Reader{Masked: masked, MaxMessage: int(maxMessage)} }
		whole := feed(newReader(), stream, nil)
		rng := rand.New(rand.NewPCG(seed, uint64(len(stream))))
		split := feed(newReader(), stream, randomCuts(rng, len(stream)))
		if diff := cmp.Diff(whole.msgs, split.msgs); diff != "" {
			t.Fatalf("messages differ (-whole +split):\n%s", diff)
		}
		// On an error the leftover depends on how much had been fed, so it is not compared.
		if !sameError(whole.err, split.err) || (whole.err == nil && whole.leftover != split.leftover) {
			t.Fatalf("whole: err %v, leftover %d; split: err %v, leftover %d",
				whole.err, whole.leftover, split.err, split.leftover)
		}
		if whole.err != nil {
			var pe *ProtocolError
			if !errors.As(whole.err, &pe) || (pe.Code != CloseProtocolError && pe.Code != CloseTooBig) {
				t.Fatalf("error %v is not a *ProtocolError with code 1002 or 1009", whole.err)
			}
		}
		for _, m := range whole.msgs {
			switch m.Op {
			case OpText, OpBinary:
				if maxMessage > 0 && len(m.Payload) > int(maxMessage) {
					t.Fatalf("message of %d bytes over MaxMessage %d", len(m.Payload), maxMessage)
				}
			case OpClose, OpPing, OpPong:
				if len(m.Payload) > maxControlPayload {
					t.Fatalf("control frame of %d bytes", len(m.Payload))
				}
			default:
				t.Fatalf("message with opcode %#x", m.Op)
			}
		}
	})
}

// roundTripScript turns fuzz input into messages: each message takes a control byte (kind
// in bits 0-1: text, binary, ping, pong; bit 6: scale the length up to cross the 16- and
// 64-bit encodings), a length byte, and then payload bytes from the input as far as they
// go, filled up with a pattern. Scaling stops once the messages total 128 KiB.
func roundTripScript(script []byte) []msg {
	var msgs []msg
	total := 0
	for len(script) > 0 {
		c := script[0]
		script = script[1:]
		n := 0
		if len(script) > 0 {
			n = int(script[0])
			script = script[1:]
		}
		op := [4]byte{OpText, OpBinary, OpPing, OpPong}[c&3]
		switch {
		case isControl(op):
			n %= maxControlPayload + 1
		case c&0x40 != 0 && total < 128<<10:
			n *= 300 // up to 76500 bytes
		}
		total += n
		p := make([]byte, n)
		taken := copy(p, script)
		script = script[taken:]
		for i := taken; i < n; i++ {
			p[i] = byte(i) ^ c
		}
		msgs = append(msgs, msg{op, string(p)})
	}
	return msgs
}

// FuzzRoundTrip writes messages with AppendFrame, masked (as a client) or not (as a
// server), splitting data messages into fragments with control frames between them, and
// reads the stream back with a Reader fed in random pieces: the messages must come back
// in wire order (a control frame sent between fragments comes before its data message).
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("\x00\x05hello\x01\x03abc\x02\x00"), false, uint64(1))
	f.Add([]byte("\x41\xff\x02\x04ping\x40\x01x\x03\x7d"), true, uint64(2))
	f.Add([]byte("\x01\xc8\x02\x01a\x00\x00\x03\x01b\x41\xda"), true, uint64(3))
	f.Fuzz(func(t *testing.T, script []byte, masked bool, seed uint64) {
		msgs := roundTripScript(script)
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		keys := newKeySource(seed)
		var stream []byte
		var want []msg
		for i := 0; i < len(msgs); i++ {
			m := msgs[i]
			if isControl(m.Op) {
				stream = AppendFrame(stream, m.Op, []byte(m.Payload), masked, keys.Next())
				want = append(want, m)
				continue
			}
			// Split into 1 to 4 fragments; after each but the last, maybe send the
			// control frames that follow the message in the script.
			parts := 1 + rng.IntN(4)
			p, op := []byte(m.Payload), m.Op
			for k := parts; k > 0; k-- {
				cut := len(p)
				if k > 1 {
					cut = rng.IntN(len(p) + 1)
				}
				stream = appendFragment(stream, op, p[:cut], k == 1, masked, keys.Next())
				p, op = p[cut:], OpContinuation
				for k > 1 && i+1 < len(msgs) && isControl(msgs[i+1].Op) && rng.IntN(2) == 0 {
					i++
					stream = AppendFrame(stream, msgs[i].Op, []byte(msgs[i].Payload), masked, keys.Next())
					want = append(want, msgs[i])
				}
			}
			want = append(want, m)
		}
		got := feed(&Reader{Masked: masked}, stream, randomCuts(rng, len(stream)))
		if got.err != nil || got.leftover != 0 {
			t.Fatalf("err %v, %d bytes left over", got.err, got.leftover)
		}
		if diff := cmp.Diff(want, got.msgs); diff != "" {
			t.Fatalf("messages (-want +got):\n%s", diff)
		}
	})
}
