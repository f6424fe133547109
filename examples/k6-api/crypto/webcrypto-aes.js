// pixelk6's own script for AES in the `crypto` global: generateKey with AesKeyGenParams,
// encrypt/decrypt with AesCbcParams, AesCtrParams and AesGcmParams, importKey/exportKey in
// raw and jwk form, and the CryptoKey's fields. The known ciphertexts were computed outside
// pixelk6 (`openssl enc` for CBC and CTR, Go's crypto/cipher for GCM).
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const PALETTE = 'sixteen colours, one palette';
const KEY_HEX = '3482276dbbd543d14c2da45f1c0d98cf';
const IV_HEX = '4cbd1b4ce5628b82da7c99dcc59d6de9';
const CBC_HEX = '2323afbe9a6f8aadcd108ca62ddbc7a9c3a37b529aa09f4c6b5c14a97692462d';
const CTR_HEX = '2f41965a4b3b2afbec7654824e8dc79e3a1003691e3c42e50d9d436f';
// GCM: nonce = the first 12 bytes of IV_HEX, additional data 'tile 7', 128-bit tag
const GCM_HEX = 'dbd6f0ab4988ec24be40610e596a4744e11b8f72b4738b2094651448e8b1b4f98eeac570adfee66974ab8858';

const fromHex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const text = (buf) => new TextDecoder().decode(buf);

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  return null;
}

// one round trip per mode with a fresh key, checking the key's fields on the way
async function roundTrip(name, length, paramsFor) {
  const key = await crypto.subtle.generateKey({ name, length }, true, ['encrypt', 'decrypt']);
  check(key, {
    [`${name}-${length} key is secret`]: (k) => k.type === 'secret',
    [`${name}-${length} key algorithm`]: (k) => k.algorithm.name === name && k.algorithm.length === length,
    [`${name}-${length} key usages`]: (k) => k.usages.includes('encrypt') && k.usages.includes('decrypt'),
    [`${name}-${length} key is extractable`]: (k) => k.extractable === true,
  });
  const params = paramsFor();
  const sealed = await crypto.subtle.encrypt(params, key, new TextEncoder().encode(PALETTE));
  const opened = await crypto.subtle.decrypt(params, key, sealed);
  check(sealed, {
    [`${name}-${length} ciphertext differs from the plaintext`]: (c) => text(c) !== PALETTE,
    [`${name}-${length} decrypt(encrypt(x)) is x`]: () => text(opened) === PALETTE,
  });
  return { key, params, sealed };
}

export default async function () {
  const randomIV = () => crypto.getRandomValues(new Uint8Array(16));
  const randomNonce = () => crypto.getRandomValues(new Uint8Array(12));

  await roundTrip('AES-CBC', 128, () => ({ name: 'AES-CBC', iv: randomIV() }));
  await roundTrip('AES-CTR', 192, () => ({ name: 'AES-CTR', counter: randomIV(), length: 64 }));
  const gcm = await roundTrip('AES-GCM', 256, () => ({
    name: 'AES-GCM',
    iv: randomNonce(),
    additionalData: new TextEncoder().encode('tile 7'),
    tagLength: 128,
  }));

  // GCM authenticates: a flipped bit or other additional data makes decrypt reject
  const bent = new Uint8Array(gcm.sealed.slice(0));
  bent[3] ^= 0x01;
  check(await rejects(crypto.subtle.decrypt(gcm.params, gcm.key, bent)), {
    'AES-GCM rejects a tampered ciphertext': (e) => e !== null,
  });
  const otherAD = Object.assign({}, gcm.params, { additionalData: new TextEncoder().encode('tile 8') });
  check(await rejects(crypto.subtle.decrypt(otherAD, gcm.key, gcm.sealed)), {
    'AES-GCM rejects other additional data': (e) => e !== null,
  });

  // known answers with a key and IV of our own, imported raw
  const usages = ['encrypt', 'decrypt'];
  const plain = new TextEncoder().encode(PALETTE);
  const cbcKey = await crypto.subtle.importKey('raw', fromHex(KEY_HEX), 'AES-CBC', true, usages);
  const ctrKey = await crypto.subtle.importKey('raw', fromHex(KEY_HEX), { name: 'AES-CTR' }, true, usages);
  const gcmKey = await crypto.subtle.importKey('raw', fromHex(KEY_HEX), { name: 'AES-GCM', length: 128 }, true, usages);
  const cbc = await crypto.subtle.encrypt({ name: 'AES-CBC', iv: fromHex(IV_HEX) }, cbcKey, plain);
  const ctr = await crypto.subtle.encrypt({ name: 'AES-CTR', counter: fromHex(IV_HEX), length: 64 }, ctrKey, plain);
  const gcmParams = { name: 'AES-GCM', iv: fromHex(IV_HEX).slice(0, 12), additionalData: new TextEncoder().encode('tile 7') };
  const gcmKA = await crypto.subtle.encrypt(gcmParams, gcmKey, plain);
  check(null, {
    'AES-CBC known ciphertext (PKCS#7 padded)': () => toHex(cbc) === CBC_HEX,
    'AES-CTR known ciphertext (no padding)': () => toHex(ctr) === CTR_HEX,
    'AES-GCM known ciphertext and tag': () => toHex(gcmKA) === GCM_HEX,
  });
  const gcmOpened = await crypto.subtle.decrypt(gcmParams, gcmKey, fromHex(GCM_HEX));
  check(gcmOpened, { 'AES-GCM opens the known ciphertext': (p) => text(p) === PALETTE });

  // a shorter tag: 96 bits makes the output 4 bytes shorter
  const short = await crypto.subtle.encrypt(Object.assign({ tagLength: 96 }, gcmParams), gcmKey, plain);
  check(short, { 'AES-GCM tagLength 96 gives a 12-byte tag': (c) => c.byteLength === plain.length + 12 });

  // exportKey: raw gives the bytes back; jwk gives an oct key that imports to the same key
  check(await crypto.subtle.exportKey('raw', cbcKey), { 'raw export is the imported bytes': (r) => toHex(r) === KEY_HEX });
  const jwk = await crypto.subtle.exportKey('jwk', gcmKey);
  check(jwk, {
    'jwk export is an oct key': (j) => j.kty === 'oct' && j.alg === 'A128GCM' && j.ext === true,
    'jwk k is the base64url key': (j) => typeof j.k === 'string' && !/[+/=]/.test(j.k),
  });
  const again = await crypto.subtle.importKey('jwk', jwk, 'AES-GCM', false, ['decrypt']);
  const reopened = await crypto.subtle.decrypt(gcmParams, again, fromHex(GCM_HEX));
  check(again, {
    're-imported jwk key decrypts the known ciphertext': () => text(reopened) === PALETTE,
    'a key imported non-extractable says so': (k) => k.extractable === false,
  });
  check(await rejects(crypto.subtle.exportKey('raw', again)), { 'a non-extractable key refuses export': (e) => e !== null });

  // a key may only be used as its usages allow
  const encryptOnly = await crypto.subtle.importKey('raw', fromHex(KEY_HEX), 'AES-CBC', false, ['encrypt']);
  check(await rejects(crypto.subtle.decrypt({ name: 'AES-CBC', iv: fromHex(IV_HEX) }, encryptOnly, fromHex(CBC_HEX))), {
    'decrypt with an encrypt-only key is rejected': (e) => e !== null,
  });

  console.log('webcrypto-aes: all steps ran');
}
