// pixel.js — the JavaScript twin of k6/x/pixel for the stock k6 binary.
//
// The same API as pixelk6's native k6/x/pixel (inspect, configure, stream, streamAsync), the
// same options, metric names, types, tags and error kinds, written only on k6's standard
// modules: k6/metrics for the metrics, k6/ws (blocking) for stream, k6/websockets and
// k6/timers for streamAsync, k6/encoding for base64. A script written for pixelk6 runs on
// stock k6 by changing its import:
//
//   import pixel from 'k6/x/pixel';   // pixelk6
//   import pixel from './pixel.js';   // stock k6 (or pixelk6): this file
//
// What JavaScript cannot match (pacing precision, CPU per chunk, kernel receive timestamps,
// connect timeouts) is measured in README.md next to this file.

import { Counter, Rate, Trend } from 'k6/metrics';
import ws from 'k6/ws';
import { WebSocket } from 'k6/websockets';
import { setTimeout, clearTimeout } from 'k6/timers';
import encoding from 'k6/encoding';

// ---- metrics (registered in the init context, as the native extension does) ----

const M = {
  successful: new Counter('successful_inferences'),
  latency: new Trend('inference_latency', true),
  crisis: new Counter('crisis_detections'),
  bias: new Counter('bias_detections'),
  parseErrors: new Counter('inference_parse_errors'),
  crisisRecall: new Rate('crisis_recall'),
  crisisFalseAlarms: new Rate('crisis_false_alarms'),
  biasRecall: new Rate('bias_recall'),
  biasFalseAlarms: new Rate('bias_false_alarms'),
  chunkLatency: new Trend('chunk_latency', true),
  messageLatency: new Trend('message_latency', true),
  connFailed: new Rate('ws_connection_failed'),
  sessions: new Counter('stream_sessions'),
  chunksSent: new Counter('chunks_sent'),
};

// ---- clock ----

// now returns milliseconds with the best resolution the runtime offers (performance.now
// where it exists, Date.now's whole milliseconds otherwise).
const now = (typeof performance !== 'undefined' && performance && typeof performance.now === 'function')
  ? () => performance.now()
  : () => Date.now();

// ---- options ----

function optionError(fn, msg) {
  return new TypeError('pixel.' + fn + ': ' + msg);
}

function isNullish(v) {
  return v === undefined || v === null;
}

// checkKeys throws on a key of o that is not in allowed (options are never ignored silently).
function checkKeys(fn, where, o, allowed) {
  if (isNullish(o)) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw optionError(fn, where + ' must be an object');
  for (const k of Object.keys(o)) {
    if (allowed.indexOf(k) < 0) {
      throw optionError(fn, 'unknown option ' + JSON.stringify(where ? where + '.' + k : k) + ' (known: ' + allowed.join(', ') + ')');
    }
  }
  return o;
}

function optBool(fn, name, v, def) {
  if (isNullish(v)) return def;
  if (typeof v !== 'boolean') throw optionError(fn, name + ' must be a boolean, got ' + JSON.stringify(v));
  return v;
}

function optInt(fn, name, v, def) {
  if (isNullish(v)) return def;
  if (typeof v !== 'number' || !isFinite(v) || Math.trunc(v) !== v) throw optionError(fn, name + ' must be an integer, got ' + JSON.stringify(v));
  return v;
}

function optString(fn, name, v, def) {
  if (isNullish(v)) return def;
  if (typeof v !== 'string') throw optionError(fn, name + ' must be a string, got ' + JSON.stringify(v));
  return v;
}

const unitMs = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

// optDuration reads a duration: a number of milliseconds or a string such as "10s" or "1m30s".
function optDuration(fn, name, v, def) {
  if (isNullish(v)) return def;
  if (typeof v === 'number' && isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
    let total = 0;
    let i = 0;
    while (i < v.length) {
      re.lastIndex = i;
      const m = re.exec(v);
      if (!m) break;
      total += parseFloat(m[1]) * unitMs[m[2]];
      i = re.lastIndex;
    }
    if (i === v.length && v.length > 0) return total;
  }
  throw optionError(fn, name + ' must be a duration (milliseconds or a string such as "10s"), got ' + JSON.stringify(v));
}

function optTags(fn, v) {
  const out = {};
  if (isNullish(v)) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw optionError(fn, 'tags must be an object');
  for (const k of Object.keys(v)) out[k] = String(v[k]);
  return out;
}

function optExpect(fn, v) {
  const e = checkKeys(fn, 'expect', v, ['crisis', 'bias']);
  return { crisis: optBool(fn, 'expect.crisis', e.crisis, null), bias: optBool(fn, 'expect.bias', e.bias, null) };
}

function optBytes(fn, name, v) {
  if (isNullish(v)) return null;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw optionError(fn, name + ' must be an ArrayBuffer (open(path, "b"))');
}

