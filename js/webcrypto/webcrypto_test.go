package webcrypto_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// prelude has the helpers every case uses: hex conversions, an assertion, and rejects(p,
// name), which fails unless p rejects with an error of that name.
const prelude = `import { b64encode } from 'k6/encoding';
function hex(buf) { return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join(''); }
function unhex(s) { const a = new Uint8Array(s.length / 2); for (let i = 0; i < a.length; i++) a[i] = parseInt(s.substr(2 * i, 2), 16); return a; }
function eq(got, want, what) { if (got !== want) throw new Error((what || '') + ': got ' + got + ', want ' + want); }
async function rejects(p, name) {
  try { await p; } catch (e) { eq(e.name, name, 'error name (' + e.message + ')'); if (!(e instanceof Error)) throw new Error('not an Error'); return e; }
  throw new Error('no rejection, want ' + name);
}
const enc = (s) => new TextEncoder().encode(s);
const subtle = crypto.subtle;
`

func run(t *testing.T, body string) {
	t.Helper()
	h := jstest.MustLoad(t, prelude+"export default async function () {\n"+body+"\n}\n", nil)
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
}

// TestDigest: FIPS 180-2's "abc" and two-block vectors.
func TestDigest(t *testing.T) {
	run(t, `
eq(hex(await subtle.digest('SHA-1', enc('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d', 'SHA-1');
eq(hex(await subtle.digest('SHA-256', enc('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'SHA-256');
eq(hex(await subtle.digest({ name: 'sha-256' }, enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq').buffer)), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1', 'SHA-256 2 blocks');
eq(hex(await subtle.digest('SHA-384', enc('abc'))), 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7', 'SHA-384');
eq(hex(await subtle.digest('SHA-512', new DataView(enc('abc').buffer))), 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'SHA-512');
await rejects(subtle.digest('MD5', enc('abc')), 'NotSupportedError');
await rejects(subtle.digest('HMAC', enc('abc')), 'NotSupportedError');
await rejects(subtle.digest('SHA-256', 'a string'), 'TypeError');
`)
}

// TestHMAC: RFC 4231 test cases 1 and 2, import/export round trips, usages.
func TestHMAC(t *testing.T) {
	run(t, `
const k1 = await subtle.importKey('raw', unhex('0b'.repeat(20)), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
eq(hex(await subtle.sign('HMAC', k1, enc('Hi There'))), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7', 'case 1 SHA-256');
const k1b = await subtle.importKey('raw', unhex('0b'.repeat(20)), { name: 'HMAC', hash: { name: 'SHA-384' } }, false, ['sign']);
eq(hex(await subtle.sign({ name: 'HMAC' }, k1b, enc('Hi There'))), 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6', 'case 1 SHA-384');
const k1c = await subtle.importKey('raw', unhex('0b'.repeat(20)), { name: 'HMAC', hash: 'SHA-512' }, false, ['sign']);
eq(hex(await subtle.sign('HMAC', k1c, enc('Hi There'))), '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854', 'case 1 SHA-512');
const k2 = await subtle.importKey('raw', enc('Jefe'), { name: 'HMAC', hash: 'SHA-512' }, true, ['sign', 'verify']);
const sig = await subtle.sign('HMAC', k2, enc('what do ya want for nothing?'));
eq(hex(sig), '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737', 'case 2 SHA-512');
eq(await subtle.verify('HMAC', k2, sig, enc('what do ya want for nothing?')), true, 'verify');
eq(await subtle.verify('HMAC', k2, sig, enc('what do ya want for nothing!')), false, 'verify tampered');
eq(k2.type, 'secret'); eq(k2.extractable, true); eq(k2.algorithm.name, 'HMAC'); eq(k2.algorithm.hash.name, 'SHA-512'); eq(k2.algorithm.length, 32);
const jwk = await subtle.exportKey('jwk', k2);
eq(jwk.kty, 'oct'); eq(jwk.k, 'SmVmZQ'); eq(jwk.alg, 'HS512'); eq(jwk.ext, true);
const k3 = await subtle.importKey('jwk', jwk, { name: 'HMAC', hash: 'SHA-512' }, true, ['verify']);
eq(await subtle.verify('HMAC', k3, sig, enc('what do ya want for nothing?')), true, 'jwk round trip');
eq(hex(await subtle.exportKey('raw', k3)), hex(enc('Jefe')), 'raw export');
const g = await subtle.generateKey({ name: 'HMAC', hash: { name: 'SHA-256' } }, true, ['sign', 'verify']);
eq(g.algorithm.length, 512, 'default length is the block size'); eq((await subtle.exportKey('raw', g)).byteLength, 64);
await rejects(subtle.exportKey('raw', k1b), 'InvalidAccessError');
await rejects(subtle.exportKey('pem', k2), 'TypeError');
await rejects(subtle.importKey('pem', enc('x'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']), 'TypeError');
await rejects(subtle.importKey('spki', enc('x'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']), 'NotSupportedError');
await rejects(subtle.verify('HMAC', k1b, sig, enc('x')), 'InvalidAccessError');
await rejects(subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['encrypt']), 'SyntaxError');
await rejects(subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, []), 'SyntaxError');
await rejects(subtle.importKey('jwk', { kty: 'oct', k: 'SmVmZQ', alg: 'HS256' }, { name: 'HMAC', hash: 'SHA-512' }, true, ['sign']), 'DataError');
await rejects(subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'MD5' }, true, ['sign']), 'NotSupportedError');
await rejects(subtle.sign('AES-GCM', k1, enc('x')), 'NotSupportedError');
`)
}

