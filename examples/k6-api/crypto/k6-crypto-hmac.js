// pixelk6's own script for k6/crypto's hmac() and createHMAC(). The expected MACs were
// computed outside pixelk6 with `openssl dgst -hmac`.
import { check } from 'k6';
import { hmac, createHMAC } from 'k6/crypto';

export const options = { thresholds: { checks: ['rate==1'] } };

const PALETTE_KEY = 'palette-key-16c';
const TILE_NOTE = 'Tiles of 8x8 pixels, 64 per tile.';

const MACS = {
  md4: 'bfeaa7840670bda62fc958f68b42f402',
  md5: '0d1729177903e615375ba45dba4a1dc6',
  sha1: '7a9a330b31a42142b5ceeac59f60b860bd6c0665',
  sha256: '09506bd5dbbf4ceb37b09fd6fa1793222d7d42c83707f75c28229f1606dee9a2',
  sha384: 'e3832b9df75694223f2c28dad63eccacb275bea434d6f6ae7578adcf8d4e948ddff44fe834da570faac385589c7f9155',
  sha512: '99e522ac50acd57bab2f7cbc1470ed62052288ee3ece5f287de693fafbf9239d55d6cbe9c10c8e960e8619f559810ac41a5f1772d46fde46d400566864a94cea',
  sha512_224: '961e63adcd9b8e2cc6322648f9e00e83dc23b6d0011fe74f57496fd2',
  sha512_256: 'f5c2bde46bdf1cfe6a53c71caa4eac6b773eefda0ef8211a5ac37a700767ad06',
  ripemd160: '256507be4cb0c83f07725dcca905e5d3c37368cf',
};

// HMAC-SHA256 of TILE_NOTE under PALETTE_KEY, as base64 and as bytes
const MAC256_B64 = 'CVBr1du/TOs3sJ/W+heTIi19Qsg3B/dcKCKfFgbe6aI=';
const MAC256_HEAD = [9, 80, 107, 213];

export default function () {
  for (const [alg, want] of Object.entries(MACS)) {
    check(hmac(alg, PALETTE_KEY, TILE_NOTE, 'hex'), { [`hmac ${alg} is the known MAC`]: (m) => m === want });

    // the same MAC, streamed through a Hasher from createHMAC
    const streamed = createHMAC(alg, PALETTE_KEY);
    streamed.update('Tiles of 8x8');
    streamed.update(' pixels, 64 per tile.');
    check(streamed.digest('hex'), { [`createHMAC ${alg} streamed equals hmac`]: (m) => m === want });
  }

  check(hmac('sha256', PALETTE_KEY, TILE_NOTE, 'base64'), { 'hmac sha256 base64': (m) => m === MAC256_B64 });
  const bytes = new Uint8Array(hmac('sha256', PALETTE_KEY, TILE_NOTE, 'binary'));
  check(bytes, {
    'hmac sha256 binary is 32 bytes': (b) => b.length === 32,
    'hmac sha256 binary starts with the known bytes': (b) => MAC256_HEAD.every((v, i) => b[i] === v),
  });

  // a different key or a changed message gives a different MAC
  check(hmac('sha256', 'palette-key-16d', TILE_NOTE, 'hex'), { 'other key, other MAC': (m) => m !== MACS.sha256 });
  check(hmac('sha256', PALETTE_KEY, TILE_NOTE + ' ', 'hex'), { 'other message, other MAC': (m) => m !== MACS.sha256 });

  console.log('k6-crypto-hmac: all steps ran');
}
