package webcrypto

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

// Algorithm names, as the specification spells them.
const (
	algSHA1     = "SHA-1"
	algSHA256   = "SHA-256"
	algSHA384   = "SHA-384"
	algSHA512   = "SHA-512"
	algHMAC     = "HMAC"
	algAESGCM   = "AES-GCM"
	algAESCBC   = "AES-CBC"
	algAESCTR   = "AES-CTR"
	algECDSA    = "ECDSA"
	algECDH     = "ECDH"
	algRSAOAEP  = "RSA-OAEP"
	algRSAPSS   = "RSA-PSS"
	algRSAPKCS1 = "RSASSA-PKCS1-v1_5"
	algPBKDF2   = "PBKDF2"
)

// knownAlgorithms maps every algorithm name the specification registers, lowercased, to its
// spelling; the ones this package does not implement reject with NotSupportedError.
var knownAlgorithms = map[string]string{}

func init() {
	for _, n := range []string{algSHA1, algSHA256, algSHA384, algSHA512, algHMAC, algAESGCM, algAESCBC,
		algAESCTR, algECDSA, algECDH, algRSAOAEP, algRSAPSS, algRSAPKCS1, algPBKDF2,
		"AES-KW", "HKDF", "Ed25519", "X25519", "Ed448", "X448"} {
		knownAlgorithms[strings.ToLower(n)] = n
	}
}

// hashes are the digest algorithms (digest, and the hash of HMAC, RSA, ECDSA and PBKDF2).
var hashes = map[string]func() hash.Hash{
	algSHA1: sha1.New, algSHA256: sha256.New, algSHA384: sha512.New384, algSHA512: sha512.New,
}

// subtle is crypto.subtle. Each method validates its arguments on the VU goroutine, then runs
// the operation on its own goroutine (which ends with the operation) and settles the Promise
// on the VU's event loop.
type subtle struct{ vu modules.VU }

func newSubtle(vu modules.VU) *goja.Object {
	s := &subtle{vu: vu}
	rt := vu.Runtime()
	o := rt.NewObject()
	for name, f := range map[string]func(goja.FunctionCall) goja.Value{
		"digest":      s.digest,
		"generateKey": s.generateKey,
		"importKey":   s.importKey,
		"exportKey":   s.exportKey,
		"sign":        s.sign,
		"verify":      s.verify,
		"encrypt":     s.encrypt,
		"decrypt":     s.decrypt,
		"deriveBits":  s.deriveBits,
		"deriveKey":   s.deriveKey,
		"wrapKey":     s.unsupported("wrapKey"),
		"unwrapKey":   s.unsupported("unwrapKey"),
	} {
		_ = o.Set(name, f)
	}
	return o
}

// work is an operation's body, run off the VU goroutine; its result is converted by toJS.
type work func() (any, error)

// async returns a Promise of prepare's work: prepare runs now (its error, or a JavaScript
// exception it throws, rejects the Promise), the work on its own goroutine.
func (s *subtle) async(prepare func() (work, error)) goja.Value {
	rt := s.vu.Runtime()
	p, resolve, reject := rt.NewPromise()
	w, err := s.prepare(prepare)
	if err != nil {
		if ex, ok := err.(*goja.Exception); ok {
			_ = reject(ex.Value())
		} else {
			_ = reject(jsError(rt, err))
		}
		return rt.ToValue(p)
	}
	enqueue := s.vu.RegisterCallback()
	go func() {
		res, err := w()
		enqueue(func() error {
			if err != nil {
				return reject(jsError(rt, err))
			}
			return resolve(toJS(rt, res))
		})
	}()
	return rt.ToValue(p)
}

func (s *subtle) prepare(prepare func() (work, error)) (w work, err error) {
	defer func() {
		if r := recover(); r != nil {
			ex, ok := r.(*goja.Exception)
			if !ok {
				panic(r)
			}
			w, err = nil, ex
		}
	}()
	return prepare()
}

func (s *subtle) unsupported(method string) func(goja.FunctionCall) goja.Value {
	return func(goja.FunctionCall) goja.Value {
		return s.async(func() (work, error) {
			return nil, errorf(NotSupportedError, "crypto.subtle.%s is not supported", method)
		})
	}
}

// keyPair is generateKey's result for asymmetric algorithms.
type keyPair struct{ public, private *CryptoKey }

// toJS converts an operation's result on the VU goroutine.
func toJS(rt *goja.Runtime, res any) goja.Value {
	switch x := res.(type) {
	case []byte:
		return rt.ToValue(rt.NewArrayBuffer(x))
	case *CryptoKey:
		x.materialize(rt)
		return rt.ToValue(x)
	case keyPair:
		o := rt.NewObject()
		_ = o.Set("publicKey", toJS(rt, x.public))
		_ = o.Set("privateKey", toJS(rt, x.private))
		return o
	case map[string]any: // a JWK: members sorted, as browsers export them
		o := rt.NewObject()
		for _, k := range slices.Sorted(maps.Keys(x)) {
			_ = o.Set(k, toJS(rt, x[k]))
		}
		return o
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return rt.NewArray(a...)
	}
	return rt.ToValue(res)
}

