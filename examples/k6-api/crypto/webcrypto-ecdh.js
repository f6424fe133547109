// pixelk6's own script for ECDH in the `crypto` global: generateKey with EcKeyGenParams,
// deriveBits with EcdhKeyDeriveParams ({ name, public }). ALICE_* and BOB_*
// are throwaway P-256 keys made for this script with `openssl genpkey`; SHARED_HEX is the
// secret `openssl pkeyutl -derive` computes from them.
import { check } from 'k6';
import { b64decode } from 'k6/encoding';

export const options = { thresholds: { checks: ['rate==1'] } };

const ALICE_PKCS8 = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiatoNpVdLAhylcr5MVCbzKoLckt8bD+VC4Rcib4z1+yhRANCAASTr+mydEFjjerQLbz9nuTjID/kfCez5hbMSiFQhFSDLziaygzI7170uHnNX4mj00mOx1s77/wIgxAxJIyiHeNO';
const ALICE_SPKI = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEk6/psnRBY43q0C28/Z7k4yA/5Hwns+YWzEohUIRUgy84msoMyO9e9Lh5zV+Jo9NJjsdbO+/8CIMQMSSMoh3jTg==';
const BOB_PKCS8 = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghlh/r0Cu4OZHSvzImAuJwlGvOEqrFq5u8EWdmdKMpZWhRANCAASbqhToDabXKoudTEJIoltVGXWMp7SGKuZ1NHjEAw33m0gVdeHN4NE54vQLGggk/qOeqWXJ4yG7EJwJ8jpCzkpm';
const BOB_RAW_HEX = '049baa14e80da6d72a8b9d4c4248a25b5519758ca7b4862ae6753478c4030df79b481575e1cde0d139e2f40b1a0824fea39ea965c9e321bb109c09f23a42ce4a66';
const SHARED_HEX = '03afa3a95d576904a890992ccb100223f2cd9e61cbd873e42f20067735eac863';

const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export default async function () {
  // two fresh parties per curve agree on a secret of the curve's size
  for (const [curve, bits] of [['P-256', 256], ['P-384', 384], ['P-521', 528]]) {
    const usages = ['deriveBits', 'deriveKey'];
    const a = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: curve }, true, usages);
    const b = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: curve }, true, usages);
    check(a, {
      [`${curve} ECDH pair fields`]: (p) => p.privateKey.algorithm.name === 'ECDH' && p.publicKey.algorithm.namedCurve === curve,
      [`${curve} ECDH public key has no usages`]: (p) => p.publicKey.usages.length === 0,
    });
    const ab = await crypto.subtle.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, bits);
    const ba = await crypto.subtle.deriveBits({ name: 'ECDH', public: a.publicKey }, b.privateKey, bits);
    check(ab, {
      [`${curve} secret is ${bits} bits`]: (s) => s.byteLength * 8 === bits,
      [`${curve} both sides derive the same bits`]: (s) => toHex(s) === toHex(ba),
    });
    // asking for fewer bits gives a prefix of the secret
    const short = await crypto.subtle.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, 128);
    check(short, { [`${curve} 128 bits are the secret's first 16 bytes`]: (s) => toHex(s) === toHex(ab).slice(0, 32) });
  }

  // the known pair: each side's private key with the other's public key gives openssl's secret
  const p256 = { name: 'ECDH', namedCurve: 'P-256' };
  const alice = await crypto.subtle.importKey('pkcs8', b64decode(ALICE_PKCS8), p256, false, ['deriveBits', 'deriveKey']);
  const aliceSpki = await crypto.subtle.importKey('spki', b64decode(ALICE_SPKI), p256, true, []);
  const bob = await crypto.subtle.importKey('pkcs8', b64decode(BOB_PKCS8), p256, false, ['deriveBits']);
  const bobRaw = await crypto.subtle.importKey('raw', fromHex(BOB_RAW_HEX), p256, true, []);
  const fromAlice = await crypto.subtle.deriveBits({ name: 'ECDH', public: bobRaw }, alice, 256);
  const fromBob = await crypto.subtle.deriveBits({ name: 'ECDH', public: aliceSpki }, bob, 256);
  check(null, {
    "alice's side is openssl's secret": () => toHex(fromAlice) === SHARED_HEX,
    "bob's side is openssl's secret": () => toHex(fromBob) === SHARED_HEX,
  });

  // the shared secret is key material: both sides import it as the same AES-GCM key
  const aesA = await crypto.subtle.importKey('raw', fromAlice, 'AES-GCM', false, ['encrypt']);
  const aesB = await crypto.subtle.importKey('raw', fromBob, 'AES-GCM', false, ['decrypt']);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const note = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, aesA, new TextEncoder().encode('meet at tile 9'));
  const read = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aesB, note);
  check(read, { "bob reads alice's note with his side of the secret": (r) => new TextDecoder().decode(r) === 'meet at tile 9' });

  console.log('webcrypto-ecdh: all steps ran');
}
