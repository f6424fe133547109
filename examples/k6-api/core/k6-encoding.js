// k6/encoding: base64 in its four alphabets, to strings and to ArrayBuffers.
import encoding from 'k6/encoding';
import { check } from 'k6';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

export default function () {
  const text = 'empathy?>'; // '?' and '>' make '/' and '+' in standard base64
  check(encoding.b64encode(text), { 'std': (s) => s === 'ZW1wYXRoeT8+' });
  check(encoding.b64encode(text, 'url'), { 'url': (s) => s === 'ZW1wYXRoeT8-' });
  check(encoding.b64encode('ab'), { 'std pads': (s) => s === 'YWI=' });
  check(encoding.b64encode('ab', 'rawstd'), { 'rawstd does not pad': (s) => s === 'YWI' });
  check(encoding.b64encode('ab?', 'rawurl'), { 'rawurl': (s) => s === 'YWI_' });

  check(encoding.b64decode('ZW1wYXRoeT8+', 'std', 's'), { 'decode to a string': (s) => s === text });
  check(encoding.b64decode('YWI', 'rawstd', 's'), { 'decode rawstd': (s) => s === 'ab' });
  const buf = encoding.b64decode('AAEC/w==');
  check(buf, {
    'decode to an ArrayBuffer by default': (b) => b instanceof ArrayBuffer,
    'with the bytes': (b) => Array.from(new Uint8Array(b)).join(',') === '0,1,2,255',
  });
  const bytes = new Uint8Array([104, 105]).buffer;
  check(encoding.b64encode(bytes), { 'encode an ArrayBuffer': (s) => s === 'aGk=' });
  console.log('k6-encoding: all steps ran');
}
