// pixelk6's own script for PBKDF2 in the `crypto` global: importKey of a password,
// deriveBits and deriveKey with Pbkdf2Params. The known derivations were computed outside
// pixelk6 with `openssl kdf ... PBKDF2`.
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const PASSPHRASE = 'hunter2-but-longer';
const SALT = 'pixelk6-salt-01';
// 32 bytes, SHA-256, 4096 iterations
const DK_SHA256 = '1ebe5d67572a22a6740e759aadbbe488bed03e05bd9a13f1062123bb747eaa12';
// 20 bytes, SHA-1, 1000 iterations
const DK_SHA1 = '271b9564f97081e35d23e0cd5efb67d5651c3f57';

const enc = (s) => new TextEncoder().encode(s);
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  return null;
}

export default async function () {
  const password = await crypto.subtle.importKey('raw', enc(PASSPHRASE), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
  check(password, {
    'a PBKDF2 password key is secret and not extractable': (k) => k.type === 'secret' && k.extractable === false,
    'its algorithm is PBKDF2': (k) => k.algorithm.name === 'PBKDF2',
  });

  const bits256 = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc(SALT), iterations: 4096 }, password, 256);
  const bits160 = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: { name: 'SHA-1' }, salt: enc(SALT), iterations: 1000 }, password, 160);
  check(null, {
    'PBKDF2-SHA256, 4096 rounds, 256 bits is the known key': () => toHex(bits256) === DK_SHA256,
    'PBKDF2-SHA1, 1000 rounds, 160 bits is the known key': () => toHex(bits160) === DK_SHA1,
  });

  // salt and iteration count both matter
  const otherSalt = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: crypto.getRandomValues(new Uint8Array(16)), iterations: 4096 }, password, 256);
  const fewerRounds = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc(SALT), iterations: 4095 }, password, 256);
  check(null, {
    'a random salt derives other bits': () => toHex(otherSalt) !== DK_SHA256,
    'one round fewer derives other bits': () => toHex(fewerRounds) !== DK_SHA256,
  });

  // deriveKey to an AES-GCM key: its raw bytes are the deriveBits output, and it encrypts
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: enc(SALT), iterations: 4096 };
  const aes = await crypto.subtle.deriveKey(params, password, { name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  check(aes, { 'the derived key is AES-GCM 256': (k) => k.algorithm.name === 'AES-GCM' && k.algorithm.length === 256 && k.type === 'secret' });
  check(await crypto.subtle.exportKey('raw', aes), { "the derived AES key's bytes are the known key": (r) => toHex(r) === DK_SHA256 });
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, aes, enc('high score: 31337'));
  const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, aes, sealed);
  check(opened, { 'the derived AES key round-trips a message': (p) => new TextDecoder().decode(p) === 'high score: 31337' });

  // deriveKey to a 128-bit AES-CBC key from the SHA-1 derivation: its bytes are the first
  // 16 of the known 20 (PBKDF2 output is a prefix of a longer output)
  const cbc = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-1', salt: enc(SALT), iterations: 1000 },
    password,
    { name: 'AES-CBC', length: 128 },
    true,
    ['encrypt', 'decrypt'],
  );
  check(await crypto.subtle.exportKey('raw', cbc), { "the derived AES-CBC key is the known key's first 16 bytes": (r) => toHex(r) === DK_SHA1.slice(0, 32) });
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const box = await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, cbc, enc(SALT));
  const unboxed = await crypto.subtle.decrypt({ name: 'AES-CBC', iv }, cbc, box);
  check(unboxed, { 'the derived AES-CBC key round-trips a message': (p) => new TextDecoder().decode(p) === SALT });

  // zero iterations are an error; a password key cannot be exported
  check(await rejects(crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc(SALT), iterations: 0 }, password, 256)), {
    'zero iterations are rejected': (e) => e !== null,
  });
  check(await rejects(crypto.subtle.exportKey('raw', password)), { 'the password key cannot be exported': (e) => e !== null });

  console.log('webcrypto-pbkdf2: all steps ran');
}