// ---- configure ----

const DEFAULT_PATHS = {
  response: 'response',
  latencyMs: 'latency_ms',
  crisisDetected: 'crisis.detected',
  riskLevel: 'crisis.risk_level',
  confidence: 'crisis.confidence',
  biasDetected: 'bias.detected',
  biasCategories: 'bias.categories',
  biasScore: 'bias.score',
};
const PATH_KEYS = Object.keys(DEFAULT_PATHS);
const PATH_ALIASES = { latency_ms: 'latencyMs', risk_level: 'riskLevel' };

// Per VU: every VU evaluates this module once, as it does a native module instance.
let paths = Object.assign({}, DEFAULT_PATHS);
let throwOnErrorDefault = false;
let sessionsStarted = 0;
let warnedConnectTimeout = false;

/** configure(paths) sets this VU's response field paths (and throwOnError); returns those in force. */
export function configure(p) {
  const o = checkKeys('configure', '', p, PATH_KEYS.concat(Object.keys(PATH_ALIASES), ['throwOnError']));
  const next = Object.assign({}, paths);
  let thr = throwOnErrorDefault;
  for (const k of Object.keys(o)) {
    if (k === 'throwOnError') {
      thr = optBool('configure', k, o[k], false);
      continue;
    }
    const key = PATH_ALIASES[k] || k;
    next[key] = o[k] === null ? '' : optString('configure', k, o[k], '');
  }
  paths = next;
  throwOnErrorDefault = thr;
  return Object.assign({}, paths, { throwOnError: throwOnErrorDefault });
}

// ---- inspect ----

class ParseError extends Error {
  constructor(kind, msg) {
    super('inference response: ' + msg);
    this.kind = kind;
  }
}

class StatusError extends Error {}

function clip(s) {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

function lookup(root, path) {
  if (!path) return { ok: false };
  let cur = root;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) {
      return { ok: false };
    }
    cur = cur[part];
  }
  return { ok: true, v: cur };
}

