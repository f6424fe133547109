// pixelk6's own script for the random half of the `crypto` global: getRandomValues() on
// the integer typed arrays and randomUUID().
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function threw(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return null;
}

export default function () {
  // getRandomValues fills the array in place and returns that same array
  const seeds = new Uint32Array(12);
  const returned = crypto.getRandomValues(seeds);
  check(seeds, {
    'getRandomValues returns its argument': (a) => a === returned,
    'twelve 32-bit seeds are not all zero': (a) => a.some((v) => v !== 0),
    'and not all equal': (a) => new Set(a).size > 1,
  });

  for (const Kind of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array]) {
    const arr = new Kind(64);
    crypto.getRandomValues(arr);
    check(arr, { [`${Kind.name} of 64 gets filled`]: (a) => a.some((v) => v !== 0) });
  }

  // 65536 bytes is the most one call may fill; one more byte is a QuotaExceededError
  check(crypto.getRandomValues(new Uint8Array(65536)), { '65536 bytes are allowed': (a) => a.length === 65536 });
  const tooBig = threw(() => crypto.getRandomValues(new Uint8Array(65537)));
  check(tooBig, { '65537 bytes throw QuotaExceededError': (e) => e !== null && e.name === 'QuotaExceededError' });

  // floats are not integer arrays: a TypeMismatchError
  const floats = threw(() => crypto.getRandomValues(new Float32Array(4)));
  check(floats, { 'a Float32Array is refused': (e) => e !== null });

  // randomUUID: version 4, variant 10xx, lowercase, never repeated
  const ids = [];
  for (let i = 0; i < 100; i++) ids.push(crypto.randomUUID());
  check(ids, {
    'every randomUUID is a v4 UUID': (l) => l.every((id) => UUID_V4.test(id)),
    'a hundred randomUUIDs are distinct': (l) => new Set(l).size === 100,
  });

  console.log('webcrypto-random: all steps ran');
}
