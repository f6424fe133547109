package webcrypto

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"math/big"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

var cryptoHashes = map[string]crypto.Hash{
	algSHA1: crypto.SHA1, algSHA256: crypto.SHA256, algSHA384: crypto.SHA384, algSHA512: crypto.SHA512,
}

// signOp is sign's and verify's validated arguments: the algorithm, the key (checked for the
// usage) and the data.
type signOp struct {
	name string
	key  *CryptoKey
	hash string // ECDSA's hash (the others use the key's)
	salt int    // RSA-PSS's saltLength
	data []byte
}

func (s *subtle) signArgs(call goja.FunctionCall, usage string, dataArg int) (*signOp, error) {
	rt := s.vu.Runtime()
	name, params, err := algorithm(rt, call.Argument(0))
	if err != nil {
		return nil, err
	}
	switch name {
	case algHMAC, algECDSA, algRSAPSS, algRSAPKCS1:
	default:
		return nil, errorf(NotSupportedError, "%s: algorithm %q is not supported", usage, name)
	}
	op := &signOp{name: name}
	if op.key, err = keyArg(call.Argument(1), name, usage); err != nil {
		return nil, err
	}
	op.hash = op.key.k.hash
	switch name {
	case algECDSA:
		if op.hash, err = hashParam(rt, params, "hash"); err != nil {
			return nil, err
		}
	case algRSAPSS:
		l := param(params, "saltLength")
		if modules.IsNullish(l) {
			return nil, errorf(TypeError, "%s: RSA-PSS needs a saltLength", usage)
		}
		op.salt = int(l.ToInteger())
	}
	if op.data, err = bufferSource(call.Argument(dataArg)); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *signOp) digest() []byte {
	h := hashes[op.hash]()
	h.Write(op.data)
	return h.Sum(nil)
}

// sign(algorithm, key, data) → Promise<ArrayBuffer>: HMAC, ECDSA (r‖s, as Web Crypto
// encodes it), RSASSA-PKCS1-v1_5, RSA-PSS.
func (s *subtle) sign(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		op, err := s.signArgs(call, "sign", 2)
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			k := op.key.k
			switch op.name {
			case algHMAC:
				m := hmac.New(hashes[k.hash], k.secret)
				m.Write(op.data)
				return m.Sum(nil), nil
			case algECDSA:
				r, sig, err := ecdsa.Sign(rand.Reader, k.ecPriv, op.digest())
				if err != nil {
					return nil, errorf(OperationError, "sign: %v", err)
				}
				n := (k.ecPriv.Curve.Params().BitSize + 7) / 8
				out := make([]byte, 2*n)
				r.FillBytes(out[:n])
				sig.FillBytes(out[n:])
				return out, nil
			case algRSAPKCS1:
				b, err := rsa.SignPKCS1v15(rand.Reader, k.rsaPri, cryptoHashes[op.hash], op.digest())
				if err != nil {
					return nil, errorf(OperationError, "sign: %v", err)
				}
				return b, nil
			default:
				b, err := rsa.SignPSS(rand.Reader, k.rsaPri, cryptoHashes[op.hash], op.digest(), &rsa.PSSOptions{SaltLength: op.salt})
				if err != nil {
					return nil, errorf(OperationError, "sign: %v", err)
				}
				return b, nil
			}
		}, nil
	})
}

// verify(algorithm, key, signature, data) → Promise<boolean>.
func (s *subtle) verify(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		op, err := s.signArgs(call, "verify", 3)
		if err != nil {
			return nil, err
		}
		sig, err := bufferSource(call.Argument(2))
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			k := op.key.k
			switch op.name {
			case algHMAC:
				m := hmac.New(hashes[k.hash], k.secret)
				m.Write(op.data)
				return hmac.Equal(m.Sum(nil), sig), nil
			case algECDSA:
				n := (k.ecPub.Curve.Params().BitSize + 7) / 8
				if len(sig) != 2*n {
					return false, nil
				}
				r, ss := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
				return ecdsa.Verify(k.ecPub, op.digest(), r, ss), nil
			case algRSAPKCS1:
				return rsa.VerifyPKCS1v15(k.rsaPub, cryptoHashes[op.hash], op.digest(), sig) == nil, nil
			default:
				return rsa.VerifyPSS(k.rsaPub, cryptoHashes[op.hash], op.digest(), sig, &rsa.PSSOptions{SaltLength: op.salt}) == nil, nil
			}
		}, nil
	})
}