// TestAES: NIST SP 800-38A (CBC F.2.1, CTR F.5.1) and McGrew–Viega GCM test cases 2–4.
func TestAES(t *testing.T) {
	run(t, `
const gk = unhex('feffe9928665731c6d6a8f9467308308'), giv = unhex('cafebabefacedbaddecaf888');
const gpt = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const gct = '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985';
const zero = await subtle.importKey('raw', new Uint8Array(16), 'AES-GCM', true, ['encrypt', 'decrypt']);
eq(hex(await subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, zero, new Uint8Array(16))), '0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf', 'GCM case 2');
const key = await subtle.importKey('raw', gk, { name: 'AES-GCM' }, true, ['encrypt', 'decrypt']);
eq(key.algorithm.length, 128);
const c3 = await subtle.encrypt({ name: 'AES-GCM', iv: giv }, key, unhex(gpt));
eq(hex(c3), gct + '4d5c2af327cd64a62cf35abd2ba6fab4', 'GCM case 3');
eq(hex(await subtle.decrypt({ name: 'AES-GCM', iv: giv }, key, c3)), gpt, 'GCM case 3 decrypt');
const aad = unhex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
const c4 = await subtle.encrypt({ name: 'AES-GCM', iv: giv, additionalData: aad, tagLength: 128 }, key, unhex(gpt.slice(0, 120)));
eq(hex(c4), gct.slice(0, 120) + '5bc94fbc3221a5db94fae95ae7121a47', 'GCM case 4');
const bad = new Uint8Array(c4); bad[0] ^= 1;
await rejects(subtle.decrypt({ name: 'AES-GCM', iv: giv, additionalData: aad }, key, bad), 'OperationError');
await rejects(subtle.decrypt({ name: 'AES-GCM', iv: giv }, key, c4), 'OperationError');
const c96 = await subtle.encrypt({ name: 'AES-GCM', iv: giv, tagLength: 96 }, key, enc('short tag'));
eq(c96.byteLength, 9 + 12, 'tagLength 96');
eq(new TextDecoder().decode(await subtle.decrypt({ name: 'AES-GCM', iv: giv, tagLength: 96 }, key, c96)), 'short tag');

const ck = unhex('2b7e151628aed2a6abf7158809cf4f3c');
const cbc = await subtle.importKey('raw', ck, 'AES-CBC', false, ['encrypt', 'decrypt']);
const iv = unhex('000102030405060708090a0b0c0d0e0f');
const sp = '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51';
const cc = await subtle.encrypt({ name: 'AES-CBC', iv }, cbc, unhex(sp));
eq(cc.byteLength, 48, 'CBC pads a whole block');
eq(hex(cc).slice(0, 64), '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2', 'CBC F.2.1');
eq(hex(await subtle.decrypt({ name: 'AES-CBC', iv }, cbc, cc)), sp, 'CBC decrypt');
await rejects(subtle.decrypt({ name: 'AES-CBC', iv }, cbc, cc.slice(0, 32)), 'OperationError');
await rejects(subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(8) }, cbc, enc('x')), 'OperationError');

const ctr = await subtle.importKey('raw', ck, 'AES-CTR', true, ['encrypt', 'decrypt']);
const counter = unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
eq(hex(await subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, ctr, unhex(sp))), '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff', 'CTR F.5.1');
eq(hex(await subtle.decrypt({ name: 'AES-CTR', counter, length: 128 }, ctr, unhex('874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff'))), sp, 'CTR F.5.1 decrypt');
// An 8-bit counter wraps within its byte: the second block uses ...fe00.
const two = await subtle.encrypt({ name: 'AES-CTR', counter, length: 8 }, ctr, new Uint8Array(32));
const wrapped = await subtle.encrypt({ name: 'AES-CTR', counter: unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfe00'), length: 8 }, ctr, new Uint8Array(16));
eq(hex(two).slice(32), hex(wrapped), 'CTR wraps in its length');
await rejects(subtle.encrypt({ name: 'AES-CTR', counter, length: 1 }, ctr, new Uint8Array(48)), 'OperationError');

const gen = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
const jwk = await subtle.exportKey('jwk', gen);
eq(jwk.alg, 'A256GCM'); eq(jwk.kty, 'oct');
const back = await subtle.importKey('jwk', jwk, 'AES-GCM', true, ['decrypt']);
const ct = await subtle.encrypt({ name: 'AES-GCM', iv: giv }, gen, enc('round trip'));
eq(new TextDecoder().decode(await subtle.decrypt({ name: 'AES-GCM', iv: giv }, back, ct)), 'round trip');
await rejects(subtle.encrypt({ name: 'AES-GCM', iv: giv }, back, enc('x')), 'InvalidAccessError');
await rejects(subtle.generateKey({ name: 'AES-GCM', length: 100 }, true, ['encrypt']), 'OperationError');
await rejects(subtle.importKey('raw', new Uint8Array(15), 'AES-CBC', true, ['encrypt']), 'DataError');
await rejects(subtle.encrypt({ name: 'AES-KW' }, gen, enc('x')), 'NotSupportedError');
await rejects(subtle.encrypt({ name: 'AES-CBC', iv }, gen, enc('x')), 'InvalidAccessError');
`)
}

