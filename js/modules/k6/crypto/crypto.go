// Package crypto is the k6/crypto module: one-shot hashes (md4, md5, sha1, sha256, sha384,
// sha512, sha512_224, sha512_256, ripemd160), hmac, the incremental createHash and createHMAC
// hashers, and randomBytes. Inputs are strings (hashed as UTF-8) or ArrayBuffers (typed arrays
// and DataViews too); outputs are "hex", "base64", "base64url", "base64rawurl" strings or, with
// "binary", an ArrayBuffer.
package crypto

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/dop251/goja"
	"golang.org/x/crypto/md4"       //lint:ignore SA1019 k6/crypto offers md4
	"golang.org/x/crypto/ripemd160" //lint:ignore SA1019 k6/crypto offers ripemd160

	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/crypto", Root{}) }

// Root is the k6/crypto module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

// algorithms are the hash functions k6/crypto names.
var algorithms = map[string]func() hash.Hash{
	"md4":        md4.New,
	"md5":        md5.New,
	"sha1":       sha1.New,
	"sha256":     sha256.New,
	"sha384":     sha512.New384,
	"sha512":     sha512.New,
	"sha512_224": sha512.New512_224,
	"sha512_256": sha512.New512_256,
	"ripemd160":  ripemd160.New,
}

// NewHash returns the hash k6/crypto names alg (md4 ... ripemd160).
func NewHash(alg string) (func() hash.Hash, error) {
	if h, ok := algorithms[alg]; ok {
		return h, nil
	}
	return nil, fmt.Errorf("invalid algorithm %q (want md4, md5, sha1, sha256, sha384, sha512, sha512_224, sha512_256 or ripemd160)", alg)
}

func (m *instance) Exports() modules.Exports {
	named := map[string]any{
		"hmac":        m.hmac,
		"createHash":  m.createHash,
		"createHMAC":  m.createHMAC,
		"randomBytes": m.randomBytes,
	}
	for name := range algorithms {
		named[name] = m.oneShot(name)
	}
	return modules.Exports{Default: named, Named: named}
}

func (m *instance) throw(err error) { panic(m.vu.Runtime().NewGoError(err)) }

// Bytes returns the bytes of a script value: an ArrayBuffer, a typed array or DataView (its
// view), or anything else as its string's UTF-8.
func Bytes(rt *goja.Runtime, v goja.Value) []byte {
	if v == nil {
		return nil
	}
	switch x := v.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes()
	case []byte:
		return x
	}
	if o, ok := v.(*goja.Object); ok {
		if buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer); ok {
			off, n := o.Get("byteOffset").ToInteger(), o.Get("byteLength").ToInteger()
			b := buf.Bytes()
			if off >= 0 && n >= 0 && off+n <= int64(len(b)) {
				return b[off : off+n]
			}
		}
	}
	return []byte(v.String())
}

// encode renders a digest in one of k6's output encodings.
func encode(rt *goja.Runtime, sum []byte, enc string) (goja.Value, error) {
	switch enc {
	case "hex":
		return rt.ToValue(hex.EncodeToString(sum)), nil
	case "base64":
		return rt.ToValue(base64.StdEncoding.EncodeToString(sum)), nil
	case "base64url":
		return rt.ToValue(base64.URLEncoding.EncodeToString(sum)), nil
	case "base64rawurl":
		return rt.ToValue(base64.RawURLEncoding.EncodeToString(sum)), nil
	case "binary":
		return rt.ToValue(rt.NewArrayBuffer(sum)), nil
	}
	return nil, fmt.Errorf("invalid output encoding %q (want hex, base64, base64url, base64rawurl or binary)", enc)
}

// oneShot is crypto.<alg>(input, outputEncoding).
func (m *instance) oneShot(alg string) func(goja.Value, string) goja.Value {
	newHash := algorithms[alg]
	return func(input goja.Value, enc string) goja.Value {
		rt := m.vu.Runtime()
		h := newHash()
		h.Write(Bytes(rt, input))
		v, err := encode(rt, h.Sum(nil), enc)
		if err != nil {
			m.throw(fmt.Errorf("%s: %w", alg, err))
		}
		return v
	}
}

// hmac(algorithm, secret, data, outputEncoding).
func (m *instance) hmac(alg string, secret, data goja.Value, enc string) goja.Value {
	h := m.newHasher(alg, secret, true)
	h.h.Write(Bytes(m.vu.Runtime(), data))
	return h.Digest(enc)
}

func (m *instance) newHasher(alg string, secret goja.Value, keyed bool) *Hasher {
	newHash, err := NewHash(alg)
	if err != nil {
		m.throw(err)
	}
	h := &Hasher{m: m}
	if keyed {
		h.h = hmac.New(newHash, Bytes(m.vu.Runtime(), secret))
	} else {
		h.h = newHash()
	}
	return h
}

// createHash(algorithm) returns a Hasher.
func (m *instance) createHash(alg string) *Hasher { return m.newHasher(alg, nil, false) }

// createHMAC(algorithm, secret) returns a keyed Hasher.
func (m *instance) createHMAC(alg string, secret goja.Value) *Hasher {
	return m.newHasher(alg, secret, true)
}

// Hasher is what createHash and createHMAC return: update adds data, digest returns the
// digest of everything added so far (more may be added afterwards, as in k6).
type Hasher struct {
	m *instance
	h hash.Hash
}

// Update adds data (a string or an ArrayBuffer).
func (h *Hasher) Update(data goja.Value) { h.h.Write(Bytes(h.m.vu.Runtime(), data)) }

// Digest returns the digest so far in an output encoding.
func (h *Hasher) Digest(enc string) goja.Value {
	v, err := encode(h.m.vu.Runtime(), h.h.Sum(nil), enc)
	if err != nil {
		h.m.throw(err)
	}
	return v
}

// randomBytes(n) returns an ArrayBuffer of n cryptographically random bytes.
func (m *instance) randomBytes(n int64) goja.Value {
	if n < 1 || n > 1<<30 {
		m.throw(fmt.Errorf("randomBytes: invalid size %d (want 1 to 2^30)", n))
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return m.vu.Runtime().ToValue(m.vu.Runtime().NewArrayBuffer(b))
}