function show(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function lookupString(root, path) {
  const r = lookup(root, path);
  if (!r.ok || r.v === null) return { v: '', has: false };
  if (typeof r.v !== 'string') throw new ParseError('bad_field', JSON.stringify(path) + ' is ' + show(r.v) + ', not a string');
  return { v: r.v, has: true };
}

function lookupNumber(root, path) {
  const r = lookup(root, path);
  if (!r.ok || r.v === null) return { v: 0, has: false };
  if (typeof r.v !== 'number') throw new ParseError('bad_field', JSON.stringify(path) + ' is ' + show(r.v) + ', not a number');
  return { v: r.v, has: true };
}

function lookupBool(root, path) {
  const r = lookup(root, path);
  if (!r.ok) throw new ParseError('missing_field', 'no ' + JSON.stringify(path));
  if (typeof r.v !== 'boolean') throw new ParseError('bad_field', JSON.stringify(path) + ' is ' + show(r.v) + ', not a boolean');
  return r.v;
}

// parseDetection reads an inference body (a string) with the given paths.
function parseDetection(body, p) {
  let root;
  try {
    root = JSON.parse(body);
  } catch (e) {
    throw new ParseError('not_json', 'body ' + JSON.stringify(clip(body)) + ' is not JSON: ' + e.message);
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new ParseError('not_json', 'body ' + JSON.stringify(clip(body)) + ' is not a JSON object');
  }
  const d = { response: '', latencyMs: null, crisis: false, riskLevel: '', confidence: 0, bias: false, categories: [], biasScore: 0 };
  d.response = lookupString(root, p.response).v;
  const lat = lookupNumber(root, p.latencyMs);
  if (lat.has) d.latencyMs = lat.v;
  d.riskLevel = lookupString(root, p.riskLevel).v;
  d.confidence = lookupNumber(root, p.confidence).v;
  d.crisis = p.crisisDetected ? lookupBool(root, p.crisisDetected) : (d.riskLevel !== '' && d.riskLevel !== 'none');
  if (d.crisis && d.riskLevel === '') d.riskLevel = 'unknown';
  if (p.biasCategories) {
    const r = lookup(root, p.biasCategories);
    if (r.ok && r.v !== null) {
      if (!Array.isArray(r.v)) throw new ParseError('bad_field', JSON.stringify(p.biasCategories) + ' is ' + show(r.v) + ', not an array');
      for (const c of r.v) {
        if (typeof c !== 'string') throw new ParseError('bad_field', JSON.stringify(p.biasCategories) + ' has ' + show(c) + ', not a string');
        d.categories.push(c);
      }
    }
  }
  d.bias = p.biasDetected ? lookupBool(root, p.biasDetected) : d.categories.length > 0;
  if (d.bias && d.categories.length === 0) d.categories = ['unknown'];
  if (!d.bias) d.categories = [];
  d.biasScore = lookupNumber(root, p.biasScore).v;
  return d;
}

// utf8 decodes bytes (a Uint8Array) as UTF-8 (invalid sequences become U+FFFD).
function utf8(b) {
  let out = '';
  for (let i = 0; i < b.length;) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xc2 && c < 0xe0 && i + 1 < b.length) {
      cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      n = 2;
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      n = 3;
    } else if (c >= 0xf0 && c < 0xf5 && i + 3 < b.length) {
      cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      n = 4;
    }
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

// bodyOf extracts the inference body from inspect's argument: a k6/http response, a
// k6/net/grpc response, a JSON string, an ArrayBuffer or a parsed object.
function bodyOf(v) {
  if (isNullish(v)) throw new ParseError('not_json', 'no response (undefined or null)');
  if (typeof v === 'string') return v;
  if (v instanceof ArrayBuffer) return utf8(new Uint8Array(v));
  if (typeof v === 'object' && v.body === undefined && v.status !== undefined && v.trailers !== undefined) {
    if (v.status !== 0) throw new StatusError('not a successful HTTP response: gRPC status ' + v.status);
    if (isNullish(v.message)) throw new ParseError('not_json', 'gRPC response has no message');
    return JSON.stringify(v.message);
  }
  if (typeof v === 'object' && v.body !== undefined && v.status !== undefined) {
    if (!(v.status >= 200 && v.status <= 299)) throw new StatusError('not a successful HTTP response: status ' + v.status);
    if (isNullish(v.body)) throw new ParseError('not_json', 'response has no body');
    if (typeof v.body === 'string') return v.body;
    if (v.body instanceof ArrayBuffer) return utf8(new Uint8Array(v.body));
    throw new ParseError('not_json', 'response body is a ' + typeof v.body + ', not a string');
  }
  let s;
  try {
    s = JSON.stringify(v);
  } catch (e) {
    throw new ParseError('not_json', 'JSON.stringify: ' + e.message);
  }
  return s;
}

function detectionObject(d, err) {
  d = d || { response: '', latencyMs: null, crisis: false, riskLevel: '', confidence: 0, bias: false, categories: [], biasScore: 0 };
  return {
    ok: !err,
    crisis: d.crisis,
    riskLevel: d.riskLevel,
    confidence: d.confidence,
    bias: d.bias,
    categories: d.categories.slice(),
    biasScore: d.biasScore,
    latencyMs: d.latencyMs,
    response: d.response,
    error: err ? err.message : '',
  };
}

function withTag(tags, k, v) {
  const t = Object.assign({}, tags);
  t[k] = v;
  return t;
}

// recordDetection adds the samples of one read inference (or its parse error).
function recordDetection(tags, d, expect, err) {
  if (err) {
    M.parseErrors.add(1, withTag(tags, 'error', err.kind || 'not_json'));
    return;
  }
  M.successful.add(1, tags);
  if (d.latencyMs !== null) M.latency.add(d.latencyMs, tags);
  if (d.crisis) M.crisis.add(1, withTag(tags, 'risk_level', d.riskLevel));
  for (const c of d.categories) M.bias.add(1, withTag(tags, 'bias_category', c));
  if (expect.crisis !== null) (expect.crisis ? M.crisisRecall : M.crisisFalseAlarms).add(d.crisis ? 1 : 0, tags);
  if (expect.bias !== null) (expect.bias ? M.biasRecall : M.biasFalseAlarms).add(d.bias ? 1 : 0, tags);
}

const INSPECT_KEYS = ['tags', 'expect', 'throwOnError'];

function inspectOptions(fn, o, extra) {
  o = checkKeys(fn, '', o, INSPECT_KEYS.concat(extra || []));
  return {
    tags: optTags(fn, o.tags),
    expect: optExpect(fn, o.expect),
    throwOnError: optBool(fn, 'throwOnError', o.throwOnError, throwOnErrorDefault),
  };
}

/** inspect(response[, options]) reads an inference response and records the detection counters. */
export function inspect(response, options) {
  const o = inspectOptions('inspect', options);
  let d = null;
  let err = null;
  try {
    d = parseDetection(bodyOf(response), paths);
  } catch (e) {
    if (!(e instanceof ParseError) && !(e instanceof StatusError)) throw e;
    err = e;
  }
  if (err instanceof StatusError) {
    // A failed request is http_req_failed's business, not a detection result.
    if (o.throwOnError) throw new Error('pixel.inspect: ' + err.message);
    return detectionObject(null, err);
  }
  recordDetection(o.tags, d, o.expect, err);
  if (err && o.throwOnError) throw new Error('pixel.inspect: ' + err.message);
  return detectionObject(d, err);
}

// ---- chunks ----

// splitText splits text into chunks of at most n characters at word boundaries.
function splitText(text, n) {
  const out = [];
  let cur = '';
  let curLen = 0;
  const emit = () => {
    if (curLen > 0) {
      out.push(cur);
      cur = '';
      curLen = 0;
    }
  };
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    let w = Array.from(word);
    while (w.length > n) {
      emit();
      out.push(w.slice(0, n).join(''));
      w = w.slice(n);
    }
    if (curLen > 0 && curLen + 1 + w.length > n) emit();
    if (curLen > 0) {
      cur += ' ';
      curLen++;
    }
    cur += w.join('');
    curLen += w.length;
  }
  emit();
  return out;
}

