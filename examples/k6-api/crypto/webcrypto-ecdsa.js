// pixelk6's own script for ECDSA in the `crypto` global: generateKey with EcKeyGenParams on
// P-256, P-384 and P-521, sign/verify with EcdsaParams, and importKey/exportKey in raw, spki,
// pkcs8 and jwk form. SIGNER_* is a throwaway P-256 key made for this script with `openssl
// genpkey`; KNOWN_SIG is openssl's signature of MOVE (`openssl dgst -sha256 -sign`), turned
// from DER into the r||s form Web Crypto uses.
import { check } from 'k6';
import { b64decode } from 'k6/encoding';

export const options = { thresholds: { checks: ['rate==1'] } };

const MOVE = 'sprite 42 moved to (3, 7)';
const SIGNER_SPKI = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyd+wPaBHv3Qu5a5aRGO4k8F19aaWKKOUYxfSWlHszioflOiQmDsT6bdDs75XQ4yUrWGD0cOhErCwH8/KdtRxLg==';
const SIGNER_PKCS8 = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgapCcsaRa05c9g67ke3uWziBeauYAo/RT1118icDjvtahRANCAATJ37A9oEe/dC7lrlpEY7iTwXX1ppYoo5RjF9JaUezOKh+U6JCYOxPpt0OzvldDjJStYYPRw6ESsLAfz8p21HEu';
const SIGNER_RAW_HEX = '04c9dfb03da047bf742ee5ae5a4463b893c175f5a69628a3946317d25a51ecce2a1f94e890983b13e9b743b3be57438c94ad6183d1c3a112b0b01fcfca76d4712e';
const KNOWN_SIG_HEX = '33d80eb65a1863477518fedaab3c0491300c6a5b00bbe1566f1ec23cb8f8e6f700d366b4b84cfe28a87ccf594b47f37090cf7a1474f549b72efa57c64d4dce63';

const enc = (s) => new TextEncoder().encode(s);
const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

// bytes of a coordinate or signature half, by curve
const SIZE = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const HASH = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' };

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  return null;
}

export default async function () {
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
    check(pair, {
      [`${curve} pair: private and public halves`]: (p) => p.privateKey.type === 'private' && p.publicKey.type === 'public',
      [`${curve} pair: algorithm names the curve`]: (p) => p.publicKey.algorithm.name === 'ECDSA' && p.publicKey.algorithm.namedCurve === curve,
      [`${curve} pair: usages split`]: (p) => p.privateKey.usages.join() === 'sign' && p.publicKey.usages.join() === 'verify',
      [`${curve} pair: the public half is always extractable`]: (p) => p.publicKey.extractable === true,
    });
    const params = { name: 'ECDSA', hash: { name: HASH[curve] } };
    const sig = await crypto.subtle.sign(params, pair.privateKey, enc(MOVE));
    const good = await crypto.subtle.verify(params, pair.publicKey, sig, enc(MOVE));
    const moved = await crypto.subtle.verify(params, pair.publicKey, sig, enc(MOVE.replace('(3, 7)', '(3, 8)')));
    const bent = new Uint8Array(sig.slice(0));
    bent[bent.length - 1] ^= 0x80;
    const bentOk = await crypto.subtle.verify(params, pair.publicKey, bent, enc(MOVE));
    check(sig, {
      [`${curve} signature is r||s`]: (s) => s.byteLength === 2 * SIZE[curve],
      [`${curve} verify(sign(m)) is true`]: () => good === true,
      [`${curve} verify of another message is false`]: () => moved === false,
      [`${curve} verify of a bent signature is false`]: () => bentOk === false,
    });

    // jwk export of the private key re-imports and signs for the same public key
    const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
    check(jwk, { [`${curve} private jwk has kty, crv, x, y, d`]: (j) => j.kty === 'EC' && j.crv === curve && !!j.x && !!j.y && !!j.d });
    const reimported = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    const sig2 = await crypto.subtle.sign(params, reimported, enc(MOVE));
    const ok2 = await crypto.subtle.verify(params, pair.publicKey, sig2, enc(MOVE));
    check(ok2, { [`${curve} a signature by the re-imported jwk verifies`]: (v) => v === true });
  }

  // a signature made by openssl verifies under the public key in each import format
  const p256 = { name: 'ECDSA', namedCurve: 'P-256' };
  const bySpki = await crypto.subtle.importKey('spki', b64decode(SIGNER_SPKI), p256, true, ['verify']);
  const byRaw = await crypto.subtle.importKey('raw', fromHex(SIGNER_RAW_HEX), p256, true, ['verify']);
  const sha256 = { name: 'ECDSA', hash: 'SHA-256' };
  const knownSig = fromHex(KNOWN_SIG_HEX);
  const viaSpki = await crypto.subtle.verify(sha256, bySpki, knownSig, enc(MOVE));
  const viaRaw = await crypto.subtle.verify(sha256, byRaw, knownSig, enc(MOVE));
  const wrongMsg = await crypto.subtle.verify(sha256, bySpki, knownSig, enc(MOVE + '.'));
  check(null, {
    "openssl's signature verifies under the spki key": () => viaSpki === true,
    "openssl's signature verifies under the raw key": () => viaRaw === true,
    "openssl's signature does not cover another message": () => wrongMsg === false,
  });

  // the pkcs8 private key signs what the spki public key verifies; exports give the inputs back
  const signer = await crypto.subtle.importKey('pkcs8', b64decode(SIGNER_PKCS8), p256, true, ['sign']);
  const mine = await crypto.subtle.sign(sha256, signer, enc(MOVE));
  const mineOk = await crypto.subtle.verify(sha256, byRaw, mine, enc(MOVE));
  check(mineOk, { 'the pkcs8 key signs for the known public key': (v) => v === true });
  check(await crypto.subtle.exportKey('raw', bySpki), { 'raw export of the spki key is the known point': (r) => toHex(r) === SIGNER_RAW_HEX });
  check(await crypto.subtle.exportKey('spki', byRaw), { 'spki export of the raw key is the known spki': (r) => toHex(r) === toHex(b64decode(SIGNER_SPKI)) });
  const pubJwk = await crypto.subtle.exportKey('jwk', byRaw);
  check(pubJwk, { 'a public jwk has no d': (j) => j.kty === 'EC' && j.crv === 'P-256' && j.d === undefined });

  // a key of one curve is not accepted as another
  check(await rejects(crypto.subtle.importKey('spki', b64decode(SIGNER_SPKI), { name: 'ECDSA', namedCurve: 'P-384' }, true, ['verify'])), {
    'a P-256 spki does not import as P-384': (e) => e !== null,
  });

  console.log('webcrypto-ecdsa: all steps ran');
}
