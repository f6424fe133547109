package encoding_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

func TestBase64(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"std round trip", "if (encoding.b64encode('hi?') !== 'aGk/' || encoding.b64decode('aGk/', 'std', 's') !== 'hi?') throw new Error('std');", ""},
		{"url and raw", "if (b64encode('hi?', 'rawurl') !== 'aGk_' || b64decode('aGk_', 'rawurl', 's') !== 'hi?') throw new Error('rawurl');", ""},
		{"array buffer", "const b = b64decode('aGk='); if (!(b instanceof ArrayBuffer) || b.byteLength !== 2 || b64encode(b) !== 'aGk=') throw new Error('ab');", ""},
		{"bad input", "b64decode('%%%');", "b64decode"},
		{"bad encoding", "b64encode('x', 'hex');", "unknown base64 encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import encoding from 'k6/encoding';\nimport { b64encode, b64decode } from 'k6/encoding';\nexport default function () { "+tc.body+" }\n", nil)
			err := h.Run(t)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
