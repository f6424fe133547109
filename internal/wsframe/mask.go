package wsframe

import "encoding/binary"

// maskBytes sets dst[i] = src[i] ^ key[i%4] for i in [0, len(src)). dst must be at least
// as long as src; dst and src may be the same slice (in-place unmasking) but must not
// otherwise overlap. It works on 64-bit words, 32 bytes per iteration, with the key
// repeated twice in a uint64; the byte order of the word does not matter as long as the
// key word is built in the same order as the loads and stores.
func maskBytes(dst, src []byte, key [4]byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k := uint64(k32)<<32 | uint64(k32)
	n := len(src)
	dst = dst[:n]
	i := 0
	for ; n-i >= 32; i += 32 {
		s := src[i : i+32 : i+32]
		d := dst[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(d[0:], binary.LittleEndian.Uint64(s[0:])^k)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^k)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^k)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^k)
	}
	for ; n-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^k)
	}
	// i is a multiple of 8 here, so the key phase is back at key[0].
	for j := 0; i < n; i, j = i+1, j+1 {
		dst[i] = src[i] ^ key[j&3]
	}
}