// algorithmKeys is the order of a key's algorithm members (as browsers list them).
var algorithmKeys = []string{"name", "length", "namedCurve", "modulusLength", "publicExponent", "hash"}

// materialize makes the key's algorithm a script object, on the VU goroutine, with its
// members in a stable order (publicExponent a Uint8Array).
func (k *CryptoKey) materialize(rt *goja.Runtime) {
	m, ok := k.Algorithm.(map[string]any)
	if !ok {
		return
	}
	o := rt.NewObject()
	for _, name := range algorithmKeys {
		v, ok := m[name]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case []byte:
			if ctor, ok := goja.AssertConstructor(rt.Get("Uint8Array")); ok {
				if u, err := ctor(nil, rt.ToValue(rt.NewArrayBuffer(x))); err == nil {
					v = u
				}
			}
		case map[string]any:
			h := rt.NewObject()
			_ = h.Set("name", x["name"])
			v = h
		}
		_ = o.Set(name, v)
	}
	k.Algorithm = o
}

// algorithm reads an AlgorithmIdentifier (a name or an object with a name): its spelling
// and its parameters (nil for a bare name).
func algorithm(_ *goja.Runtime, v goja.Value) (string, *goja.Object, error) {
	var name string
	params, isObject := v.(*goja.Object)
	switch {
	case modules.IsNullish(v):
		return "", nil, errorf(TypeError, "an algorithm is required")
	case !isObject:
		name = v.String()
	default:
		n := params.Get("name")
		if modules.IsNullish(n) {
			return "", nil, errorf(TypeError, "the algorithm has no name")
		}
		name = n.String()
	}
	canon, ok := knownAlgorithms[strings.ToLower(name)]
	if !ok {
		return "", nil, errorf(NotSupportedError, "algorithm %q is not supported", name)
	}
	return canon, params, nil
}

// param returns a parameter of an algorithm object (undefined when there is none).
func param(params *goja.Object, name string) goja.Value {
	if params == nil {
		return goja.Undefined()
	}
	return params.Get(name)
}

// hashParam reads a hash parameter (a name or {name}).
func hashParam(rt *goja.Runtime, params *goja.Object, key string) (string, error) {
	v := param(params, key)
	if modules.IsNullish(v) {
		return "", errorf(TypeError, "the algorithm's %s is required", key)
	}
	name, _, err := algorithm(rt, v)
	if err != nil {
		return "", err
	}
	if _, ok := hashes[name]; !ok {
		return "", errorf(NotSupportedError, "hash %q is not supported", name)
	}
	return name, nil
}

func bytesParam(params *goja.Object, key string) ([]byte, error) {
	v := param(params, key)
	if modules.IsNullish(v) {
		return nil, errorf(TypeError, "the algorithm's %s is required", key)
	}
	b, err := bufferSource(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

// digest(algorithm, data) → Promise<ArrayBuffer>.
func (s *subtle) digest(call goja.FunctionCall) goja.Value {
	return s.async(func() (work, error) {
		name, _, err := algorithm(s.vu.Runtime(), call.Argument(0))
		if err != nil {
			return nil, err
		}
		newHash, ok := hashes[name]
		if !ok {
			return nil, errorf(NotSupportedError, "digest: algorithm %q is not supported", name)
		}
		data, err := bufferSource(call.Argument(1))
		if err != nil {
			return nil, err
		}
		return func() (any, error) {
			h := newHash()
			h.Write(data)
			return h.Sum(nil), nil
		}, nil
	})
}

// usagesArg reads a key usages array.
func usagesArg(rt *goja.Runtime, v goja.Value) ([]string, error) {
	var out []string
	if modules.IsNullish(v) {
		return nil, errorf(TypeError, "key usages are required")
	}
	if err := rt.ExportTo(v, &out); err != nil {
		return nil, errorf(TypeError, "key usages: %v", err)
	}
	return out, nil
}

// keyArg reads a CryptoKey argument and checks it is for alg and allows usage.
func keyArg(v goja.Value, alg, usage string) (*CryptoKey, error) {
	k, ok := v.Export().(*CryptoKey)
	if !ok {
		return nil, errorf(TypeError, "want a CryptoKey, got %s", v)
	}
	if k.k.alg != alg {
		return nil, errorf(InvalidAccessError, "the key is for %s, not %s", k.k.alg, alg)
	}
	for _, u := range k.Usages {
		if u == usage {
			return k, nil
		}
	}
	return nil, errorf(InvalidAccessError, "the key's usages %v do not include %q", k.Usages, usage)
}