function audioFrame(pcm, sampleRate, i, fb) {
  const out = new Uint8Array(fb);
  if (pcm && pcm.length > 0) {
    const off = (i * fb) % pcm.length;
    out.set(pcm.subarray(off, Math.min(pcm.length, off + fb)));
    return out;
  }
  const perFrame = fb / 2;
  for (let k = 0; k < perFrame; k++) {
    const t = (i * perFrame + k) / sampleRate;
    const v = Math.trunc(8000 * Math.sin(2 * Math.PI * 440 * t)) & 0xffff;
    out[2 * k] = v & 0xff;
    out[2 * k + 1] = v >> 8;
  }
  return out;
}

function imageFrame(data, i, size) {
  const out = new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    out[k] = data && data.length > 0 ? data[(i * size + k) % data.length] : (i + k * 7) & 0xff;
  }
  return out;
}

const MAX_CHUNKS = 1 << 20;

// buildChunks returns the session's frames, each built once: {payload, binary}.
function buildChunks(fn, o) {
  const raws = [];
  const text = optString(fn, 'text', o.text, '');
  if (text !== '') {
    let n = optInt(fn, 'textChunkSize', o.textChunkSize, 64);
    if (n <= 0) n = 64;
    for (const t of splitText(text, n)) raws.push({ modality: 'text', text: t });
  }
  if (!isNullish(o.audio)) {
    const a = checkKeys(fn, 'audio', o.audio, ['frames', 'frameMs', 'sampleRate', 'data']);
    let frames = optInt(fn, 'audio.frames', a.frames, 0);
    if (frames < 0) throw optionError(fn, 'audio frames ' + frames + ': must be ≥ 0');
    let frameMs = optInt(fn, 'audio.frameMs', a.frameMs, 20);
    if (frameMs <= 0) frameMs = 20;
    let rate = optInt(fn, 'audio.sampleRate', a.sampleRate, 16000);
    if (rate <= 0) rate = 16000;
    const pcm = optBytes(fn, 'audio.data', a.data);
    const fb = Math.trunc(rate * frameMs / 1000) * 2;
    if (fb <= 0) throw optionError(fn, 'audio frame of ' + frameMs + ' ms at ' + rate + ' Hz is empty');
    if (frames === 0 && pcm && pcm.length > 0) frames = Math.ceil(pcm.length / fb);
    if (frames > MAX_CHUNKS) throw optionError(fn, 'audio frames ' + frames + ': more than ' + MAX_CHUNKS);
    for (let i = 0; i < frames; i++) raws.push({ modality: 'audio', bytes: audioFrame(pcm, rate, i, fb) });
  }
  if (!isNullish(o.image)) {
    const im = checkKeys(fn, 'image', o.image, ['frames', 'bytes', 'data']);
    const frames = optInt(fn, 'image.frames', im.frames, 0);
    if (frames < 0 || frames > MAX_CHUNKS) throw optionError(fn, 'image frames ' + frames + ': must be in [0, ' + MAX_CHUNKS + ']');
    const data = optBytes(fn, 'image.data', im.data);
    let size = optInt(fn, 'image.bytes', im.bytes, 0);
    if (size <= 0) size = data ? data.length : 0;
    if (size <= 0) size = 4096;
    for (let i = 0; i < frames; i++) raws.push({ modality: 'image', bytes: imageFrame(data, i, size) });
  }
  const chunks = optInt(fn, 'chunks', o.chunks, 0);
  if (chunks < 0 || chunks > MAX_CHUNKS) throw optionError(fn, 'chunks ' + chunks + ': must be in [0, ' + MAX_CHUNKS + ']');
  if (chunks > 0) {
    let size = optInt(fn, 'chunkSize', o.chunkSize, 640);
    if (size <= 0) size = 640;
    let s = '';
    for (let i = 0; i < size; i++) s += String.fromCharCode(97 + (i % 26));
    for (let i = 0; i < chunks; i++) raws.push({ modality: 'text', text: s });
  }
  if (raws.length > MAX_CHUNKS) throw optionError(fn, raws.length + ' chunks: more than ' + MAX_CHUNKS);

  const enc = optString(fn, 'encoding', o.encoding, 'json');
  if (enc !== 'json' && enc !== '' && enc !== 'binary') {
    throw optionError(fn, 'unknown chunk encoding ' + JSON.stringify(enc) + ' (want json or binary)');
  }
  const binary = enc === 'binary';
  const mods = [];
  if (text !== '' || chunks > 0) mods.push('text');
  if (!isNullish(o.audio)) mods.push('audio');
  if (!isNullish(o.image)) mods.push('image');
  const frames = raws.map((r, i) => {
    if (binary) {
      const bytes = r.bytes || utf8Encode(r.text);
      return { binary: true, payload: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) };
    }
    const data = r.modality === 'text' ? r.text : encoding.b64encode(r.bytes.buffer, 'std');
    return { binary: false, payload: JSON.stringify({ type: 'chunk', seq: i + 1, modality: r.modality, data: data }) };
  });
  return { frames, modalities: mods };
}