// TestECDSA: RFC 6979 A.2.5's P-256 key and its SHA-256 signature of "sample" verify; keys
// round-trip through jwk, raw, spki and pkcs8 on every curve.
func TestECDSA(t *testing.T) {
	run(t, `
const b64u = (h) => b64encode(unhex(h).buffer, 'rawurl');
const pub = await subtle.importKey('jwk', { kty: 'EC', crv: 'P-256',
  x: b64u('60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6'),
  y: b64u('7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299') }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
const sig = unhex('efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8');
eq(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, sig, enc('sample')), true, 'RFC 6979 A.2.5');
eq(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, sig, enc('samplf')), false, 'tampered');
for (const [crv, n] of [['P-256', 64], ['P-384', 96], ['P-521', 132]]) {
  const kp = await subtle.generateKey({ name: 'ECDSA', namedCurve: crv }, true, ['sign', 'verify']);
  eq(kp.privateKey.type, 'private'); eq(kp.publicKey.type, 'public'); eq(kp.publicKey.algorithm.namedCurve, crv);
  eq(kp.privateKey.usages.join(), 'sign'); eq(kp.publicKey.usages.join(), 'verify');
  const s = await subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, kp.privateKey, enc('data'));
  eq(s.byteLength, n, crv + ' signature size');
  for (const fmt of ['raw', 'spki', 'jwk']) {
    const p2 = await subtle.importKey(fmt, await subtle.exportKey(fmt, kp.publicKey), { name: 'ECDSA', namedCurve: crv }, true, ['verify']);
    eq(await subtle.verify({ name: 'ECDSA', hash: 'SHA-384' }, p2, s, enc('data')), true, crv + ' ' + fmt);
  }
  for (const fmt of ['pkcs8', 'jwk']) {
    const k2 = await subtle.importKey(fmt, await subtle.exportKey(fmt, kp.privateKey), { name: 'ECDSA', namedCurve: crv }, true, ['sign']);
    const s2 = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k2, enc('x'));
    eq(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, kp.publicKey, s2, enc('x')), true, crv + ' private ' + fmt);
  }
}
await rejects(subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-192' }, true, ['sign']), 'NotSupportedError');
await rejects(subtle.importKey('raw', new Uint8Array(65), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']), 'DataError');
await rejects(subtle.importKey('raw', new Uint8Array(65), { name: 'Ed25519' }, true, ['verify']), 'NotSupportedError');
`)
}

