package webcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"slices"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// CryptoKey is the script's CryptoKey: its type ("secret", "public" or "private"), whether
// it may be exported, its algorithm (name and parameters) and usages. The key material is
// not visible to the script.
type CryptoKey struct {
	Type        string   `js:"type"`
	Extractable bool     `js:"extractable"`
	Algorithm   any      `js:"algorithm"` // a map until toJS makes it an object with ordered keys
	Usages      []string `js:"usages"`
	k           keyData
}

type keyData struct {
	alg    string // the algorithm's spelling
	hash   string // HMAC, RSA and PBKDF2's hash
	secret []byte // HMAC, AES, PBKDF2
	curve  string // ECDSA, ECDH
	ecPriv *ecdsa.PrivateKey
	ecPub  *ecdsa.PublicKey
	rsaPri *rsa.PrivateKey
	rsaPub *rsa.PublicKey
}

// usageRule lists the usages a key of an algorithm may have: secret keys use secret,
// key pairs public and private.
type usageRule struct{ secret, public, private []string }

var usageRules = map[string]usageRule{
	algHMAC:     {secret: []string{"sign", "verify"}},
	algAESGCM:   {secret: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
	algAESCBC:   {secret: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
	algAESCTR:   {secret: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
	algPBKDF2:   {secret: []string{"deriveKey", "deriveBits"}},
	algECDSA:    {public: []string{"verify"}, private: []string{"sign"}},
	algECDH:     {public: []string{}, private: []string{"deriveKey", "deriveBits"}},
	algRSAOAEP:  {public: []string{"encrypt", "wrapKey"}, private: []string{"decrypt", "unwrapKey"}},
	algRSAPSS:   {public: []string{"verify"}, private: []string{"sign"}},
	algRSAPKCS1: {public: []string{"verify"}, private: []string{"sign"}},
}

var curves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// checkUsages fails with SyntaxError when a usage is not allowed, or when a secret or
// private key would have none.
func checkUsages(alg string, usages, allowed []string, typ string) error {
	for _, u := range usages {
		if !slices.Contains(allowed, u) {
			return errorf(SyntaxError, "usage %q is not allowed for a %s %s key (allowed: %v)", u, alg, typ, allowed)
		}
	}
	if len(usages) == 0 && typ != "public" {
		return errorf(SyntaxError, "a %s %s key needs at least one usage", alg, typ)
	}
	return nil
}

func intersect(usages, allowed []string) []string {
	out := []string{}
	for _, u := range usages {
		if slices.Contains(allowed, u) && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func newKey(typ string, extractable bool, usages []string, k keyData) *CryptoKey {
	return &CryptoKey{Type: typ, Extractable: extractable, Usages: usages, k: k, Algorithm: k.algorithm(typ)}
}

// algorithm is the key's algorithm object.
func (k keyData) algorithm(typ string) map[string]any {
	a := map[string]any{"name": k.alg}
	switch k.alg {
	case algHMAC:
		a["hash"] = map[string]any{"name": k.hash}
		a["length"] = len(k.secret) * 8
	case algAESGCM, algAESCBC, algAESCTR:
		a["length"] = len(k.secret) * 8
	case algECDSA, algECDH:
		a["namedCurve"] = k.curve
	case algRSAOAEP, algRSAPSS, algRSAPKCS1:
		pub := k.rsaPub
		a["hash"] = map[string]any{"name": k.hash}
		a["modulusLength"] = pub.N.BitLen()
		a["publicExponent"] = big.NewInt(int64(pub.E)).Bytes()
	}
	return a
}

// keyPairOf makes the two CryptoKeys of a key pair; the public key is always extractable.
func keyPairOf(k keyData, extractable bool, usages []string) (keyPair, error) {
	rule := usageRules[k.alg]
	if err := checkUsages(k.alg, usages, append(slices.Clone(rule.public), rule.private...), "private"); err != nil {
		return keyPair{}, err
	}
	pub, priv := k, k
	pub.ecPriv, pub.rsaPri = nil, nil
	private := newKey("private", extractable, intersect(usages, rule.private), priv)
	if len(private.Usages) == 0 {
		return keyPair{}, errorf(SyntaxError, "the %s private key would have no usage", k.alg)
	}
	return keyPair{public: newKey("public", true, intersect(usages, rule.public), pub), private: private}, nil
}

// generateKey(algorithm, extractable, usages) → Promise<CryptoKey | CryptoKeyPair>.
func (s *subtle) generateKey(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		rt := s.vu.Runtime()
		name, params, err := algorithm(rt, call.Argument(0))
		if err != nil {
			return nil, err
		}
		extractable := call.Argument(1).ToBoolean()
		usages, err := usagesArg(rt, call.Argument(2))
		if err != nil {
			return nil, err
		}
		rule, ok := usageRules[name]
		if !ok || name == algPBKDF2 {
			return nil, errorf(NotSupportedError, "generateKey: algorithm %q is not supported", name)
		}
		if rule.secret != nil {
			if err := checkUsages(name, usages, rule.secret, "secret"); err != nil {
				return nil, err
			}
		}
		switch name {
		case algHMAC:
			h, err := hashParam(rt, params, "hash")
			if err != nil {
				return nil, err
			}
			bits := int64(hashes[h]().BlockSize() * 8)
			if l := param(params, "length"); !modules.IsNullish(l) {
				bits = l.ToInteger()
			}
			if bits <= 0 || bits%8 != 0 {
				return nil, errorf(OperationError, "generateKey: HMAC length %d is not a positive multiple of 8", bits)
			}
			return func() (any, error) {
				b := make([]byte, bits/8)
				_, _ = rand.Read(b)
				return newKey("secret", extractable, usages, keyData{alg: name, hash: h, secret: b}), nil
			}, nil
		case algAESGCM, algAESCBC, algAESCTR:
			bits := param(params, "length").ToInteger()
			if bits != 128 && bits != 192 && bits != 256 {
				return nil, errorf(OperationError, "generateKey: %s length must be 128, 192 or 256, got %d", name, bits)
			}
			return func() (any, error) {
				b := make([]byte, bits/8)
				_, _ = rand.Read(b)
				return newKey("secret", extractable, usages, keyData{alg: name, secret: b}), nil
			}, nil
		case algECDSA, algECDH:
			crv := param(params, "namedCurve").String()
			curve, ok := curves[crv]
			if !ok {
				return nil, errorf(NotSupportedError, "generateKey: curve %q is not supported (want P-256, P-384 or P-521)", crv)
			}
			return func() (any, error) {
				priv, err := ecdsa.GenerateKey(curve, rand.Reader)
				if err != nil {
					return nil, errorf(OperationError, "generateKey: %v", err)
				}
				return keyPairOf(keyData{alg: name, curve: crv, ecPriv: priv, ecPub: &priv.PublicKey}, extractable, usages)
			}, nil
		default: // RSA
			h, err := hashParam(rt, params, "hash")
			if err != nil {
				return nil, err
			}
			bits := param(params, "modulusLength").ToInteger()
			if bits < 1024 || bits > 16384 {
				return nil, errorf(OperationError, "generateKey: modulusLength %d out of range (1024 to 16384)", bits)
			}
			e, err := bytesParam(params, "publicExponent")
			if err != nil {
				return nil, err
			}
			if new(big.Int).SetBytes(e).Int64() != 65537 {
				return nil, errorf(NotSupportedError, "generateKey: only the public exponent 65537 is supported")
			}
			return func() (any, error) {
				priv, err := rsa.GenerateKey(rand.Reader, int(bits))
				if err != nil {
					return nil, errorf(OperationError, "generateKey: %v", err)
				}
				return keyPairOf(keyData{alg: name, hash: h, rsaPri: priv, rsaPub: &priv.PublicKey}, extractable, usages)
			}, nil
		}
	})
}

var b64 = base64.RawURLEncoding

// importKey(format, keyData, algorithm, extractable, usages) → Promise<CryptoKey>.
func (s *subtle) importKey(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		rt := s.vu.Runtime()
		format := call.Argument(0).String()
		name, params, err := algorithm(rt, call.Argument(2))
		if err != nil {
			return nil, err
		}
		extractable := call.Argument(3).ToBoolean()
		usages, err := usagesArg(rt, call.Argument(4))
		if err != nil {
			return nil, err
		}
		rule, ok := usageRules[name]
		if !ok {
			return nil, errorf(NotSupportedError, "importKey: algorithm %q is not supported", name)
		}
		var raw []byte
		var jwk map[string]any
		switch format {
		case "raw", "spki", "pkcs8":
			if raw, err = bufferSource(call.Argument(1)); err != nil {
				return nil, err
			}
		case "jwk":
			o, ok := call.Argument(1).(*goja.Object)
			if !ok {
				return nil, errorf(TypeError, "importKey: a jwk key must be an object")
			}
			jwk = map[string]any{}
			for _, k := range o.Keys() {
				jwk[k] = o.Get(k).Export()
			}
		default:
			return nil, errorf(TypeError, "importKey: unknown format %q (want raw, jwk, spki or pkcs8)", format)
		}
		k := keyData{alg: name}
		switch name {
		case algHMAC, algRSAOAEP, algRSAPSS, algRSAPKCS1:
			if k.hash, err = hashParam(rt, params, "hash"); err != nil {
				return nil, err
			}
		case algECDSA, algECDH:
			k.curve = param(params, "namedCurve").String()
			if _, ok := curves[k.curve]; !ok {
				return nil, errorf(NotSupportedError, "importKey: curve %q is not supported (want P-256, P-384 or P-521)", k.curve)
			}
		}
		var hmacLen int64
		if name == algHMAC {
			if l := param(params, "length"); !modules.IsNullish(l) {
				hmacLen = l.ToInteger()
			}
		}
		return func() (any, error) {
			typ, err := k.load(format, raw, jwk)
			if err != nil {
				return nil, err
			}
			if hmacLen != 0 && hmacLen != int64(len(k.secret))*8 {
				return nil, errorf(DataError, "importKey: HMAC length %d differs from the key's %d bits", hmacLen, len(k.secret)*8)
			}
			if name == algPBKDF2 && extractable {
				return nil, errorf(SyntaxError, "importKey: PBKDF2 keys cannot be extractable")
			}
			allowed := rule.secret
			switch typ {
			case "public":
				allowed = rule.public
			case "private":
				allowed = rule.private
			}
			if err := checkUsages(name, usages, allowed, typ); err != nil {
				return nil, err
			}
			if ops, ok := jwk["key_ops"].([]any); ok {
				for _, u := range usages {
					if !slices.Contains(ops, any(u)) {
						return nil, errorf(DataError, "importKey: usage %q is not in the JWK's key_ops", u)
					}
				}
			}
			if ext, ok := jwk["ext"].(bool); ok && !ext && extractable {
				return nil, errorf(DataError, "importKey: the JWK is not extractable (ext: false)")
			}
			return newKey(typ, extractable || typ == "public", usages, k), nil
		}, nil
	})
}

// load fills the key material from raw bytes or a JWK, and returns the key's type.
func (k *keyData) load(format string, raw []byte, jwk map[string]any) (string, error) {
	switch k.alg {
	case algHMAC, algAESGCM, algAESCBC, algAESCTR, algPBKDF2:
		switch format {
		case "raw":
			k.secret = raw
		case "jwk":
			if k.alg == algPBKDF2 {
				return "", errorf(NotSupportedError, "importKey: PBKDF2 keys import from raw only")
			}
			if jwk["kty"] != "oct" {
				return "", errorf(DataError, "importKey: JWK kty %v, want oct", jwk["kty"])
			}
			b, err := jwkBytes(jwk, "k")
			if err != nil {
				return "", err
			}
			k.secret = b
			if alg, ok := jwk["alg"].(string); ok && alg != k.jwkAlg(len(b)*8) {
				return "", errorf(DataError, "importKey: JWK alg %q does not match %s", alg, k.jwkAlg(len(b)*8))
			}
		default:
			return "", errorf(NotSupportedError, "importKey: %s keys cannot be imported from %s", k.alg, format)
		}
		switch k.alg {
		case algAESGCM, algAESCBC, algAESCTR:
			if n := len(k.secret); n != 16 && n != 24 && n != 32 {
				return "", errorf(DataError, "importKey: an AES key is 128, 192 or 256 bits, not %d", n*8)
			}
		case algHMAC:
			if len(k.secret) == 0 {
				return "", errorf(DataError, "importKey: empty HMAC key")
			}
		}
		return "secret", nil
	case algECDSA, algECDH:
		return k.loadEC(format, raw, jwk)
	}
	return k.loadRSA(format, raw, jwk)
}

func (k *keyData) loadEC(format string, raw []byte, jwk map[string]any) (string, error) {
	curve := curves[k.curve]
	switch format {
	case "raw":
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		k.ecPub = pub
		return "public", nil
	case "spki":
		key, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != curve {
			return "", errorf(DataError, "importKey: the SPKI key is not an EC key on %s", k.curve)
		}
		k.ecPub = pub
		return "public", nil
	case "pkcs8":
		key, err := x509.ParsePKCS8PrivateKey(raw)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		priv, ok := key.(*ecdsa.PrivateKey)
		if !ok || priv.Curve != curve {
			return "", errorf(DataError, "importKey: the PKCS #8 key is not an EC key on %s", k.curve)
		}
		k.ecPriv, k.ecPub = priv, &priv.PublicKey
		return "private", nil
	case "jwk":
		if jwk["kty"] != "EC" || jwk["crv"] != k.curve {
			return "", errorf(DataError, "importKey: JWK kty %v crv %v, want EC %s", jwk["kty"], jwk["crv"], k.curve)
		}
		x, err := jwkBytes(jwk, "x")
		if err != nil {
			return "", err
		}
		y, err := jwkBytes(jwk, "y")
		if err != nil {
			return "", err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		k.ecPub = pub
		if _, ok := jwk["d"]; !ok {
			return "public", nil
		}
		d, err := jwkBytes(jwk, "d")
		if err != nil {
			return "", err
		}
		priv, err := ecdsa.ParseRawPrivateKey(curve, d)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		if !priv.PublicKey.Equal(pub) {
			return "", errorf(DataError, "importKey: the JWK's d does not match its x and y")
		}
		k.ecPriv = priv
		return "private", nil
	}
	return "", errorf(NotSupportedError, "importKey: format %q is not supported for %s", format, k.alg)
}

func (k *keyData) loadRSA(format string, raw []byte, jwk map[string]any) (string, error) {
	switch format {
	case "spki":
		key, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return "", errorf(DataError, "importKey: the SPKI key is not an RSA key")
		}
		k.rsaPub = pub
		return "public", nil
	case "pkcs8":
		key, err := x509.ParsePKCS8PrivateKey(raw)
		if err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		priv, ok := key.(*rsa.PrivateKey)
		if !ok {
			return "", errorf(DataError, "importKey: the PKCS #8 key is not an RSA key")
		}
		k.rsaPri, k.rsaPub = priv, &priv.PublicKey
		return "private", nil
	case "jwk":
		if jwk["kty"] != "RSA" {
			return "", errorf(DataError, "importKey: JWK kty %v, want RSA", jwk["kty"])
		}
		if alg, ok := jwk["alg"].(string); ok && alg != k.jwkAlg(0) {
			return "", errorf(DataError, "importKey: JWK alg %q does not match %s", alg, k.jwkAlg(0))
		}
		n, err := jwkInt(jwk, "n")
		if err != nil {
			return "", err
		}
		e, err := jwkInt(jwk, "e")
		if err != nil {
			return "", err
		}
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return "", errorf(DataError, "importKey: RSA exponent out of range")
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		k.rsaPub = pub
		if _, ok := jwk["d"]; !ok {
			return "public", nil
		}
		priv := &rsa.PrivateKey{PublicKey: *pub}
		if priv.D, err = jwkInt(jwk, "d"); err != nil {
			return "", err
		}
		p, err := jwkInt(jwk, "p")
		if err != nil {
			return "", err
		}
		q, err := jwkInt(jwk, "q")
		if err != nil {
			return "", err
		}
		priv.Primes = []*big.Int{p, q}
		if err := priv.Validate(); err != nil {
			return "", errorf(DataError, "importKey: %v", err)
		}
		priv.Precompute()
		k.rsaPri, k.rsaPub = priv, &priv.PublicKey
		return "private", nil
	}
	return "", errorf(NotSupportedError, "importKey: format %q is not supported for %s", format, k.alg)
}

func jwkBytes(jwk map[string]any, name string) ([]byte, error) {
	s, ok := jwk[name].(string)
	if !ok {
		return nil, errorf(DataError, "importKey: the JWK has no %q", name)
	}
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, errorf(DataError, "importKey: JWK %q: %v", name, err)
	}
	return b, nil
}

