// An init context that never ends: only a signal (a cancelled context) stops it. With
// ONLY_VUS=yes the first init context (__VU 0, where pixelk6 reads the options) passes and
// the VU's own init blocks.
console.log('init started ' + __VU);
if (__ENV.ONLY_VUS !== 'yes' || __VU > 0) {
  for (;;) {}
}
export const options = { vus: 1, iterations: 1 };
export default function () {}