// TestECDH: both sides derive the same secret; raw and spki/pkcs8 round trips.
func TestECDH(t *testing.T) {
	run(t, `
for (const crv of ['P-256', 'P-384', 'P-521']) {
  const a = await subtle.generateKey({ name: 'ECDH', namedCurve: crv }, true, ['deriveBits']);
  const b = await subtle.generateKey({ name: 'ECDH', namedCurve: crv }, true, ['deriveBits']);
  eq(a.publicKey.usages.length, 0);
  const bPub = await subtle.importKey('raw', await subtle.exportKey('raw', b.publicKey), { name: 'ECDH', namedCurve: crv }, true, []);
  const s1 = await subtle.deriveBits({ name: 'ECDH', public: bPub }, a.privateKey, 256);
  const bPriv = await subtle.importKey('pkcs8', await subtle.exportKey('pkcs8', b.privateKey), { name: 'ECDH', namedCurve: crv }, false, ['deriveBits']);
  const s2 = await subtle.deriveBits({ name: 'ECDH', public: a.publicKey }, bPriv, 256);
  eq(s1.byteLength, 32); eq(hex(s1), hex(s2), crv + ' shared secret');
}
const a = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
const c = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, true, ['deriveBits']);
await rejects(subtle.deriveBits({ name: 'ECDH', public: c.publicKey }, a.privateKey, 256), 'InvalidAccessError');
await rejects(subtle.deriveBits({ name: 'ECDH', public: a.publicKey }, a.privateKey, 512), 'OperationError');
await rejects(subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(1), info: new Uint8Array(1) }, a.privateKey, 256), 'NotSupportedError');
await rejects(subtle.deriveKey({ name: 'ECDH', public: a.publicKey }, a.privateKey, { name: 'AES-GCM', length: 256 }, true, ['encrypt']), 'NotSupportedError');
await rejects(subtle.wrapKey('raw', a.privateKey, a.privateKey, 'AES-KW'), 'NotSupportedError');
`)
}

// TestPBKDF2: RFC 6070's SHA-1 vectors.
func TestPBKDF2(t *testing.T) {
	run(t, `
const pw = await subtle.importKey('raw', enc('password'), 'PBKDF2', false, ['deriveBits']);
const salt = enc('salt');
eq(hex(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 1 }, pw, 160)), '0c60c80f961f0e71f3a9b524af6012062fe037a6', 'c=1');
eq(hex(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 2 }, pw, 160)), 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957', 'c=2');
eq(hex(await subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 4096 }, pw, 160)), '4b007901b765489abead49d926f721d065a429c1', 'c=4096');
await rejects(subtle.importKey('raw', enc('password'), 'PBKDF2', true, ['deriveBits']), 'SyntaxError');
await rejects(subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 0 }, pw, 160), 'OperationError');
const pk = await subtle.importKey('raw', enc('password'), 'PBKDF2', false, ['deriveKey']);
const aes = await subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 2 }, pk, { name: 'AES-CBC', length: 128 }, true, ['encrypt']);
eq(aes.algorithm.name, 'AES-CBC'); eq(aes.algorithm.length, 128);
eq(hex(await subtle.exportKey('raw', aes)), 'ea6c014dc72d6f8ccd1ed92ace1d41f0', 'deriveKey is deriveBits');
const js = JSON.parse(JSON.stringify(aes));
eq(JSON.stringify(aes), '{"type":"secret","extractable":true,"algorithm":{"name":"AES-CBC","length":128},"usages":["encrypt"]}');
await rejects(subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 2 }, pk, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']), 'NotSupportedError');
await rejects(subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-1', salt, iterations: 2 }, pw, { name: 'AES-GCM', length: 128 }, true, ['encrypt']), 'InvalidAccessError');
`)
}