func jwkInt(jwk map[string]any, name string) (*big.Int, error) {
	b, err := jwkBytes(jwk, name)
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

// jwkAlg is the JWK "alg" of a key (bits: a secret key's size).
func (k keyData) jwkAlg(bits int) string {
	suffix := map[string]string{algSHA1: "1", algSHA256: "256", algSHA384: "384", algSHA512: "512"}[k.hash]
	switch k.alg {
	case algHMAC:
		return "HS" + suffix
	case algAESGCM:
		return "A" + itoa(bits) + "GCM"
	case algAESCBC:
		return "A" + itoa(bits) + "CBC"
	case algAESCTR:
		return "A" + itoa(bits) + "CTR"
	case algRSAOAEP:
		if k.hash == algSHA1 {
			return "RSA-OAEP"
		}
		return "RSA-OAEP-" + suffix
	case algRSAPSS:
		return "PS" + suffix
	case algRSAPKCS1:
		return "RS" + suffix
	}
	return ""
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// exportKey(format, key) → Promise<ArrayBuffer | JsonWebKey>.
func (s *subtle) exportKey(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		format := call.Argument(0).String()
		key, ok := call.Argument(1).Export().(*CryptoKey)
		if !ok {
			return nil, errorf(TypeError, "exportKey: want a CryptoKey, got %s", call.Argument(1))
		}
		switch format {
		case "raw", "jwk", "spki", "pkcs8":
		default:
			return nil, errorf(TypeError, "exportKey: unknown format %q (want raw, jwk, spki or pkcs8)", format)
		}
		if !key.Extractable {
			return nil, errorf(InvalidAccessError, "exportKey: the key is not extractable")
		}
		return func() (any, error) { return key.export(format) }, nil
	})
}

