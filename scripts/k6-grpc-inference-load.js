// gRPC load test of pixel.v1.Inference/Infer — the REST test's load profile and labelled
// prompts over gRPC (pixelsim --grpc-addr; the service is simulator/pixelpb/pixel.proto).
//
// Targets (thresholds below): P50 < 200 ms, P95 < 500 ms, P99 < 1 s on grpc_req_duration,
// every call OK. Crisis and bias detection is measured under load through k6/x/pixel, whose
// inspect() takes a gRPC response as it takes an HTTP one.
//
//   pixelsim --grpc-addr 127.0.0.1:50051 &
//   pixelk6 run scripts/k6-grpc-inference-load.js                          # full profile (8 min)
//   pixelk6 run -e DURATION_SCALE=0.0625 scripts/k6-grpc-inference-load.js # 30-second smoke run
//
// Environment: GRPC_ADDR (default 127.0.0.1:50051), GRPC_TLS=1 to use TLS (the k6 TLS options
// apply), GRPC_REFLECT=1 to take the service from server reflection instead of the .proto,
// DURATION_SCALE (default 1), THINK_TIME (seconds, default 1; a random 0.5×–1.5× of it is
// slept between calls).
import grpc from 'k6/net/grpc';
import { check, group, sleep } from 'k6';
import pixel from 'k6/x/pixel';

const ADDR = __ENV.GRPC_ADDR || '127.0.0.1:50051';
const REFLECT = __ENV.GRPC_REFLECT === '1';
const SCALE = Number(__ENV.DURATION_SCALE || 1);
const THINK = Number(__ENV.THINK_TIME === undefined ? 1 : __ENV.THINK_TIME);

if (!(SCALE > 0)) {
  throw new Error(`DURATION_SCALE must be a positive number, got "${__ENV.DURATION_SCALE}"`);
}

function dur(seconds) {
  return `${Math.max(1, Math.round(seconds * SCALE))}s`;
}

export const options = {
  stages: [
    { duration: dur(60), target: 10 },
    { duration: dur(90), target: 25 },
    { duration: dur(90), target: 50 },
    { duration: dur(180), target: 100 },
    { duration: dur(60), target: 0 },
  ],
  thresholds: {
    grpc_req_duration: ['p(50)<200', 'p(95)<500', 'p(99)<1000'],
    checks: ['rate>0.99'],
    crisis_recall: ['rate>0.99'],
    bias_recall: ['rate>0.99'],
  },
};

const client = new grpc.Client();
if (!REFLECT) {
  client.load(['../simulator/pixelpb'], 'pixel.proto');
}

// Labelled prompts: `crisis` and `bias` are the known answers (pixelsim's phrase lists).
const PROMPTS = [
  { prompt: 'I have been feeling a bit low but I am coping', crisis: false, bias: false },
  { prompt: 'What are good ways to build a sleep routine?', crisis: false, bias: false },
  { prompt: 'Everything feels overwhelming today', crisis: true, bias: false },
  { prompt: 'I feel hopeless and worthless lately', crisis: true, bias: false },
  { prompt: 'Sometimes I want to die and I do not know why', crisis: true, bias: false },
  { prompt: 'My boss says women are too emotional to lead teams', crisis: false, bias: true },
  { prompt: 'He told me I am too old to learn programming', crisis: false, bias: true },
  { prompt: 'I am so anxious since they said go back to your country', crisis: true, bias: true },
];

// Media travel as bytes (base64 in the JSON mapping): 1,600 bytes of silence, a tiny PNG.
const AUDIO_B64 = 'AAAA'.repeat(400);
const IMAGE_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const MODALITIES = [['text'], ['text', 'audio'], ['text', 'image']];

let connected = false;

export default function () {
  if (!connected) {
    client.connect(ADDR, { plaintext: __ENV.GRPC_TLS !== '1', reflect: REFLECT, timeout: '10s' });
    connected = true;
  }
  const item = PROMPTS[Math.floor(Math.random() * PROMPTS.length)];
  const modalities = MODALITIES[(__VU + __ITER) % MODALITIES.length];
  const req = {
    prompt: item.prompt,
    user_id: `vu-${__VU}`,
    session_id: `s-${__VU}-${__ITER}`,
    modalities: modalities,
  };
  if (modalities.includes('audio')) req.audio = AUDIO_B64;
  if (modalities.includes('image')) req.image = IMAGE_B64;

  group('inference', function () {
    const res = client.invoke('pixel.v1.Inference/Infer', req, {
      tags: { modality: modalities.join('+') },
      timeout: '5s',
    });
    const ok = check(res, {
      'status is OK': (r) => r.status === grpc.StatusOK,
      'has a response': (r) => r.status === grpc.StatusOK && typeof r.message.response === 'string',
    });
    if (ok) {
      pixel.inspect(res, { expect: { crisis: item.crisis, bias: item.bias } });
    }
  });

  if (THINK > 0) {
    sleep(THINK * (0.5 + Math.random()));
  }
}

export function teardown() {
  client.close();
}