// TestRSA: one generated key pair used for OAEP, PSS and PKCS #1 v1.5 through its exports.
func TestRSA(t *testing.T) {
	run(t, `
const kp = await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
eq(kp.publicKey.algorithm.modulusLength, 2048);
eq(JSON.stringify(kp.privateKey.algorithm), '{"name":"RSA-OAEP","modulusLength":2048,"publicExponent":{"0":1,"1":0,"2":1},"hash":{"name":"SHA-256"}}');
const ct = await subtle.encrypt({ name: 'RSA-OAEP', label: enc('l') }, kp.publicKey, enc('secret'));
eq(ct.byteLength, 256);
eq(new TextDecoder().decode(await subtle.decrypt({ name: 'RSA-OAEP', label: enc('l') }, kp.privateKey, ct)), 'secret');
await rejects(subtle.decrypt({ name: 'RSA-OAEP' }, kp.privateKey, ct), 'OperationError');
const jwk = await subtle.exportKey('jwk', kp.privateKey);
eq(jwk.kty, 'RSA'); eq(jwk.alg, 'RSA-OAEP-256'); eq(jwk.e, 'AQAB');
const priv2 = await subtle.importKey('jwk', jwk, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
eq(new TextDecoder().decode(await subtle.decrypt({ name: 'RSA-OAEP', label: enc('l') }, priv2, ct)), 'secret', 'jwk import');
const pkcs8 = await subtle.exportKey('pkcs8', kp.privateKey), spki = await subtle.exportKey('spki', kp.publicKey);
for (const [name, alg] of [['RSA-PSS', { name: 'RSA-PSS', saltLength: 32 }], ['RSASSA-PKCS1-v1_5', 'RSASSA-PKCS1-v1_5']]) {
  const sk = await subtle.importKey('pkcs8', pkcs8, { name, hash: 'SHA-256' }, false, ['sign']);
  const pk = await subtle.importKey('spki', spki, { name, hash: 'SHA-256' }, false, ['verify']);
  const sig = await subtle.sign(alg, sk, enc('data'));
  eq(await subtle.verify(alg, pk, sig, enc('data')), true, name);
  eq(await subtle.verify(alg, pk, sig, enc('date')), false, name + ' tampered');
}
await rejects(subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([3]), hash: 'SHA-256' }, true, ['encrypt']), 'NotSupportedError');
await rejects(subtle.encrypt({ name: 'RSA-OAEP' }, kp.privateKey, enc('x')), 'InvalidAccessError');
`)
}

// TestRandom: getRandomValues fills integer typed arrays in place; randomUUID is a v4 UUID.
func TestRandom(t *testing.T) {
	run(t, `
const a = new Uint32Array(16);
eq(crypto.getRandomValues(a), a, 'returns its argument');
if (a.every((x) => x === 0)) throw new Error('not filled');
const whole = new Uint8Array(8), part = whole.subarray(2, 4);
crypto.getRandomValues(part);
eq(whole[0] + whole[1] + whole[4] + whole[5] + whole[6] + whole[7], 0, 'only the view is filled');
for (const [v, name] of [[new Float64Array(2), 'TypeMismatchError'], [new Uint8Array(65537), 'QuotaExceededError']]) {
  try { crypto.getRandomValues(v); throw new Error('no error'); } catch (e) { eq(e.name, name); }
}
const u = crypto.randomUUID();
if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)) throw new Error('bad uuid ' + u);
if (u === crypto.randomUUID()) throw new Error('same uuid twice');
`)
}

func TestUnsupportedNamesTheAlgorithm(t *testing.T) {
	h := jstest.MustLoad(t, prelude+`export default async function () {
const e = await rejects(subtle.generateKey({ name: 'Ed25519' }, true, ['sign']), 'NotSupportedError');
if (!e.message.includes('Ed25519')) throw new Error(e.message);
await subtle.generateKey({ name: 'Bogus' }, true, ['sign']);
}`, nil)
	err := h.Run(t)
	if err == nil || !strings.Contains(err.Error(), "Bogus") || !strings.Contains(err.Error(), "NotSupportedError") {
		t.Fatalf("err = %v, want a NotSupportedError naming Bogus", err)
	}
}