// cipherOp is encrypt's and decrypt's validated arguments.
type cipherOp struct {
	name       string
	key        *CryptoKey
	iv, ad     []byte // AES-GCM/CBC iv, AES-CTR counter; AES-GCM additionalData
	tagBytes   int    // AES-GCM
	ctrBits    int    // AES-CTR
	label      []byte // RSA-OAEP
	data       []byte
	decrypting bool
}

func (s *subtle) cipherArgs(call goja.FunctionCall, usage string) (*cipherOp, error) {
	rt := s.vu.Runtime()
	name, params, err := algorithm(rt, call.Argument(0))
	if err != nil {
		return nil, err
	}
	op := &cipherOp{name: name, decrypting: usage == "decrypt"}
	switch name {
	case algAESGCM:
		if op.iv, err = bytesParam(params, "iv"); err != nil {
			return nil, err
		}
		if len(op.iv) == 0 {
			return nil, errorf(OperationError, "%s: AES-GCM iv is empty", usage)
		}
		if ad := param(params, "additionalData"); !modules.IsNullish(ad) {
			if op.ad, err = bufferSource(ad); err != nil {
				return nil, err
			}
		}
		op.tagBytes = 16
		if t := param(params, "tagLength"); !modules.IsNullish(t) {
			switch bits := t.ToInteger(); bits {
			case 96, 104, 112, 120, 128:
				op.tagBytes = int(bits / 8)
			case 32, 64:
				return nil, errorf(NotSupportedError, "%s: AES-GCM tagLength %d is not supported", usage, bits)
			default:
				return nil, errorf(OperationError, "%s: AES-GCM tagLength %d is invalid", usage, bits)
			}
		}
		if op.tagBytes != 16 && len(op.iv) != 12 {
			return nil, errorf(NotSupportedError, "%s: AES-GCM with both a %d-byte iv and a %d-bit tag is not supported", usage, len(op.iv), op.tagBytes*8)
		}
	case algAESCBC:
		if op.iv, err = bytesParam(params, "iv"); err != nil {
			return nil, err
		}
		if len(op.iv) != aes.BlockSize {
			return nil, errorf(OperationError, "%s: AES-CBC iv must be 16 bytes, got %d", usage, len(op.iv))
		}
	case algAESCTR:
		if op.iv, err = bytesParam(params, "counter"); err != nil {
			return nil, err
		}
		if len(op.iv) != aes.BlockSize {
			return nil, errorf(OperationError, "%s: AES-CTR counter must be 16 bytes, got %d", usage, len(op.iv))
		}
		op.ctrBits = int(param(params, "length").ToInteger())
		if op.ctrBits < 1 || op.ctrBits > 128 {
			return nil, errorf(OperationError, "%s: AES-CTR length must be 1 to 128, got %d", usage, op.ctrBits)
		}
	case algRSAOAEP:
		if l := param(params, "label"); !modules.IsNullish(l) {
			if op.label, err = bufferSource(l); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errorf(NotSupportedError, "%s: algorithm %q is not supported", usage, name)
	}
	if op.key, err = keyArg(call.Argument(1), name, usage); err != nil {
		return nil, err
	}
	if op.data, err = bufferSource(call.Argument(2)); err != nil {
		return nil, err
	}
	return op, nil
}

// encrypt(algorithm, key, data) → Promise<ArrayBuffer>: AES-GCM, AES-CBC, AES-CTR, RSA-OAEP.
func (s *subtle) encrypt(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		op, err := s.cipherArgs(call, "encrypt")
		if err != nil {
			return nil, err
		}
		return op.run, nil
	})
}

// decrypt(algorithm, key, data) → Promise<ArrayBuffer>.
func (s *subtle) decrypt(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		op, err := s.cipherArgs(call, "decrypt")
		if err != nil {
			return nil, err
		}
		return op.run, nil
	})
}

