import crypto from 'k6/crypto';

export default function () {
  let hash = crypto.sha512_224('hello world!', 'hex');
  console.log(hash);
  const binArray = [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33];
  hash = crypto.sha512_224(new Uint8Array(binArray).buffer, 'hex');
  console.log(hash);
}