function utf8Encode(s) {
  const out = [];
  for (const ch of s) {
    let c = ch.codePointAt(0);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return new Uint8Array(out);
}

// ---- stream ----

const STREAM_KEYS = INSPECT_KEYS.concat(['headers', 'subprotocols', 'connectTimeout', 'ackTimeout', 'sessionTimeout',
  'interval', 'encoding', 'acks', 'start', 'sessionId', 'session_id', 'modalities', 'text', 'textChunkSize',
  'chunks', 'chunkSize', 'audio', 'image']);

// prepare reads stream's arguments into a session config (throws on invalid options).
function prepare(fn, url, options) {
  if (isNullish(url) || url === '') throw new Error('pixel.' + fn + ': a URL is required');
  url = String(url);
  const raw = checkKeys(fn, '', options, STREAM_KEYS);
  const io = inspectOptions(fn, { tags: raw.tags, expect: raw.expect, throwOnError: raw.throwOnError });
  const headers = {};
  if (!isNullish(raw.headers)) {
    if (typeof raw.headers !== 'object') throw optionError(fn, 'headers must be an object');
    for (const k of Object.keys(raw.headers)) headers[k] = String(raw.headers[k]);
  }
  let subprotocols = [];
  if (!isNullish(raw.subprotocols)) {
    if (!Array.isArray(raw.subprotocols)) throw optionError(fn, 'subprotocols must be an array of strings');
    subprotocols = raw.subprotocols.map(String);
  }
  const built = buildChunks(fn, raw);
  let interval = 20;
  if (!isNullish(raw.interval)) interval = optDuration(fn, 'interval', raw.interval, 20);
  else if (!isNullish(raw.audio) && raw.audio.frameMs > 0) interval = raw.audio.frameMs;
  const cfg = {
    url,
    tags: io.tags,
    expect: io.expect,
    paths: Object.assign({}, paths),
    headers,
    subprotocols,
    connectTimeout: optDuration(fn, 'connectTimeout', raw.connectTimeout, 10000) || 10000,
    ackTimeout: optDuration(fn, 'ackTimeout', raw.ackTimeout, 10000) || 10000,
    sessionTimeout: optDuration(fn, 'sessionTimeout', raw.sessionTimeout, 60000) || 60000,
    interval,
    acks: optBool(fn, 'acks', raw.acks, true),
    frames: built.frames,
    start: null,
  };
  if (optBool(fn, 'start', raw.start, true)) {
    sessionsStarted++;
    let sid = 'pixelk6-' + __VU + '-' + sessionsStarted;
    const given = isNullish(raw.sessionId) ? raw.session_id : raw.sessionId;
    sid = optString(fn, 'sessionId', given, sid);
    let mods = built.modalities;
    if (!isNullish(raw.modalities)) {
      if (!Array.isArray(raw.modalities)) throw optionError(fn, 'modalities must be an array of strings');
      mods = raw.modalities.map(String);
    }
    cfg.start = JSON.stringify({ type: 'start', session_id: sid, modalities: mods });
  }
  return cfg;
}

// Session is the protocol state machine, shared by stream (k6/ws) and streamAsync
// (k6/websockets). The transport t has send(string), sendBinary(ArrayBuffer), close(),
// setTimer(fn, ms) → handle and clearTimer(handle); the transport calls opened(status,
// subprotocol), message(data, binary), and closed(errorText) once.
class Session {
  constructor(cfg, t) {
    this.cfg = cfg;
    this.t = t;
    this.t0 = now();
    this.openAt = 0;
    this.status = 0;
    this.subprotocol = '';
    this.phase = 'connecting';
    this.kind = '';
    this.error = '';
    this.next = 0;
    this.sentAt = new Array(cfg.frames.length).fill(0);
    this.acked = new Array(cfg.frames.length).fill(false);
    this.nAcked = 0;
    this.oldest = 0;
    this.fifo = 0;
    this.chunksSent = 0;
    this.msgsSent = 0;
    this.msgsRecv = 0;
    this.maxLag = 0;
    this.latencies = [];
    this.endAt = 0;
    this.inference = null;
    this.inferAt = 0;
    this.timer = null;
    this.sessionTimer = null;
    this.tags = Object.assign({}, cfg.tags, { url: cfg.url });
  }

  fail(kind, msg) {
    if (!this.kind && this.phase !== 'done' && this.phase !== 'closing') {
      this.kind = kind;
      this.error = msg;
    }
    if (this.phase !== 'done') {
      this.phase = 'closing';
      this.stopTimer();
      try {
        this.t.close();
      } catch (e) {
        // already closed
      }
    }
  }

  stopTimer() {
    if (this.timer !== null) this.t.clearTimer(this.timer);
    this.timer = null;
  }

  setTimer(fn, ms) {
    this.stopTimer();
    this.timer = this.t.setTimer(fn, Math.max(0, ms));
  }

  opened(status, subprotocol) {
    this.openAt = now();
    this.status = status;
    this.subprotocol = subprotocol || '';
    this.tags = Object.assign({}, this.cfg.tags, { url: this.cfg.url, status: String(status), subproto: this.subprotocol });
    const left = this.cfg.sessionTimeout - (this.openAt - this.t0);
    this.sessionTimer = this.t.setTimer(() => this.fail('session_timeout',
      'session on ' + JSON.stringify(this.cfg.url) + ' not finished within ' + this.cfg.sessionTimeout + 'ms'), Math.max(0, left));
    if (this.cfg.start !== null) {
      if (!this.send(this.cfg.start, false, false)) return;
      if (this.cfg.acks) {
        this.phase = 'ready';
        this.setTimer(() => this.fail('ready_timeout', 'no ready message within ' + this.cfg.ackTimeout + 'ms of start'), this.cfg.ackTimeout);
        return;
      }
    }
    this.beginStream();
  }

  send(payload, binary, chunk) {
    try {
      if (binary) this.t.sendBinary(payload);
      else this.t.send(payload);
    } catch (e) {
      this.fail('write', 'writing to ' + JSON.stringify(this.cfg.url) + ': ' + e.message);
      return false;
    }
    this.msgsSent++;
    if (chunk) M.chunksSent.add(1, this.tags);
    return true;
  }

  beginStream() {
    this.stopTimer(); // the ready wait
    this.phase = 'streaming';
    this.streamStart = now();
    this.pace();
  }

  pace() {
    if (this.phase !== 'streaming') return;
    const frames = this.cfg.frames;
    while (this.next < frames.length) {
      const t = now();
      const due = this.streamStart + this.next * this.cfg.interval;
      if (due > t) {
        this.setTimer(() => this.pace(), due - t);
        return;
      }
      if (!this.checkAcks(t)) return;
      if (t - due > this.maxLag) this.maxLag = t - due;
      this.sentAt[this.next] = t;
      const f = frames[this.next];
      if (!this.send(f.payload, f.binary, true)) return;
      this.chunksSent++;
      this.next++;
    }
    this.endAt = now();
    if (!this.send('{"type":"end"}', false, false)) return;
    this.phase = 'draining';
    this.watchAcks();
  }

  // checkAcks fails the session when the oldest unacked chunk is past ackTimeout.
  checkAcks(t) {
    if (!this.cfg.acks) return true;
    while (this.oldest < this.acked.length && this.acked[this.oldest]) this.oldest++;
    if (this.oldest >= this.acked.length) return true;
    if (this.oldest < this.next && t - this.sentAt[this.oldest] >= this.cfg.ackTimeout) {
      this.fail('ack_timeout', 'chunk ' + (this.oldest + 1) + ' not acked within ' + this.cfg.ackTimeout + 'ms');
      return false;
    }
    return true;
  }

  watchAcks() {
    if (this.phase !== 'draining') return;
    const t = now();
    if (!this.checkAcks(t)) return;
    if (this.cfg.acks && this.oldest < this.acked.length) {
      this.setTimer(() => this.watchAcks(), this.sentAt[this.oldest] + this.cfg.ackTimeout - t);
    }
    this.maybeFinish();
  }

  maybeFinish() {
    if (this.phase !== 'draining' || this.inference === null || (this.cfg.acks && this.nAcked < this.cfg.frames.length)) return;
    this.phase = 'closing';
    this.stopTimer();
    try {
      this.t.close();
    } catch (e) {
      // already closed: the session has succeeded
    }
  }

  message(data, binary) {
    const t = now();
    this.msgsRecv++;
    if (this.phase === 'done') return;
    if (binary) {
      this.fail('malformed', 'server sent a binary message of ' + data.byteLength + ' bytes');
      return;
    }
    let m;
    try {
      m = JSON.parse(data);
    } catch (e) {
      this.fail('malformed', 'server message ' + JSON.stringify(clip(data)) + ': ' + e.message);
      return;
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m) || typeof m.type !== 'string') {
      this.fail('malformed', 'server message ' + JSON.stringify(clip(data)) + ': no "type" string');
      return;
    }
    switch (m.type) {
      case 'ready':
        if (this.phase === 'ready') this.beginStream();
        break;
      case 'chunk_ack':
        if (this.ack(t, m) && this.phase === 'draining' && this.nAcked === this.cfg.frames.length) this.maybeFinish();
        break;
      case 'inference':
        if (this.inference === null) {
          this.inferAt = t;
          this.inference = data;
          this.maybeFinish();
        }
        break;
      case 'error':
        this.fail('server_error', 'server error message ' + JSON.stringify(clip(data)));
        break;
      default:
    }
  }

  ack(t, m) {
    const n = this.cfg.frames.length;
    const isInt = (v) => typeof v === 'number' && Math.trunc(v) === v && Math.abs(v) <= 2 ** 53;
    if (m.seq !== undefined && !isInt(m.seq)) {
      this.fail('malformed', '"seq" is not an integer');
      return false;
    }
    let i;
    if (m.client_seq !== undefined) {
      if (!isInt(m.client_seq)) {
        this.fail('malformed', '"client_seq" is not an integer');
        return false;
      }
      if (m.client_seq < 1 || m.client_seq > n) {
        this.fail('malformed', 'ack for client_seq ' + m.client_seq + ': the session has chunks 1..' + n);
        return false;
      }
      i = m.client_seq - 1;
    } else {
      while (this.fifo < n && this.acked[this.fifo]) this.fifo++;
      if (this.fifo >= n) {
        this.fail('malformed', 'ack (seq ' + m.seq + ') with every chunk already acked');
        return false;
      }
      i = this.fifo;
    }
    if (i >= this.next) {
      this.fail('malformed', 'ack for chunk ' + (i + 1) + ', which was not sent yet');
      return false;
    }
    if (this.acked[i]) return true; // a duplicate
    this.acked[i] = true;
    this.nAcked++;
    const lat = t - this.sentAt[i];
    this.latencies.push(lat);
    M.chunkLatency.add(lat, this.tags);
    return true;
  }

  // closed ends the session; err is the transport's error text, if any.
  closed(err) {
    const wasClosing = this.phase === 'closing';
    const success = wasClosing && !this.kind;
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.stopTimer();
    if (this.sessionTimer !== null) this.t.clearTimer(this.sessionTimer);
    if (!success && !this.kind) {
      this.kind = 'closed';
      this.error = 'connection lost mid-session' + (err ? ': ' + err : '');
    }
  }

  // connectFailed records a connection that was never made.
  connectFailed(status, err) {
    this.phase = 'done';
    this.status = status;
    const msg = String(err || 'connection failed');
    if ((status > 0 && status !== 101) || /bad handshake/i.test(msg)) this.kind = 'handshake';
    else if (/refused/i.test(msg)) this.kind = 'refused';
    else if (/timeout|deadline/i.test(msg)) this.kind = 'connect_timeout';
    else this.kind = 'dial';
    this.error = msg;
  }

  // finish records the session's end and returns the result object.
  finish() {
    const end = now();
    const connected = this.status === 101 && ['refused', 'dial', 'handshake', 'connect_timeout'].indexOf(this.kind) < 0;
    let tags = this.tags;
    if (!connected) {
      tags = Object.assign({}, this.cfg.tags, { url: this.cfg.url });
      if (this.status !== 0) tags.status = String(this.status);
    }
    const errTags = this.kind ? withTag(tags, 'error', this.kind) : tags;
    M.sessions.add(1, errTags);
    if (!connected) M.connFailed.add(1, errTags);
    else M.connFailed.add(0, tags);
    let inference = null;
    let messageLatency = null;
    if (this.inference !== null) {
      messageLatency = this.inferAt - this.endAt;
      M.messageLatency.add(messageLatency, tags);
      let d = null;
      let err = null;
      try {
        d = parseDetection(this.inference, this.cfg.paths);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        err = e;
      }
      recordDetection(Object.assign({}, this.cfg.tags, { url: this.cfg.url }), d, this.cfg.expect, err);
      inference = detectionObject(d, err);
    }
    return {
      ok: this.kind === '',
      url: this.cfg.url,
      status: this.status,
      subprotocol: this.subprotocol,
      error: this.error,
      errorKind: this.kind,
      connectingMs: connected ? this.openAt - this.t0 : 0,
      durationMs: connected ? end - this.openAt : 0,
      chunks: this.cfg.frames.length,
      chunksSent: this.chunksSent,
      chunksAcked: this.nAcked,
      msgsSent: this.msgsSent,
      msgsReceived: this.msgsRecv,
      maxLagMs: this.maxLag,
      chunkLatencies: this.latencies,
      messageLatencyMs: messageLatency,
      inference,
      raw: this.inference,
    };
  }
}