func (op *cipherOp) run() (any, error) {
	verb := "encrypt"
	if op.decrypting {
		verb = "decrypt"
	}
	k := op.key.k
	if op.name == algRSAOAEP {
		h := hashes[k.hash]()
		var out []byte
		var err error
		if op.decrypting {
			out, err = rsa.DecryptOAEP(h, nil, k.rsaPri, op.data, op.label)
		} else {
			out, err = rsa.EncryptOAEP(h, rand.Reader, k.rsaPub, op.data, op.label)
		}
		if err != nil {
			return nil, errorf(OperationError, "%s: RSA-OAEP: %v", verb, err)
		}
		return out, nil
	}
	block, err := aes.NewCipher(k.secret)
	if err != nil {
		return nil, errorf(OperationError, "%s: %v", verb, err)
	}
	switch op.name {
	case algAESGCM:
		var aead cipher.AEAD
		switch {
		case op.tagBytes != 16:
			aead, err = cipher.NewGCMWithTagSize(block, op.tagBytes)
		case len(op.iv) != 12:
			aead, err = cipher.NewGCMWithNonceSize(block, len(op.iv))
		default:
			aead, err = cipher.NewGCM(block)
		}
		if err != nil {
			return nil, errorf(OperationError, "%s: AES-GCM: %v", verb, err)
		}
		if op.decrypting {
			out, err := aead.Open(nil, op.iv, op.data, op.ad)
			if err != nil {
				return nil, errorf(OperationError, "decrypt: AES-GCM: %v", err)
			}
			return out, nil
		}
		return aead.Seal(nil, op.iv, op.data, op.ad), nil
	case algAESCBC:
		if op.decrypting {
			if len(op.data) == 0 || len(op.data)%aes.BlockSize != 0 {
				return nil, errorf(OperationError, "decrypt: AES-CBC data is not a whole number of blocks")
			}
			out := make([]byte, len(op.data))
			cipher.NewCBCDecrypter(block, op.iv).CryptBlocks(out, op.data)
			pad := int(out[len(out)-1])
			if pad == 0 || pad > aes.BlockSize {
				return nil, errorf(OperationError, "decrypt: AES-CBC: bad padding")
			}
			for _, b := range out[len(out)-pad:] {
				if int(b) != pad {
					return nil, errorf(OperationError, "decrypt: AES-CBC: bad padding")
				}
			}
			return out[:len(out)-pad], nil
		}
		pad := aes.BlockSize - len(op.data)%aes.BlockSize
		in := append(append([]byte(nil), op.data...), make([]byte, pad)...)
		for i := len(op.data); i < len(in); i++ {
			in[i] = byte(pad)
		}
		out := make([]byte, len(in))
		cipher.NewCBCEncrypter(block, op.iv).CryptBlocks(out, in)
		return out, nil
	default: // AES-CTR
		return ctr(block, op.iv, op.ctrBits, op.data)
	}
}

// ctr runs AES-CTR where only the counter block's rightmost bits bits count (and wrap), as
// Web Crypto defines it; it fails when the counter would repeat.
func ctr(block cipher.Block, counter []byte, bits int, data []byte) ([]byte, error) {
	blocks := (len(data) + aes.BlockSize - 1) / aes.BlockSize
	if bits < 64 && uint64(blocks) > 1<<bits {
		return nil, errorf(OperationError, "AES-CTR: %d blocks overflow a %d-bit counter", blocks, bits)
	}
	cb := new(big.Int).SetBytes(counter)
	mod := new(big.Int).Lsh(big.NewInt(1), uint(bits))
	high := new(big.Int).Sub(cb, new(big.Int).Mod(cb, mod)) // the fixed bits
	low := new(big.Int).Mod(cb, mod)
	one := big.NewInt(1)
	out := make([]byte, len(data))
	ks := make([]byte, aes.BlockSize)
	cur := make([]byte, aes.BlockSize)
	for i := 0; i < len(data); i += aes.BlockSize {
		new(big.Int).Add(high, low).FillBytes(cur)
		block.Encrypt(ks, cur)
		end := min(i+aes.BlockSize, len(data))
		for j := i; j < end; j++ {
			out[j] = data[j] ^ ks[j-i]
		}
		low.Add(low, one).Mod(low, mod)
	}
	return out, nil
}

