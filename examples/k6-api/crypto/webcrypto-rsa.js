// pixelk6's own script for RSA in the `crypto` global: generateKey with
// RsaHashedKeyGenParams, RSA-OAEP encrypt/decrypt (RsaOaepParams with a label), RSA-PSS
// sign/verify (RsaPssParams with a salt length), RSASSA-PKCS1-v1_5 sign/verify, and
// importKey/exportKey in spki, pkcs8 and jwk form. RSA_* is a throwaway 2048-bit key made
// for this script with `openssl genpkey`; the OPENSSL_* values were made with that key by
// `openssl pkeyutl -encrypt` (OAEP, SHA-256, label 'save-slot-2') and `openssl dgst
// -sha256 -sign` (PKCS#1 v1.5, and PSS with a 32-byte salt).
import { check } from 'k6';
import { b64decode } from 'k6/encoding';

export const options = { thresholds: { checks: ['rate==1'] } };

const MOVE = 'sprite 42 moved to (3, 7)';
const SAVE = 'level 3 unlocked';
const RSA_SPKI = [
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4jrtPlMOMrH1MnG+8gPwr9KyWZgwBAE5XJzl13Xud/5G/y1lX0LN',
  'k05nbMutPhPYhj4qV6W72G3PMmbzZT+rUuzE4k1F8ewB427l00fnIGPs4DeYlxsMfLMrY3jhvkaXTGw0S1q0hxddYIoNv4nz',
  'QKInACnfJdJZdaHPe/Csup4LAjrWVMLWgDDe2jr2F11xseVfx1F89TM4qCX53jGFFFZu+7fYzGZxIxaJvgdZJGPsFs40nIL+',
  '78N8tSmcb+FAKfeY/AF/IP8N2ybyFFStWNUmoLAsb8Oumd4TMygtXLMNjYCp42V3vnnvKqq2jNGmNgL4WQV641LrUo52mcfJ',
  'sQIDAQAB',
].join('');
const RSA_PKCS8 = [
  'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDiOu0+Uw4ysfUycb7yA/Cv0rJZmDAEATlcnOXXde53/kb/',
  'LWVfQs2TTmdsy60+E9iGPipXpbvYbc8yZvNlP6tS7MTiTUXx7AHjbuXTR+cgY+zgN5iXGwx8sytjeOG+RpdMbDRLWrSHF11g',
  'ig2/ifNAoicAKd8l0ll1oc978Ky6ngsCOtZUwtaAMN7aOvYXXXGx5V/HUXz1MzioJfneMYUUVm77t9jMZnEjFom+B1kkY+wW',
  'zjScgv7vw3y1KZxv4UAp95j8AX8g/w3bJvIUVK1Y1SagsCxvw66Z3hMzKC1csw2NgKnjZXe+ee8qqraM0aY2AvhZBXrjUutS',
  'jnaZx8mxAgMBAAECggEABoRsET+TSSKXTby5I3+5j1cijDI2L+dZH7HlbS+YjxxkLzW/ld72zSeVEy1K8F7h/fwMfDnqD3Ia',
  'ZflRSblr1he8FEjlmvKRm1u2gz+vCN/YEx2G59N/qJgAx/zThAfElA8J8qHKUZn6tq1DeCEhQNtrBDYwl4ZXzWu77nYgg7+7',
  '8nVjcyHj0Aa6vu8w3YgDFOHJ+7DNFW1Xaglds+p60KgJVaxibxcMQPii2N4Sdm1qRXVRYrUfyuVbzRso9WYOISJvzOmoIk45',
  'vXlxdmGngiBDCaoYkNHSG/5w/kTgANmnl5Hc7hpwm7AnuLxJ/2wIODUwyNKXH6EEp39BW/QHgQKBgQD3VvDht/SfosnYOOL9',
  'EOmrDqwkCrqlGk5ePQpQayuqV3qWSAiTHz7Xn8fEO7aBoWZMzu8MUP8As9eWpBrqzLpqoO0brmBoJqvijuoPeYr1oxTk5UAw',
  'ETiYpi2dkP6q//gm0CwHILjMKrVVcht+ymTQMX31C4mjuQ3LliifbpbQSwKBgQDqJsTQvssaZtIKM4WPKiFAjN5EwaKrnudz',
  'c64jTzOV+TfHqA/MzGlQ1RXY1KG/CYQJMjuEfrNiBye8gxi4Ee3y7u4oyAIIVsAuDOQUhtcFTI/T6WKqnjg/d/QfTMGbnqy9',
  'Wmvj2YoiEX6242fL3c+Ysm4ZRFkiy+C/H6oQOaWocwKBgQCiGlD1HmMs3Lv9AguCYDtE6PDZDk8VNhB2ovrHifWsRnkJVVyJ',
  'T8kX+JgsfBY5D1bEsDrrj4oRI8z/5b3edR8YEzBTHA4DNJUifxfX3Ii+RIvFGJrg5eh54y+yPP0rhWdVyMmSQlfbN4Jw5cAv',
  'cOZxrH4ow88JhpcL/vXQx+H/0QKBgEV5LUpWYcK6oTVfphAdSvJxGX3DCjXrlva9avyVAlRMNo2pws5cFB9kqe/E3xzkgOWN',
  'nvUn9qduQg7/wrTStQwwcj9tYJUC0FCZiI7Cl0e+OKqCg8Dl4wCJ4cfrqUI4KT6hdoOLRx3mnPc8r85gSLkgr+QVUHEvlsZ+',
  'aaIYyJsbAoGBAOgET0nO1E1K2NNfzJ+oY4/ns9LvHnYtN6XKXS6py3IgszC47k8Sn/wAIXM/KLPKIqEIHW0SG7t1KDxB31sC',
  'MXlRqhliMJi227Jsf6mR3JAfbNApKR6QuaIGJ3cIVT+7mGAoXiChTxFZG48yNflIbK5F6vpC+Jo1OM7xOiU8FU/j',
].join('');
const OPENSSL_OAEP = [
  '3xxK78A8ctjUoPzfxtsup4J7f6pNW/zbs4ftEiQee2bszgMFfD9XZVmDY8lhkaTTEiUHIThjAZN8xwRQETNXwd/bhUEhe0og',
  'eAX+qlfEMaPCWv4FOjfa/z0vFE5t0RYP6z0y1rX0ycbASV5IYheTYLArm/SYOl/bMcSDdKiettLi3/Uki7WZmQrQJKxFVQYu',
  'UR77+Z+oAPqCg3WfIOn7Yj91O9092qgzkU6oMNcj6/I5wxWALkyLSohkNYzXsChpUocUOUmHAmRoxLVrYPrbjwdMwG6jZtoD',
  'uTkptT8zkAd8ak2ILhkHMr2SLT7dVcZpZZI5TPQXBYUThZoSKcf++A==',
].join('');
const OPENSSL_PSS = [
  'YJzLvoYnmbXZ+CHOca3C1Rts0hcuVI6vQYZHwHNuub/xeZbWbsmDP15xXsYawmSKPZJ3E9FCV3lqnPv+Pfrqy8leAQK9N6Xc',
  '1EweuzJNJB0D1N6Lmda2eBGE4r6SF9PL5EhSY4aq5s+UOFXXP/6SZPptebpc4CaPoVuklK3g6l4FlWgcO2v5f4ZuWAqUVaYo',
  'IF2/Tj8LOS4GXfiOlBKWLGZI9g0r35pz5KkxDGI1H5cnu8mKgX9WwvNEHcYGDSekJGoZz8G6V2Ca8NWZo9Ip+fjT4DuP0rGH',
  'uWgsCVLAGatwvkYkJwmQXIoY7fPWD+59h0sFEzBWVirpeYiqnP6zkw==',
].join('');
const OPENSSL_PKCS1 = [
  'JO+MVNNWvy57k7F3nBu4uh+WBP84CFY+LdSYvBStTgPy7xoKisYYAfjUX5r6mS1Q2ReBlSFBiw0tPBIlI/pt/BSxMAKcANEf',
  'TZPxvnnaeee76FTHx8HajIRYsH62A7OMljM5c1cV2g+HkMbaJ0h/kOMNNt8lRAHmYjK+GoqAUCPa5zVf1muUopNS9/R/um4m',
  '2tr7CVJ0IfqJ1agcy93hNNNyV3Xp32pA7WFVUz4XNZU2DEat4j5GbxtrSamh3ycCivzuLfLIoiuAwccWEDSIHkQz62NLfKtk',
  'mKxozUDNKpKUuD9ollNLGb9Ehittu+DaAdlHWJRQ3TSyHaJma7BQYg==',
].join('');

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const toHex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const F4 = new Uint8Array([0x01, 0x00, 0x01]);

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  return null;
}

