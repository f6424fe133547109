package wsframe

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReaderStreams feeds streams of frames to a Reader whole and one byte at a time, as a
// client (unmasked frames) and as a server (masked frames), and checks the messages.
func TestReaderStreams(t *testing.T) {
	big := pattern(70000, 3)
	tests := []struct {
		name   string
		frames []frame
		want   []msg
	}{
		{"empty text", []frame{data(OpText, "")}, []msg{{OpText, ""}}},
		{"small binary", []frame{data(OpBinary, "\x00\x01\xff")}, []msg{{OpBinary, "\x00\x01\xff"}}},
		{"7-bit length max 125", []frame{data(OpBinary, pattern(125, 1))}, []msg{{OpBinary, pattern(125, 1)}}},
		{"16-bit length min 126", []frame{data(OpBinary, pattern(126, 1))}, []msg{{OpBinary, pattern(126, 1)}}},
		{"16-bit length max 65535", []frame{data(OpText, pattern(65535, 2))}, []msg{{OpText, pattern(65535, 2)}}},
		{"64-bit length min 65536", []frame{data(OpBinary, pattern(65536, 2))}, []msg{{OpBinary, pattern(65536, 2)}}},
		{"several messages", []frame{
			data(OpText, "one"), data(OpBinary, "two"), data(OpPing, "p"), data(OpText, "three"),
		}, []msg{{OpText, "one"}, {OpBinary, "two"}, {OpPing, "p"}, {OpText, "three"}}},
		{"control frames", []frame{
			data(OpPing, ""), data(OpPong, pattern(125, 4)), data(OpClose, "\x03\xe8bye"),
		}, []msg{{OpPing, ""}, {OpPong, pattern(125, 4)}, {OpClose, "\x03\xe8bye"}}},
		{"fragmented text", []frame{
			first(OpText, "Hel"), more("lo, "), last("world"),
		}, []msg{{OpText, "Hello, world"}}},
		{"fragmented with empty fragments", []frame{
			first(OpBinary, ""), more(""), more("x"), last(""),
		}, []msg{{OpBinary, "x"}}},
		{"fragmented all empty", []frame{first(OpText, ""), last("")}, []msg{{OpText, ""}}},
		{"control frames between fragments", []frame{
			first(OpBinary, "ab"), data(OpPing, "1"), more("cd"), data(OpPong, "2"), data(OpPing, "3"), last("ef"),
		}, []msg{{OpPing, "1"}, {OpPong, "2"}, {OpPing, "3"}, {OpBinary, "abcdef"}}},
		{"close between fragments", []frame{
			first(OpText, "partial"), data(OpClose, "\x03\xe9"),
		}, []msg{{OpClose, "\x03\xe9"}}},
		{"fragmented large", []frame{
			first(OpBinary, big[:100]), more(big[100:40000]), data(OpPing, "x"), last(big[40000:]),
		}, []msg{{OpPing, "x"}, {OpBinary, big}}},
		{"fragmented messages back to back", []frame{
			first(OpText, "a"), last("b"), data(OpBinary, "c"), first(OpBinary, "d"), last("e"),
		}, []msg{{OpText, "ab"}, {OpBinary, "c"}, {OpBinary, "de"}}},
	}
	for _, tt := range tests {
		for _, masked := range []bool{false, true} {
			name := tt.name + "/unmasked"
			if masked {
				name = tt.name + "/masked"
			}
			t.Run(name, func(t *testing.T) {
				stream := encode(masked, tt.frames...)
				whole := feed(&Reader{Masked: masked}, stream, nil)
				if whole.err != nil || whole.leftover != 0 {
					t.Fatalf("whole: err %v, %d bytes left over", whole.err, whole.leftover)
				}
				if diff := cmp.Diff(tt.want, whole.msgs); diff != "" {
					t.Errorf("whole: messages (-want +got):\n%s", diff)
				}
				if len(stream) > 1000 {
					return // byte by byte is quadratic; the large cases are split below
				}
				bytewise := feed(&Reader{Masked: masked}, stream, everyByte(len(stream)))
				if bytewise.err != nil || bytewise.leftover != 0 {
					t.Fatalf("byte by byte: err %v, %d bytes left over", bytewise.err, bytewise.leftover)
				}
				if diff := cmp.Diff(tt.want, bytewise.msgs); diff != "" {
					t.Errorf("byte by byte: messages (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReaderSplitLarge feeds the large streams in pieces cut just around every frame
// header boundary, which byte-by-byte feeding would cover at quadratic cost.
func TestReaderSplitLarge(t *testing.T) {
	big := pattern(70000, 5)
	frames := []frame{data(OpBinary, big), first(OpText, big[:300]), data(OpPing, "p"), last(big[300:66000])}
	want := []msg{{OpBinary, big}, {OpPing, "p"}, {OpText, big[:66000]}}
	for _, masked := range []bool{false, true} {
		stream := encode(masked, frames...)
		var cuts []int
		for start := 0; start < len(stream); {
			for i := range 16 {
				cuts = append(cuts, start+i)
			}
			h, complete, err := (&Reader{Masked: masked, inMessage: stream[start]&0xF == 0}).parseHeader(stream[start:])
			if !complete || err != nil {
				t.Fatalf("test stream header at %d: complete %v, err %v", start, complete, err)
			}
			start += h.len + int(h.plen)
		}
		got := feed(&Reader{Masked: masked}, stream, cuts)
		if got.err != nil || got.leftover != 0 {
			t.Fatalf("masked %v: err %v, %d bytes left over", masked, got.err, got.leftover)
		}
		if diff := cmp.Diff(want, got.msgs); diff != "" {
			t.Errorf("masked %v: messages (-want +got):\n%s", masked, diff)
		}
	}
}

// rfcHello is the payload of the examples of RFC 6455 section 5.7.
const rfcHello = "Hello"

// TestReaderRFCExamples reads the example frames of RFC 6455 section 5.7 and a few
// encodings AppendFrame never produces but a peer may send.
func TestReaderRFCExamples(t *testing.T) {
	tests := []struct {
		name   string
		masked bool
		stream []byte
		want   []msg
	}{
		{"unmasked text", false, []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, []msg{{OpText, rfcHello}}},
		{"masked text", true, []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, []msg{{OpText, rfcHello}}},
		{"fragmented unmasked text", false, []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}, []msg{{OpText, rfcHello}}},
		{"unmasked ping", false, []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, []msg{{OpPing, rfcHello}}},
		{"masked pong", true, []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, []msg{{OpPong, rfcHello}}},
		{"256 bytes binary", false, append([]byte{0x82, 0x7E, 0x01, 0x00}, pattern(256, 0)...), []msg{{OpBinary, pattern(256, 0)}}},
		{"64 KiB binary", false, append([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, pattern(65536, 0)...), []msg{{OpBinary, pattern(65536, 0)}}},
		{"non-minimal 16-bit length", false, []byte{0x82, 0x7E, 0x00, 0x02, 'h', 'i'}, []msg{{OpBinary, "hi"}}},
		{"non-minimal 64-bit length", true, []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 'h', 'i'}, []msg{{OpBinary, "hi"}}},
		{"zero key", true, []byte{0x82, 0x82, 0, 0, 0, 0, 'h', 'i'}, []msg{{OpBinary, "hi"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := feed(&Reader{Masked: tt.masked}, tt.stream, nil)
			bytewise := feed(&Reader{Masked: tt.masked}, tt.stream, everyByte(len(tt.stream)))
			for _, got := range []feedResult{whole, bytewise} {
				if got.err != nil || got.leftover != 0 {
					t.Fatalf("err %v, %d bytes left over", got.err, got.leftover)
				}
				if diff := cmp.Diff(tt.want, got.msgs); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestReaderErrors checks each protocol error: its close code, that it is reported as soon
// as the first errAt bytes of the stream are there and not before, and that the messages
// before the bad frame come out first.
func TestReaderErrors(t *testing.T) {
	frag := encode(false, first(OpText, "abc")) // 5 bytes
	tests := []struct {
		name       string
		masked     bool
		maxMessage int
		stream     []byte
		errAt      int // shortest prefix of stream that shows the error
		wantCode   int
		wantMsgs   []msg
	}{
		{"RSV1 set", false, 0, []byte{0xC1, 0x00}, 1, CloseProtocolError, nil},
		{"RSV2 set", false, 0, []byte{0xA2, 0x00}, 1, CloseProtocolError, nil},
		{"RSV3 set on control", true, 0, []byte{0x99, 0x80, 0, 0, 0, 0}, 1, CloseProtocolError, nil},
		{"opcode 0x3", false, 0, []byte{0x83, 0x00}, 1, CloseProtocolError, nil},
		{"opcode 0x7", false, 0, []byte{0x87, 0x00}, 1, CloseProtocolError, nil},
		{"opcode 0xB", false, 0, []byte{0x8B, 0x00}, 1, CloseProtocolError, nil},
		{"opcode 0xF", false, 0, []byte{0x8F, 0x00}, 1, CloseProtocolError, nil},
		{"fragmented ping", false, 0, []byte{0x09, 0x00}, 1, CloseProtocolError, nil},
		{"fragmented close", false, 0, []byte{0x08, 0x00}, 1, CloseProtocolError, nil},
		{"ping over 125 bytes", false, 0, append([]byte{0x89, 0x7E, 0x00, 0x7E}, pattern(126, 0)...), 2, CloseProtocolError, nil},
		{"close with 64-bit length", false, 0, []byte{0x88, 0x7F, 0, 0, 0, 0, 0, 0, 0, 2, 3, 232}, 2, CloseProtocolError, nil},
		{"continuation with no message", false, 0, []byte{0x80, 0x00}, 1, CloseProtocolError, nil},
		{"continuation after a complete message", false, 0,
			append(encode(false, first(OpText, "a"), last("b")), 0x80, 0x00), 7, CloseProtocolError, []msg{{OpText, "ab"}}},
		{"text during fragmented message", false, 0, append(slices.Clone(frag), 0x81, 0x00), len(frag) + 1, CloseProtocolError, nil},
		{"binary during fragmented message", false, 0, append(slices.Clone(frag), 0x02, 0x00), len(frag) + 1, CloseProtocolError, nil},
		{"64-bit length with top bit", false, 0, []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}, 10, CloseProtocolError, nil},
		{"masked frame to a client", false, 0, []byte{0x82, 0x81, 1, 2, 3, 4, 5}, 2, CloseProtocolError, nil},
		{"unmasked frame to a server", true, 0, []byte{0x82, 0x01, 5}, 2, CloseProtocolError, nil},
		{"unmasked ping to a server", true, 0, []byte{0x89, 0x00}, 2, CloseProtocolError, nil},
		{"error after a good message", false, 0, append(encode(false, data(OpBinary, "ok")), 0xC2, 0), 5, CloseProtocolError, []msg{{OpBinary, "ok"}}},
		{"too big 7-bit", false, 10, encode(false, data(OpBinary, pattern(11, 0))), 2, CloseTooBig, nil},
		{"too big 16-bit", true, 200, encode(true, data(OpBinary, pattern(300, 0))), 4, CloseTooBig, nil},
		{"too big 64-bit", false, 65536, encode(false, data(OpText, pattern(65537, 0))), 10, CloseTooBig, nil},
		{"too big huge length", false, 1 << 20, []byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 10, CloseTooBig, nil},
		{"too big across fragments", false, 10,
			encode(false, first(OpBinary, "123456"), data(OpPing, ""), last("12345")), 8 + 2 + 2, CloseTooBig, []msg{{OpPing, ""}}},
		{"too big in the third fragment", true, 10,
			encode(true, first(OpBinary, "1234"), more("123456"), last("1")), 10 + 12 + 2, CloseTooBig, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cuts := range [][]int{nil, everyByte(len(tt.stream))} {
				got := feed(&Reader{Masked: tt.masked, MaxMessage: tt.maxMessage}, tt.stream, cuts)
				var pe *ProtocolError
				if !errors.As(got.err, &pe) {
					t.Fatalf("cuts %v: err = %v, want a *ProtocolError", cuts != nil, got.err)
				}
				if pe.Code != tt.wantCode || pe.Reason == "" {
					t.Errorf("cuts %v: error %+v, want code %d and a reason", cuts != nil, pe, tt.wantCode)
				}
				if diff := cmp.Diff(tt.wantMsgs, got.msgs); diff != "" {
					t.Errorf("cuts %v: messages before the error (-want +got):\n%s", cuts != nil, diff)
				}
			}
			before := feed(&Reader{Masked: tt.masked, MaxMessage: tt.maxMessage}, tt.stream[:tt.errAt-1], nil)
			if before.err != nil {
				t.Errorf("first %d bytes: err %v, want none yet", tt.errAt-1, before.err)
			}
			at := feed(&Reader{Masked: tt.masked, MaxMessage: tt.maxMessage}, tt.stream[:tt.errAt], nil)
			if at.err == nil {
				t.Errorf("first %d bytes: no error, want it reported", tt.errAt)
			}
		})
	}
}

// TestReaderMaxMessage checks the limits that must pass.
func TestReaderMaxMessage(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		frames []frame
	}{
		{"exactly the limit", 10, []frame{data(OpBinary, "0123456789")}},
		{"exactly the limit in fragments", 10, []frame{first(OpText, "01234"), more(""), last("56789")}},
		{"control frames do not count", 5, []frame{first(OpText, "01234"), data(OpPing, pattern(125, 0)), last("")}},
		{"each message counted alone", 4, []frame{data(OpBinary, "0123"), first(OpText, "01"), last("23"), data(OpText, "0123")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(&Reader{MaxMessage: tt.max}, encode(false, tt.frames...), nil)
			if got.err != nil {
				t.Fatalf("err %v", got.err)
			}
		})
	}
}

// TestReaderPartial checks n and ok while a stream arrives piece by piece.
func TestReaderPartial(t *testing.T) {
	frag1 := encode(false, first(OpBinary, "abc")) // 5 bytes
	frag2 := encode(false, more("de"))             // 4 bytes
	ping := encode(false, data(OpPing, "p"))       // 3 bytes
	final := encode(false, last("f"))              // 3 bytes
	stream := slices.Concat(frag1, frag2, ping, final)
	tests := []struct {
		name   string
		prefix int // bytes of stream after what the earlier calls consumed
		wantN  int
		wantOK bool
		want   msg
	}{
		{"empty", 0, 0, false, msg{}},
		{"one byte of header", 1, 0, false, msg{}},
		{"header without payload", 2, 0, false, msg{}},
		{"first fragment less a byte", 4, 0, false, msg{}},
		{"first fragment", 5, 5, false, msg{}},
		{"two fragments and half a ping", 10, 9, false, msg{}},
		{"ping", 12, 12, true, msg{OpPing, "p"}},
		{"whole stream", len(stream), 12, true, msg{OpPing, "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reader
			b := slices.Clone(stream[:tt.prefix])
			m, n, ok, err := r.Next(b)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantN || ok != tt.wantOK || (msg{m.Op, string(m.Payload)}) != tt.want {
				t.Errorf("Next = %v, %d, %v; want %v, %d, %v", msg{m.Op, string(m.Payload)}, n, ok, tt.want, tt.wantN, tt.wantOK)
			}
		})
	}

	t.Run("continue after absorbed fragments", func(t *testing.T) {
		var r Reader
		b := slices.Clone(stream[:10])
		_, n, ok, err := r.Next(b)
		if err != nil || ok || n != 9 {
			t.Fatalf("first call: n %d, ok %v, err %v", n, ok, err)
		}
		b = append(b[n:], stream[10:]...)
		m, n, ok, err := r.Next(b)
		if err != nil || !ok || n != 3 || m.Op != OpPing {
			t.Fatalf("second call: %v, n %d, ok %v, err %v", m, n, ok, err)
		}
		m, n, ok, err = r.Next(b[n:])
		if err != nil || !ok || n != 3 || m.Op != OpBinary || string(m.Payload) != "abcdef" {
			t.Fatalf("third call: %v, n %d, ok %v, err %v", m, n, ok, err)
		}
	})
}

// TestReaderAfterError checks that the Reader keeps returning its first error.
func TestReaderAfterError(t *testing.T) {
	var r Reader
	_, _, _, err1 := r.Next([]byte{0xC1, 0x00})
	_, n, ok, err2 := r.Next(encode(false, data(OpText, "fine")))
	if err1 == nil || err2 != err1 || ok || n != 0 {
		t.Errorf("after %v: Next = n %d, ok %v, err %v; want the same error", err1, n, ok, err2)
	}
}

// TestReaderPayloadAliasing checks where Payload points: into b for an unfragmented
// message, into the Reader for an assembled one, with no spare capacity either way.
func TestReaderPayloadAliasing(t *testing.T) {
	var r Reader
	b := encode(false, data(OpBinary, "abc"), first(OpText, "de"), last("f"))
	m, n, _, _ := r.Next(b)
	if &m.Payload[0] != &b[2] || cap(m.Payload) != 3 {
		t.Errorf("unfragmented payload does not alias b[2:5] with cap 3 (cap %d)", cap(m.Payload))
	}
	m, _, _, _ = r.Next(b[n:])
	if string(m.Payload) != "def" || cap(m.Payload) != 3 {
		t.Errorf("assembled payload %q cap %d, want \"def\" cap 3", m.Payload, cap(m.Payload))
	}
	if bytes.Contains(b, []byte("def")) {
		t.Errorf("assembled payload found in b, want it in the Reader's buffer")
	}
}

// TestReaderUnmasksInPlace checks that a masked payload is unmasked in b.
func TestReaderUnmasksInPlace(t *testing.T) {
	b := AppendFrame(nil, OpText, []byte("secret"), true, [4]byte{9, 8, 7, 6})
	r := Reader{Masked: true}
	m, _, ok, err := r.Next(b)
	if !ok || err != nil || string(m.Payload) != "secret" || string(b[6:]) != "secret" {
		t.Errorf("Next = %q, %v, %v; b = %q", m.Payload, ok, err, b)
	}
}

// TestNextAllocs checks that reading an unfragmented message does not allocate, nor does
// assembling a fragmented one once the Reader's buffer has grown.
func TestNextAllocs(t *testing.T) {
	tests := []struct {
		name   string
		masked bool
		stream []byte
	}{
		{"masked binary 640", true, encode(true, data(OpBinary, pattern(640, 0)))},
		{"unmasked text 50", false, encode(false, data(OpText, pattern(50, 0)))},
		{"unmasked 70000", false, encode(false, data(OpBinary, pattern(70000, 0)))},
		{"fragmented, buffer warm", true, encode(true, first(OpText, "abc"), data(OpPing, ""), last(pattern(1000, 0)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reader{Masked: tt.masked}
			read := func() {
				for b := tt.stream; len(b) > 0; {
					_, n, _, err := r.Next(b)
					if err != nil || n == 0 {
						t.Fatalf("Next: n %d, err %v", n, err)
					}
					b = b[n:]
				}
			}
			read() // warm the assembly buffer
			if allocs := testing.AllocsPerRun(100, read); allocs != 0 {
				t.Errorf("%v allocations per stream, want 0", allocs)
			}
		})
	}
}

// TestReaderDropsBigBuffer checks that a large assembly buffer is not kept for the next
// fragmented message.
func TestReaderDropsBigBuffer(t *testing.T) {
	var r Reader
	big := strings.Repeat("x", maxRetained+1)
	feed(&r, encode(false, first(OpBinary, big), last("")), nil)
	if cap(r.buf) <= maxRetained {
		t.Fatalf("buffer cap %d after a %d-byte message", cap(r.buf), len(big))
	}
	got := feed(&r, encode(false, first(OpBinary, "a"), last("b")), nil)
	if cap(r.buf) > maxRetained || len(got.msgs) != 1 || got.msgs[0].Payload != "ab" {
		t.Errorf("buffer cap %d, messages %v; want a small buffer and \"ab\"", cap(r.buf), got.msgs)
	}
}
