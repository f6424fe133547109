// pixelk6's own script for HMAC in the `crypto` global: generateKey with HmacKeyGenParams,
// sign/verify, importKey of raw bytes and exportKey/importKey of a JsonWebKey. The known
// MACs were computed outside pixelk6 with `openssl dgst -hmac`.
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const MOVE = 'sprite 42 moved to (3, 7)';
const SECRET = 'palette-key-16c';
const MAC_SHA256 = 'bdac5b30047ef84f3631008e842ea9ebecb501301b3f613071fa9969c042f230';
const MAC_SHA384 = 'a2bc4306e71e9047e4a945aaed8064499e01c1f09fb28df38bff72792b50621d3ac9d74728b0fa1f7b14745564e92b82';

const enc = (s) => new TextEncoder().encode(s);
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export default async function () {
  // generated keys: the default length is the hash's block size, or the one asked for
  for (const [hash, bits] of [['SHA-1', 512], ['SHA-256', 512], ['SHA-384', 1024], ['SHA-512', 1024]]) {
    const key = await crypto.subtle.generateKey({ name: 'HMAC', hash: { name: hash } }, true, ['sign', 'verify']);
    check(key, {
      [`HMAC ${hash} key fields`]: (k) => k.type === 'secret' && k.algorithm.name === 'HMAC' && k.algorithm.hash.name === hash,
      [`HMAC ${hash} default length is ${bits}`]: (k) => k.algorithm.length === bits,
    });
    const mac = await crypto.subtle.sign('HMAC', key, enc(MOVE));
    check(mac, { [`HMAC ${hash} MAC is as long as the hash`]: (m) => m.byteLength === { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }[hash] });
    const ok = await crypto.subtle.verify('HMAC', key, mac, enc(MOVE));
    const tampered = await crypto.subtle.verify('HMAC', key, mac, enc(MOVE.replace('42', '43')));
    check(null, {
      [`HMAC ${hash} verify(sign(m)) is true`]: () => ok === true,
      [`HMAC ${hash} verify of another message is false`]: () => tampered === false,
    });
  }
  const sized = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512', length: 256 }, true, ['sign']);
  check(sized, { 'HMAC key with an explicit length of 256 bits': (k) => k.algorithm.length === 256 });
  const sizedRaw = await crypto.subtle.exportKey('raw', sized);
  check(sizedRaw, { 'and exports 32 bytes': (r) => r.byteLength === 32 });

  // known answers with a secret of our own
  const k256 = await crypto.subtle.importKey('raw', enc(SECRET), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
  const k384 = await crypto.subtle.importKey('raw', enc(SECRET), { name: 'HMAC', hash: { name: 'SHA-384' } }, false, ['sign']);
  const m256 = await crypto.subtle.sign({ name: 'HMAC' }, k256, enc(MOVE));
  const m384 = await crypto.subtle.sign('HMAC', k384, enc(MOVE));
  check(null, {
    'HMAC-SHA256 of our message is the known MAC': () => toHex(m256) === MAC_SHA256,
    'HMAC-SHA384 of our message is the known MAC': () => toHex(m384) === MAC_SHA384,
  });

  // JsonWebKey round trip: export, look at the fields, import, same MAC
  const jwk = await crypto.subtle.exportKey('jwk', k256);
  check(jwk, {
    'jwk is an oct key for HS256': (j) => j.kty === 'oct' && j.alg === 'HS256',
    'jwk k is the base64url secret': (j) => j.k === 'cGFsZXR0ZS1rZXktMTZj',
    'jwk carries the key usages': (j) => j.key_ops.includes('sign') && j.key_ops.includes('verify'),
  });
  const fromJwk = await crypto.subtle.importKey('jwk', jwk, { name: 'HMAC', hash: 'SHA-256' }, true, ['verify']);
  const jwkOk = await crypto.subtle.verify('HMAC', fromJwk, m256, enc(MOVE));
  check(jwkOk, { 'the re-imported jwk verifies the known MAC': (v) => v === true });

  // a JsonWebKey written by hand imports too
  const handWritten = { kty: 'oct', k: 'cGFsZXR0ZS1rZXktMTZj', alg: 'HS384', ext: false };
  const k384b = await crypto.subtle.importKey('jwk', handWritten, { name: 'HMAC', hash: 'SHA-384' }, false, ['sign']);
  const again384 = await crypto.subtle.sign('HMAC', k384b, enc(MOVE));
  check(again384, { 'a hand-written HS384 jwk signs the known MAC': (m) => toHex(m) === MAC_SHA384 });

  console.log('webcrypto-hmac: all steps ran');
}