// deriveBits(algorithm, baseKey, length) → Promise<ArrayBuffer>: ECDH and PBKDF2.
func (s *subtle) deriveBits(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		rt := s.vu.Runtime()
		name, params, err := algorithm(rt, call.Argument(0))
		if err != nil {
			return nil, err
		}
		switch name {
		case algECDH, algPBKDF2:
		default:
			return nil, errorf(NotSupportedError, "deriveBits: algorithm %q is not supported", name)
		}
		key, err := keyArg(call.Argument(1), name, "deriveBits")
		if err != nil {
			return nil, err
		}
		lv := call.Argument(2)
		bits := int64(-1)
		if !modules.IsNullish(lv) {
			bits = lv.ToInteger()
		}
		if bits%8 != 0 && bits != -1 {
			return nil, errorf(OperationError, "deriveBits: length %d is not a multiple of 8", bits)
		}
		if name == algPBKDF2 {
			return pbkdf2Params(rt, params, key, bits)
		}
		pub, ok := param(params, "public").Export().(*CryptoKey)
		if !ok || pub.Type != "public" || pub.k.alg != algECDH {
			return nil, errorf(InvalidAccessError, "deriveBits: ECDH needs an ECDH public key as public")
		}
		if pub.k.curve != key.k.curve {
			return nil, errorf(InvalidAccessError, "deriveBits: the keys' curves differ (%s, %s)", key.k.curve, pub.k.curve)
		}
		return func() (any, error) {
			priv, err := key.k.ecPriv.ECDH()
			if err != nil {
				return nil, errorf(OperationError, "deriveBits: %v", err)
			}
			pk, err := pub.k.ecPub.ECDH()
			if err != nil {
				return nil, errorf(OperationError, "deriveBits: %v", err)
			}
			secret, err := priv.ECDH(pk)
			if err != nil {
				return nil, errorf(OperationError, "deriveBits: %v", err)
			}
			if bits == -1 {
				return secret, nil
			}
			if bits > int64(len(secret))*8 {
				return nil, errorf(OperationError, "deriveBits: length %d exceeds the %d-bit secret", bits, len(secret)*8)
			}
			return secret[:bits/8], nil
		}, nil
	})
}

// deriveKey(algorithm, baseKey, derivedKeyType, extractable, usages) → Promise<CryptoKey>:
// PBKDF2 to an AES-CBC, AES-CTR or AES-GCM key, as k6 has it.
func (s *subtle) deriveKey(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		rt := s.vu.Runtime()
		name, params, err := algorithm(rt, call.Argument(0))
		if err != nil {
			return nil, err
		}
		if name != algPBKDF2 {
			return nil, errorf(NotSupportedError, "deriveKey: algorithm %q is not supported", name)
		}
		key, err := keyArg(call.Argument(1), name, "deriveKey")
		if err != nil {
			return nil, err
		}
		target, tparams, err := algorithm(rt, call.Argument(2))
		if err != nil {
			return nil, err
		}
		switch target {
		case algAESCBC, algAESCTR, algAESGCM:
		default:
			return nil, errorf(NotSupportedError, "deriveKey: derived key algorithm %q is not supported", target)
		}
		bits := param(tparams, "length").ToInteger()
		if bits != 128 && bits != 192 && bits != 256 {
			return nil, errorf(OperationError, "deriveKey: %s length must be 128, 192 or 256, got %d", target, bits)
		}
		extractable := call.Argument(3).ToBoolean()
		usages, err := usagesArg(rt, call.Argument(4))
		if err != nil {
			return nil, err
		}
		if err := checkUsages(target, usages, usageRules[target].secret, "secret"); err != nil {
			return nil, err
		}
		derive, err := pbkdf2Params(rt, params, key, bits)
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			b, err := derive()
			if err != nil {
				return nil, err
			}
			return newKey("secret", extractable, usages, keyData{alg: target, secret: b.([]byte)}), nil
		}, nil
	})
}

// pbkdf2Params reads Pbkdf2Params and returns the derivation of bits bits from key.
func pbkdf2Params(rt *goja.Runtime, params *goja.Object, key *CryptoKey, bits int64) (work, error) {
	h, err := hashParam(rt, params, "hash")
	if err != nil {
		return nil, err
	}
	salt, err := bytesParam(params, "salt")
	if err != nil {
		return nil, err
	}
	iter := param(params, "iterations").ToInteger()
	if iter < 1 {
		return nil, errorf(OperationError, "PBKDF2 iterations must be positive, got %d", iter)
	}
	if bits <= 0 {
		return nil, errorf(OperationError, "PBKDF2 needs a positive length")
	}
	return func() (any, error) {
		out, err := pbkdf2.Key(hashes[h], string(key.k.secret), salt, int(iter), int(bits/8))
		if err != nil {
			return nil, errorf(OperationError, "PBKDF2: %v", err)
		}
		return out, nil
	}, nil
}
