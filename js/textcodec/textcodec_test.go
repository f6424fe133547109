package textcodec_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

func TestTextCodec(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"encode", "const b = new TextEncoder().encode('h€'); if (!(b instanceof Uint8Array)) throw new Error('not Uint8Array'); eq(Array.from(b).join(), '104,226,130,172'); eq(new TextEncoder().encoding, 'utf-8'); eq(new TextEncoder().encode().length, 0);", ""},
		{"encodeInto", "const d = new Uint8Array(4); const r = new TextEncoder().encodeInto('a€b', d); eq(r.read, 2); eq(r.written, 4); eq(Array.from(d).join(), '97,226,130,172');", ""},
		{"decode buffer and views", "const td = new TextDecoder(); const b = new TextEncoder().encode('xh€y'); eq(td.decode(b.buffer), 'xh€y'); eq(td.decode(b.subarray(1, 5)), 'h€'); eq(td.decode(new DataView(b.buffer, 1, 1)), 'h'); eq(td.decode(), ''); eq(td.encoding, 'utf-8');", ""},
		{"labels", "eq(new TextDecoder('UTF8').encoding, 'utf-8'); eq(new TextDecoder('unicode-1-1-utf-8').encoding, 'utf-8');", ""},
		{"unsupported label", "new TextDecoder('latin1');", "RangeError"},
		{"BOM stripped", "eq(new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), 'a');", ""},
		{"BOM kept", "const td = new TextDecoder('utf-8', { ignoreBOM: true }); eq(td.ignoreBOM, true); eq(td.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), '\\ufeffa');", ""},
		{"replacement", "eq(new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0xe2, 0x82, 0x62, 0xf0, 0x90])), 'a\\ufffd\\ufffdb\\ufffd');", ""},
		{"fatal", "const td = new TextDecoder('utf-8', { fatal: true }); eq(td.fatal, true); td.decode(new Uint8Array([0x61, 0xff]));", "TypeError"},
		{"stream", "const td = new TextDecoder(); eq(td.decode(new Uint8Array([0xe2, 0x82]), { stream: true }), ''); eq(td.decode(new Uint8Array([0xac, 0x61])), '€a'); eq(td.decode(new Uint8Array([0xe2])), '\\ufffd');", ""},
		{"not a buffer", "new TextDecoder().decode('abc');", "TypeError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "function eq(got, want) { if (got !== want) throw new Error('got ' + got + ', want ' + want); }\n"+
				"export default function () { "+tc.body+" }\n", nil)
			err := h.Run(t)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