func (key *CryptoKey) export(format string) (any, error) {
	k := key.k
	notSupported := errorf(NotSupportedError, "exportKey: a %s %s key cannot be exported as %s", k.alg, key.Type, format)
	if format == "jwk" {
		jwk := map[string]any{"ext": key.Extractable, "key_ops": key.Usages}
		switch {
		case key.Type == "secret" && k.alg != algPBKDF2:
			jwk["kty"], jwk["k"], jwk["alg"] = "oct", b64.EncodeToString(k.secret), k.jwkAlg(len(k.secret)*8)
		case k.ecPub != nil:
			pt, err := k.ecPub.Bytes()
			if err != nil {
				return nil, errorf(OperationError, "exportKey: %v", err)
			}
			n := (len(pt) - 1) / 2
			jwk["kty"], jwk["crv"], jwk["x"], jwk["y"] = "EC", k.curve, b64.EncodeToString(pt[1:1+n]), b64.EncodeToString(pt[1+n:])
			if key.Type == "private" {
				d, err := k.ecPriv.Bytes()
				if err != nil {
					return nil, errorf(OperationError, "exportKey: %v", err)
				}
				jwk["d"] = b64.EncodeToString(d)
			}
		case k.rsaPub != nil:
			jwk["kty"], jwk["alg"] = "RSA", k.jwkAlg(0)
			jwk["n"], jwk["e"] = b64.EncodeToString(k.rsaPub.N.Bytes()), b64.EncodeToString(big.NewInt(int64(k.rsaPub.E)).Bytes())
			if key.Type == "private" {
				p := k.rsaPri
				jwk["d"], jwk["p"], jwk["q"] = b64.EncodeToString(p.D.Bytes()), b64.EncodeToString(p.Primes[0].Bytes()), b64.EncodeToString(p.Primes[1].Bytes())
				jwk["dp"], jwk["dq"], jwk["qi"] = b64.EncodeToString(p.Precomputed.Dp.Bytes()), b64.EncodeToString(p.Precomputed.Dq.Bytes()), b64.EncodeToString(p.Precomputed.Qinv.Bytes())
			}
		default:
			return nil, notSupported
		}
		return jwk, nil
	}
	switch {
	case format == "raw" && key.Type == "secret" && k.alg != algPBKDF2:
		return slices.Clone(k.secret), nil
	case format == "raw" && key.Type == "public" && k.ecPub != nil:
		b, err := k.ecPub.Bytes()
		if err != nil {
			return nil, errorf(OperationError, "exportKey: %v", err)
		}
		return b, nil
	case format == "spki" && key.Type == "public":
		var pub any = k.ecPub
		if k.rsaPub != nil {
			pub = k.rsaPub
		}
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, errorf(OperationError, "exportKey: %v", err)
		}
		return b, nil
	case format == "pkcs8" && key.Type == "private":
		var priv any = k.ecPriv
		if k.rsaPri != nil {
			priv = k.rsaPri
		}
		b, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, errorf(OperationError, "exportKey: %v", err)
		}
		return b, nil
	}
	return nil, notSupported
}
