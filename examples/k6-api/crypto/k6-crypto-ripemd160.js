import crypto from 'k6/crypto';

export default function () {
  let hash = crypto.ripemd160('hello world!', 'hex');
  console.log(hash);
  const binArray = [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33];
  hash = crypto.ripemd160(new Uint8Array(binArray).buffer, 'hex');
  console.log(hash);
}
