package webcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// FuzzCTR: with a 128-bit counter, ctr is the standard library's CTR mode (which increments
// the whole block); with a shorter one it agrees until the low bits wrap.
func FuzzCTR(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xff}, 16), 40, uint8(128))
	f.Add([]byte("0123456789abcdef"), 100, uint8(64))
	f.Add([]byte("0123456789abcdef"), 5, uint8(8))
	f.Fuzz(func(t *testing.T, iv []byte, n int, bits uint8) {
		if len(iv) != aes.BlockSize || n < 0 || n > 4096 || bits < 1 || bits > 128 {
			return
		}
		block, err := aes.NewCipher([]byte("k6 ctr fuzz key!"))
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{0x5a}, n)
		got, err := ctr(block, iv, int(bits), data)
		if err != nil {
			return // the counter would repeat
		}
		want := make([]byte, n)
		cipher.NewCTR(block, iv).XORKeyStream(want, data)
		if bits == 128 && !bytes.Equal(got, want) {
			t.Fatalf("ctr(iv %x, %d bytes, 128 bits) differs from cipher.NewCTR", iv, n)
		}
		// Before any wrap of the low bits, both agree.
		if bits < 128 && n > 0 && !bytes.Equal(got[:min(n, 16)], want[:min(n, 16)]) {
			t.Fatalf("first block differs")
		}
	})
}