function wsHeaders(cfg) {
  const h = Object.assign({}, cfg.headers);
  if (cfg.subprotocols.length > 0) h['Sec-WebSocket-Protocol'] = cfg.subprotocols.join(', ');
  return h;
}

/** stream(url, options) runs one streaming session, blocking the VU until it ends (k6/ws). */
export function stream(url, options) {
  const cfg = prepare('stream', url, options);
  if (options && !isNullish(options.connectTimeout) && !warnedConnectTimeout) {
    // Not silently ignored: k6/ws has no dial timeout a script can set (README).
    warnedConnectTimeout = true;
    if (__VU <= 1) {
      console.warn('pixel.js: stream() cannot bound the connect time (k6/ws has no dial timeout); ' +
        'connectTimeout applies to streamAsync only');
    }
  }
  let sock = null;
  let gen = 0;
  const cancelled = {};
  const t = {
    send: (s) => sock.send(s),
    sendBinary: (b) => sock.sendBinary(b),
    close: () => sock.close(),
    setTimer: (fn, ms) => {
      const id = ++gen;
      sock.setTimeout(() => {
        if (!cancelled[id]) fn();
        delete cancelled[id];
      }, ms);
      return id;
    },
    clearTimer: (id) => {
      cancelled[id] = true;
    },
  };
  const s = new Session(cfg, t);
  let res;
  let dialErr = '';
  try {
    res = ws.connect(cfg.url, { headers: wsHeaders(cfg), tags: cfg.tags }, (socket) => {
      sock = socket;
      socket.on('open', () => s.opened(101, ''));
      socket.on('message', (data) => s.message(data, false));
      socket.on('binaryMessage', (data) => s.message(data, true));
      socket.on('error', (e) => {
        if (s.phase !== 'closing' && s.phase !== 'done') s.fail('closed', 'connection lost mid-session: ' + (e && e.error ? e.error() : e));
      });
      socket.on('close', () => s.closed(''));
    });
  } catch (e) {
    dialErr = String(e && e.message ? e.message : e);
  }
  if (sock === null) {
    s.connectFailed(res ? res.status : 0, dialErr || (res && res.error) || 'connection failed');
  } else {
    if (res && res.headers) s.subprotocol = res.headers['Sec-Websocket-Protocol'] || res.headers['Sec-WebSocket-Protocol'] || '';
    s.closed('');
  }
  return s.finish();
}

