// pixelk6's own script for k6/crypto's randomBytes(): an ArrayBuffer of the asked size,
// different on every call.
import { check } from 'k6';
import { randomBytes, sha256 } from 'k6/crypto';

export const options = { thresholds: { checks: ['rate==1'] } };

export default function () {
  const nonces = [];
  for (let i = 0; i < 8; i++) nonces.push(randomBytes(24));

  check(nonces[0], {
    'randomBytes returns an ArrayBuffer': (b) => b instanceof ArrayBuffer,
    'of the asked length': (b) => b.byteLength === 24,
  });
  const seen = new Set(nonces.map((b) => Array.from(new Uint8Array(b)).join(',')));
  check(seen, { 'eight draws of 24 bytes are all different': (s) => s.size === 8 });

  // 4 KiB of random bytes use most byte values (missing more than a few is beyond chance)
  const big = new Uint8Array(randomBytes(4096));
  const values = new Set(big);
  check(values, { '4096 random bytes use at least 240 of the 256 values': (v) => v.size >= 240 });

  // the result is usable wherever k6/crypto takes binary input
  check(sha256(randomBytes(16), 'hex'), { 'hashing random bytes gives 64 hex digits': (h) => /^[0-9a-f]{64}$/.test(h) });

  // a size below one byte is an error
  let refused = false;
  try {
    randomBytes(0);
  } catch (e) {
    refused = true;
  }
  check(refused, { 'randomBytes(0) throws': (r) => r === true });

  console.log('k6-crypto-randombytes: all steps ran');
}
