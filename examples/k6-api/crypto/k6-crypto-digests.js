// pixelk6's own script for the one-shot digest functions of k6/crypto (md4, md5, sha1,
// sha256, sha384, sha512, sha512_224, sha512_256, ripemd160), createHash and the Hasher
// it returns. The expected digests were computed outside pixelk6 with `openssl dgst`.
import { check } from 'k6';
import { md4, md5, sha1, sha256, sha384, sha512, sha512_224, sha512_256, ripemd160, createHash } from 'k6/crypto';

export const options = { thresholds: { checks: ['rate==1'] } };

const TILE_NOTE = 'Tiles of 8x8 pixels, 64 per tile.';

// hex digests of TILE_NOTE, by function name
const KNOWN = {
  md4: [md4, '0941eff2e369464f0b5a51665ed4fa0b'],
  md5: [md5, '048ff379356b82c631d8cc25dbc0eeb1'],
  sha1: [sha1, 'b672850ba34d1196ebb082cbdae49dcbe9916544'],
  sha256: [sha256, 'c16a90cf0022c14c2f6eacf4b981a91bb47629bab990317ab99c3e1e8219102b'],
  sha384: [sha384, '2ee59d29830cad75d33bc20d549340606bce190fa8694292cd40316f00e4126b1868c890c517e884cfbd7142108bb2fe'],
  sha512: [sha512, 'a654b5509f7801a8026ef9fd3af111737cbf2015e8122bbcd22a6af2c1019c5d0c5ade14142b3b0e1a0376fa01c779d261c3c5e00a93fd1e63517e4285de4715'],
  sha512_224: [sha512_224, '99a4f1b82513f5287c57e1caccd0c5b37caad96cfdde4709b9d574d4'],
  sha512_256: [sha512_256, 'c1d977efcf159f12c2a48f83a301cd1f8d22ac30d74d2e3168f808286b29e499'],
  ripemd160: [ripemd160, '6020337f7898a78360c36f4a11d14b2219c195bd'],
};

// SHA-256 of TILE_NOTE in the other output encodings
const SHA256_B64 = 'wWqQzwAiwUwvbqz0uYGpG7R2Kbq5kDF6uZw+HoIZECs=';
const SHA256_B64URL = 'wWqQzwAiwUwvbqz0uYGpG7R2Kbq5kDF6uZw-HoIZECs=';
const SHA256_B64RAWURL = 'wWqQzwAiwUwvbqz0uYGpG7R2Kbq5kDF6uZw-HoIZECs';

function bytesOf(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export default function () {
  for (const name of Object.keys(KNOWN)) {
    const [fn, hex] = KNOWN[name];
    const fromString = fn(TILE_NOTE, 'hex');
    const fromBuffer = fn(bytesOf(TILE_NOTE).buffer, 'hex');
    check(fromString, {
      [`${name}(string) is the known digest`]: (d) => d === hex,
      [`${name}(ArrayBuffer) equals ${name}(string)`]: (d) => d === fromBuffer,
    });
  }

  check(sha256(TILE_NOTE, 'base64'), { 'sha256 base64': (d) => d === SHA256_B64 });
  check(sha256(TILE_NOTE, 'base64url'), { 'sha256 base64url': (d) => d === SHA256_B64URL });
  check(sha256(TILE_NOTE, 'base64rawurl'), { 'sha256 base64rawurl': (d) => d === SHA256_B64RAWURL });
  const raw = new Uint8Array(sha256(TILE_NOTE, 'binary'));
  check(raw, {
    'sha256 binary is 32 bytes': (b) => b.length === 32,
    'sha256 binary starts c1 6a, ends 10 2b': (b) => b[0] === 0xc1 && b[1] === 0x6a && b[30] === 0x10 && b[31] === 0x2b,
  });

  // A Hasher fed in pieces gives the digest of the whole; digest() may be read in several
  // encodings once the input is complete.
  const hasher = createHash('sha256');
  for (const piece of ['Tiles of ', '8x8 pixels', ', 64 per tile.']) hasher.update(piece);
  check(hasher, {
    'Hasher hex equals the one-shot sha256': (h) => h.digest('hex') === KNOWN.sha256[1],
    'Hasher base64rawurl': (h) => h.digest('base64rawurl') === SHA256_B64RAWURL,
    'Hasher binary is 32 bytes': (h) => new Uint8Array(h.digest('binary')).length === 32,
  });

  // createHash works for every algorithm the one-shot functions have
  for (const name of Object.keys(KNOWN)) {
    const h = createHash(name);
    h.update(TILE_NOTE.slice(0, 10));
    h.update(bytesOf(TILE_NOTE.slice(10)).buffer);
    check(h.digest('hex'), { [`createHash('${name}') in two updates`]: (d) => d === KNOWN[name][1] });
  }

  // the empty input has its well-known SHA-256
  check(sha256('', 'hex'), {
    'sha256 of the empty string': (d) => d === 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });

  console.log('k6-crypto-digests: all steps ran');
}