async function oaep() {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: F4, hash: 'SHA-256' },
    true,
    ['encrypt', 'decrypt'],
  );
  check(pair.publicKey.algorithm, {
    'RSA-OAEP key algorithm fields': (a) => a.name === 'RSA-OAEP' && a.modulusLength === 2048 && a.hash.name === 'SHA-256',
    'RSA-OAEP publicExponent is 65537': (a) => toHex(a.publicExponent) === '010001',
  });
  const label = enc('save-slot-2');
  const sealed = await crypto.subtle.encrypt({ name: 'RSA-OAEP', label }, pair.publicKey, enc(SAVE));
  const opened = await crypto.subtle.decrypt({ name: 'RSA-OAEP', label }, pair.privateKey, sealed);
  check(sealed, {
    'RSA-OAEP ciphertext is one modulus long': (c) => c.byteLength === 256,
    'RSA-OAEP decrypt(encrypt(x)) is x': () => dec(opened) === SAVE,
  });
  check(await rejects(crypto.subtle.decrypt({ name: 'RSA-OAEP', label: enc('save-slot-3') }, pair.privateKey, sealed)), {
    'RSA-OAEP with another label is rejected': (e) => e !== null,
  });
  const twice = await crypto.subtle.encrypt({ name: 'RSA-OAEP', label }, pair.publicKey, enc(SAVE));
  check(twice, { 'RSA-OAEP is randomised': (c) => toHex(c) !== toHex(sealed) });

  // openssl's ciphertext opens with the imported pkcs8 key
  const priv = await crypto.subtle.importKey('pkcs8', b64decode(RSA_PKCS8), { name: 'RSA-OAEP', hash: 'SHA-256' }, true, ['decrypt']);
  const fromOpenssl = await crypto.subtle.decrypt({ name: 'RSA-OAEP', label }, priv, b64decode(OPENSSL_OAEP));
  check(fromOpenssl, { "RSA-OAEP opens openssl's ciphertext": (p) => dec(p) === SAVE });

  // the private jwk carries the CRT fields and re-imports to a key that still decrypts
  const jwk = await crypto.subtle.exportKey('jwk', priv);
  check(jwk, { 'RSA-OAEP private jwk': (j) => j.kty === 'RSA' && j.alg === 'RSA-OAEP-256' && j.e === 'AQAB' && !!j.d && !!j.p && !!j.q && !!j.dp && !!j.dq && !!j.qi });
  const back = await crypto.subtle.importKey('jwk', jwk, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
  const again = await crypto.subtle.decrypt({ name: 'RSA-OAEP', label }, back, b64decode(OPENSSL_OAEP));
  check(again, { 'the re-imported jwk opens it too': (p) => dec(p) === SAVE });
}

