package stream

import (
	"encoding/json"
	"testing"
)

func TestParseServerMsg(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    serverMsg
		wantErr bool
	}{
		{"ack", `{"type":"chunk_ack","seq":7,"client_seq":3}`, serverMsg{typ: msgAck, seq: 7, clientSeq: 3, hasClientSeq: true}, false},
		{"ack with spaces and order", " { \"client_seq\" : 12 ,\n \"type\":\"chunk_ack\" } ", serverMsg{typ: msgAck, clientSeq: 12, hasClientSeq: true}, false},
		{"ack without client_seq", `{"type":"chunk_ack","seq":2}`, serverMsg{typ: msgAck, seq: 2}, false},
		{"integral float", `{"type":"chunk_ack","client_seq":4.0}`, serverMsg{typ: msgAck, clientSeq: 4, hasClientSeq: true}, false},
		{"ready", `{"type":"ready","session_id":"a\"b"}`, serverMsg{typ: msgReady}, false},
		{"inference nested", `{"type":"inference","response":"ok","latency_ms":12.5,"crisis":{"detected":true,"risk_level":"high","confidence":0.9},"bias":{"detected":false,"categories":[],"score":0},"x":[1,[2,{"y":null}]]}`, serverMsg{typ: msgInference}, false},
		{"error", `{"type":"error","message":"bad frame"}`, serverMsg{typ: msgError}, false},
		{"escaped names and values", `{"typ\u0065":"chunk\u005fack","client\u005fseq":5}`, serverMsg{typ: msgAck, clientSeq: 5, hasClientSeq: true}, false},
		{"unknown type ignored", `{"type":"progress","pct":50}`, serverMsg{typ: msgOther}, false},
		{"not json", `hello`, serverMsg{}, true},
		{"array", `[1,2]`, serverMsg{}, true},
		{"empty object", `{}`, serverMsg{}, true},
		{"no type", `{"seq":1}`, serverMsg{}, true},
		{"type not string", `{"type":1}`, serverMsg{}, true},
		{"fractional seq", `{"type":"chunk_ack","client_seq":1.5}`, serverMsg{}, true},
		{"truncated", `{"type":"chunk_ack","client_seq":1`, serverMsg{}, true},
		{"trailing garbage", `{"type":"ready"} x`, serverMsg{}, true},
		{"bad nested", `{"type":"inference","crisis":{"detected":tru}}`, serverMsg{}, true},
		{"empty", ``, serverMsg{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseServerMsg([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("parseServerMsg(%q) error = %v, wantErr %v", c.in, err, c.wantErr)
			}
			if err == nil && got != c.want {
				t.Fatalf("parseServerMsg(%q) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

func TestParseServerMsgNoAllocs(t *testing.T) {
	b := []byte(`{"type":"chunk_ack","seq":7,"client_seq":3}`)
	if n := testing.AllocsPerRun(100, func() { _, _ = parseServerMsg(b) }); n != 0 {
		t.Fatalf("parseServerMsg allocates %v times per ack", n)
	}
}

// FuzzParseServerMsg checks that the parser never panics and that whatever it accepts is
// valid JSON (it may reject valid JSON it does not need, never accept invalid JSON).
func FuzzParseServerMsg(f *testing.F) {
	for _, s := range []string{`{"type":"chunk_ack","seq":7,"client_seq":3}`, `{"type":"inference","crisis":{"a":[1,2]}}`, `{}`, `x`, `{"type":"a\u0041"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseServerMsg(b)
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		// The type is the one encoding/json decodes (names compared exactly, the last of
		// duplicates wins).
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		want := map[any]msgType{"ready": msgReady, "chunk_ack": msgAck, "inference": msgInference, "error": msgError}[obj["type"]]
		if m.typ != want {
			t.Fatalf("%q: type %d, encoding/json %q", b, m.typ, obj["type"])
		}
	})
}

func BenchmarkParseAck(b *testing.B) {
	msg := []byte(`{"type":"chunk_ack","seq":1234,"client_seq":42}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseServerMsg(msg); err != nil {
			b.Fatal(err)
		}
	}
}
