// pixelk6's own script for crypto.subtle.digest: SHA-1, SHA-256, SHA-384 and SHA-512 of a
// message of ours, named by string or by { name }, over an ArrayBuffer, a typed array or a
// DataView. The expected digests were computed outside pixelk6 with `openssl dgst`.
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const MOVE = 'sprite 42 moved to (3, 7)';

const EXPECTED = {
  'SHA-1': 'fea8845a3de01584c38094b230f9ea5568c8a15b',
  'SHA-256': 'dda82843930e20a5c7336a3cbbb6842ca643f95b09803cd486335df99ee7cec1',
  'SHA-384': '77f1d942d8eb80a9a6d79340ad84b0e4ffb100842690a2c99daa1413baab2cb197515f95fe88f71b44a98ac9c0648e53',
  'SHA-512': '557194c39a74ed4a29d2494e5b3d444cb9f789adca23a6f4daa65790e3de67ecac805924adea0d8f3e965d7dfe2df741eaed016ced27d8a2e251bd4c5fd0fa8b',
};

const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export default async function () {
  const bytes = new TextEncoder().encode(MOVE);

  for (const [name, want] of Object.entries(EXPECTED)) {
    const byName = await crypto.subtle.digest(name, bytes);
    const byObject = await crypto.subtle.digest({ name }, bytes.buffer);
    const byView = await crypto.subtle.digest(name, new DataView(bytes.buffer));
    check(byName, {
      [`${name} digest is an ArrayBuffer`]: (d) => d instanceof ArrayBuffer,
      [`${name} of our message is the known digest`]: (d) => toHex(d) === want,
      [`${name} by { name } over an ArrayBuffer agrees`]: () => toHex(byObject) === want,
      [`${name} over a DataView agrees`]: () => toHex(byView) === want,
    });
  }

  // a digest covers only the bytes of the view it is given
  const padded = new Uint8Array(bytes.length + 8);
  padded.set(bytes, 4);
  const inner = await crypto.subtle.digest('SHA-256', padded.subarray(4, 4 + bytes.length));
  check(inner, { 'SHA-256 of a subarray hashes just that window': (d) => toHex(d) === EXPECTED['SHA-256'] });

  // an unknown hash rejects
  let rejected = null;
  try {
    await crypto.subtle.digest('SHA-3-256', bytes);
  } catch (e) {
    rejected = e;
  }
  check(rejected, { 'an unknown hash name is rejected': (e) => e !== null });

  console.log('webcrypto-digest: all steps ran');
}