/** streamAsync(url, options) runs one streaming session concurrently (k6/websockets); the promise always resolves. */
export function streamAsync(url, options) {
  const cfg = prepare('streamAsync', url, options);
  return new Promise((resolve) => {
    let sock = null;
    let opened = false;
    let lastError = '';
    const t = {
      send: (s) => sock.send(s),
      sendBinary: (b) => sock.send(b),
      close: () => sock.close(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (id) => clearTimeout(id),
    };
    const s = new Session(cfg, t);
    let settled = false;
    let connectTimer = null;
    const stopConnectTimer = () => {
      if (connectTimer !== null) clearTimeout(connectTimer);
      connectTimer = null;
    };
    const settle = () => {
      if (settled) return;
      settled = true;
      stopConnectTimer();
      if (!opened) {
        const m = /answered (\d{3})|status(?: code)? (\d{3})/.exec(lastError);
        s.connectFailed(m ? Number(m[1] || m[2]) : 0, lastError || 'connection failed');
      } else {
        s.closed(lastError);
      }
      resolve(s.finish());
    };
    try {
      sock = new WebSocket(cfg.url, cfg.subprotocols.length ? cfg.subprotocols : undefined, { headers: cfg.headers, tags: cfg.tags });
    } catch (e) {
      lastError = String(e && e.message ? e.message : e);
      settle();
      return;
    }
    sock.binaryType = 'arraybuffer';
    // connectTimeout: k6/websockets has no dial timeout of its own below k6's 60 s.
    connectTimer = setTimeout(() => {
      connectTimer = null;
      if (opened || settled) return;
      lastError = 'connect timeout: no upgrade within ' + cfg.connectTimeout + 'ms';
      settle();
      try {
        sock.close();
      } catch (e) {
        // not open yet
      }
    }, cfg.connectTimeout);
    sock.onopen = () => {
      stopConnectTimer();
      if (settled) return;
      opened = true;
      s.opened(101, sock.protocol || '');
    };
    sock.onmessage = (e) => s.message(e.data, typeof e.data !== 'string');
    sock.onerror = (e) => {
      lastError = String(e && (e.error || e.message) ? (e.error || e.message) : e);
      if (opened && s.phase !== 'closing' && s.phase !== 'done') s.fail('closed', 'connection lost mid-session: ' + lastError);
    };
    sock.onclose = () => settle();
  });
}

export default { inspect, configure, stream, streamAsync };
