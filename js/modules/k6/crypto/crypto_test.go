package crypto_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// Known answers: FIPS 180-4 / RFC 1320 / RFC 1321 / the RIPEMD-160 paper's "abc", RFC 4231
// test case 2 for HMAC, and k6's documented outputs.
func TestCrypto(t *testing.T) {
	tests := []struct{ name, body, wantErr string }{
		{"md4", "eq(crypto.md4('abc', 'hex'), 'a448017aaf21d8525fc10ae87aa6729d');", ""},
		{"md5", "eq(crypto.md5('abc', 'hex'), '900150983cd24fb0d6963f7d28e17f72');", ""},
		{"sha1", "eq(sha1('abc', 'hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');", ""},
		{"sha256", "eq(sha256('abc', 'hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');", ""},
		{"sha384", "eq(crypto.sha384('abc', 'hex'), 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7');", ""},
		{"sha512", "eq(crypto.sha512('abc', 'hex'), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');", ""},
		{"sha512_224", "eq(crypto.sha512_224('abc', 'hex'), '4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa');", ""},
		{"sha512_256", "eq(crypto.sha512_256('abc', 'hex'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');", ""},
		{"ripemd160", "eq(crypto.ripemd160('abc', 'hex'), '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc');", ""},
		{"base64 variants", "eq(crypto.md5('abc', 'base64'), 'kAFQmDzST7DWlj99KOF/cg=='); eq(crypto.md5('abc', 'base64url'), 'kAFQmDzST7DWlj99KOF_cg=='); eq(crypto.md5('abc', 'base64rawurl'), 'kAFQmDzST7DWlj99KOF_cg');", ""},
		{"binary", "const b = crypto.sha1('abc', 'binary'); if (!(b instanceof ArrayBuffer) || b.byteLength !== 20 || new Uint8Array(b)[0] !== 0xa9) throw new Error('binary');", ""},
		{"array buffer input", "eq(crypto.md5(new Uint8Array([97, 98, 99]).buffer, 'hex'), '900150983cd24fb0d6963f7d28e17f72'); eq(crypto.md5(new Uint8Array([0, 97, 98, 99]).subarray(1), 'hex'), '900150983cd24fb0d6963f7d28e17f72');", ""},
		{"utf-8 strings", "eq(crypto.sha1('é', 'hex'), crypto.sha1(new Uint8Array([0xc3, 0xa9]).buffer, 'hex'));", ""},
		{"hmac RFC 4231 case 2", "eq(hmac('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');", ""},
		{"createHMAC as documented", "const h = crypto.createHMAC('sha256', 'a secret'); h.update('my '); h.update('data'); eq(h.digest('hex'), '82f669c8fde13aef6d6977257588dc4953dfac505428f8fd6b52e19cd96d7ea5'); eq(crypto.hmac('sha256', 'a secret', 'my data', 'hex'), '82f669c8fde13aef6d6977257588dc4953dfac505428f8fd6b52e19cd96d7ea5');", ""},
		{"createHash as documented", "const h = crypto.createHash('sha256'); h.update('hello '); h.update('world!'); eq(h.digest('hex'), '7509e5bda0c762d2bac7f90d758b5b2263fa01ccbc542ab5e3df163be08e6ca9'); h.update('x'); eq(h.digest('hex'), crypto.sha256('hello world!x', 'hex'));", ""},
		{"missing input hashes nothing", "eq(crypto.md5(undefined, 'hex'), crypto.md5('undefined', 'hex')); eq(crypto.createHash('md5').digest('hex'), 'd41d8cd98f00b204e9800998ecf8427e');", ""},
		{"randomBytes", "const a = crypto.randomBytes(42); if (!(a instanceof ArrayBuffer) || a.byteLength !== 42) throw new Error('randomBytes');", ""},
		{"bad algorithm", "crypto.createHash('sha3');", "invalid algorithm"},
		{"bad encoding", "crypto.sha256('x', 'base32');", "invalid output encoding"},
		{"bad size", "crypto.randomBytes(-1);", "invalid size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jstest.MustLoad(t, "import crypto from 'k6/crypto';\nimport { sha1, sha256, hmac } from 'k6/crypto';\n"+
				"function eq(got, want) { if (got !== want) throw new Error('got ' + got + ', want ' + want); }\n"+
				"export default function () { "+tc.body+" }\n", nil)
			err := h.Run(t)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