async function signer(name, params, known) {
  const pair = await crypto.subtle.generateKey(
    { name, modulusLength: 2048, publicExponent: F4, hash: { name: 'SHA-256' } },
    true,
    ['sign', 'verify'],
  );
  const sig = await crypto.subtle.sign(params, pair.privateKey, enc(MOVE));
  const good = await crypto.subtle.verify(params, pair.publicKey, sig, enc(MOVE));
  const other = await crypto.subtle.verify(params, pair.publicKey, sig, enc(MOVE.toUpperCase()));
  check(sig, {
    [`${name} signature is one modulus long`]: (s) => s.byteLength === 256,
    [`${name} verify(sign(m)) is true`]: () => good === true,
    [`${name} verify of another message is false`]: () => other === false,
  });

  // the known key: spki verifies openssl's signature, pkcs8 signs what spki verifies
  const alg = { name, hash: 'SHA-256' };
  const pub = await crypto.subtle.importKey('spki', b64decode(RSA_SPKI), alg, true, ['verify']);
  const priv = await crypto.subtle.importKey('pkcs8', b64decode(RSA_PKCS8), alg, true, ['sign']);
  const opensslOk = await crypto.subtle.verify(params, pub, b64decode(known), enc(MOVE));
  const opensslOther = await crypto.subtle.verify(params, pub, b64decode(known), enc(SAVE));
  const mine = await crypto.subtle.sign(params, priv, enc(MOVE));
  const mineOk = await crypto.subtle.verify(params, pub, mine, enc(MOVE));
  check(null, {
    [`${name} verifies openssl's signature`]: () => opensslOk === true,
    [`${name} openssl's signature does not cover another message`]: () => opensslOther === false,
    [`${name} the pkcs8 key signs for the spki key`]: () => mineOk === true,
  });

  // a public jwk exports n and e only, and verifies after re-import
  const jwk = await crypto.subtle.exportKey('jwk', pub);
  check(jwk, { [`${name} public jwk has n and e, no d`]: (j) => j.kty === 'RSA' && !!j.n && j.e === 'AQAB' && j.d === undefined });
  const back = await crypto.subtle.importKey('jwk', jwk, alg, true, ['verify']);
  const backOk = await crypto.subtle.verify(params, back, mine, enc(MOVE));
  check(backOk, { [`${name} the re-imported public jwk verifies`]: (v) => v === true });
  const spkiAgain = await crypto.subtle.exportKey('spki', back);
  check(spkiAgain, { [`${name} spki export is the imported spki`]: (s) => toHex(s) === toHex(b64decode(RSA_SPKI)) });
  return { priv, mine };
}

export default async function () {
  await oaep();

  await signer('RSA-PSS', { name: 'RSA-PSS', saltLength: 32 }, OPENSSL_PSS);

  const pkcs1 = await signer('RSASSA-PKCS1-v1_5', { name: 'RSASSA-PKCS1-v1_5' }, OPENSSL_PKCS1);
  // PKCS#1 v1.5 signatures are deterministic: ours is byte for byte openssl's
  check(pkcs1.mine, { "RSASSA-PKCS1-v1_5 signature equals openssl's": (s) => toHex(s) === toHex(b64decode(OPENSSL_PKCS1)) });

  // pkcs8 export gives the imported key back
  const p8 = await crypto.subtle.exportKey('pkcs8', pkcs1.priv);
  check(p8, { 'pkcs8 export is the imported pkcs8': (p) => toHex(p) === toHex(b64decode(RSA_PKCS8)) });

  console.log('webcrypto-rsa: all steps ran');
}
