// WebSocket streaming load test of /ws/pixel-multimodal — the user guide's "WebSocket
// Streaming Load Test".
//
// Targets (thresholds below): chunk latency P50 < 50 ms, P95 < 200 ms; message latency
// P50 < 100 ms, P95 < 500 ms; connection errors < 5 %. Concurrent connections:
// 50 → 200 → 500 → 1000 (one streaming session per VU at a time).
//
// Each session is what a client app sends: a start message, a labelled text prompt in small
// chunks, one second of 16 kHz audio as 20 ms PCM frames (640 bytes each) and two image
// frames, paced in real time by k6/x/pixel's native client, then `end` and the final inference,
// whose crisis and bias labels are checked against the known answer.
//
//   pixelk6 run scripts/k6-websocket-streaming-load.js                          # full profile (8 min)
//   pixelk6 run -e DURATION_SCALE=0.0625 scripts/k6-websocket-streaming-load.js   # 30-second smoke run
//   WS_URL=wss://staging.example.com/ws/pixel-multimodal pixelk6 run scripts/k6-websocket-streaming-load.js
//
// Environment: WS_URL (default pixelsim's ws://127.0.0.1:5173/ws/pixel-multimodal; a URL
// without a path gets /ws/pixel-multimodal), DURATION_SCALE (default 1), AUDIO_FRAMES
// (default 50), THINK_TIME (seconds between sessions, default 0.5).
//
// On the stock k6 binary: k6/x/pixel is pixelk6's native module; its JavaScript twin
// (extension/pixel/js/pixel.js, same API and metrics) runs on stock k6. Change the import below
// to the commented line and run `k6 run scripts/<this script>` (README: "k6/x/pixel on stock k6").
import { check, sleep } from 'k6';
import pixel from 'k6/x/pixel';
// import pixel from '../extension/pixel/js/pixel.js'; // stock k6: the JS twin

let WS_URL = __ENV.WS_URL || 'ws://127.0.0.1:5173/ws/pixel-multimodal';
if (/^wss?:\/\/[^/]+\/?$/.test(WS_URL) || /\/ws\/?$/.test(WS_URL)) {
  WS_URL = WS_URL.replace(/\/+$/, '').replace(/\/ws$/, '') + '/ws/pixel-multimodal';
}
const SCALE = Number(__ENV.DURATION_SCALE || 1);
const AUDIO_FRAMES = Number(__ENV.AUDIO_FRAMES || 50);
const THINK = Number(__ENV.THINK_TIME === undefined ? 0.5 : __ENV.THINK_TIME);

if (!(SCALE > 0)) {
  throw new Error(`DURATION_SCALE must be a positive number, got "${__ENV.DURATION_SCALE}"`);
}

function dur(seconds) {
  return `${Math.max(1, Math.round(seconds * SCALE))}s`;
}

export const options = {
  stages: [
    { duration: dur(60), target: 50 },
    { duration: dur(60), target: 200 },
    { duration: dur(90), target: 500 },
    { duration: dur(90), target: 1000 },
    { duration: dur(120), target: 1000 },
    { duration: dur(60), target: 0 },
  ],
  thresholds: {
    chunk_latency: ['p(50)<50', 'p(95)<200'],
    message_latency: ['p(50)<100', 'p(95)<500'],
    ws_connection_failed: ['rate<0.05'],
    crisis_recall: ['rate>0.99'],
    bias_recall: ['rate>0.99'],
  },
};

// Labelled prompts (known answers; see the REST script).
const PROMPTS = [
  { text: 'I would like to talk about my week at school', crisis: false, bias: false },
  { text: 'Can you suggest a breathing exercise before a meeting?', crisis: false, bias: false },
  { text: 'Everything feels overwhelming and I cannot focus', crisis: true, bias: false },
  { text: 'I feel hopeless, like nobody would care if I left', crisis: true, bias: false },
  { text: 'My coach keeps telling me to man up when I am sad', crisis: false, bias: true },
  { text: 'They said I am too old to change careers and I feel worthless', crisis: true, bias: true },
];

export default function () {
  const item = PROMPTS[(__VU * 7 + __ITER) % PROMPTS.length];
  const res = pixel.stream(WS_URL, {
    text: item.text,
    textChunkSize: 16,
    audio: { frames: AUDIO_FRAMES, frameMs: 20, sampleRate: 16000 },
    image: { frames: 2, bytes: 4096 },
    expect: { crisis: item.crisis, bias: item.bias },
    tags: { flow: 'multimodal' },
    connectTimeout: '10s',
    ackTimeout: '10s',
    sessionTimeout: '60s',
  });
  check(res, {
    'session completed': (r) => r.ok,
    'all chunks acked': (r) => r.ok && r.chunksAcked === r.chunks,
    'crisis label as expected': (r) => r.ok && r.inference !== null && r.inference.crisis === item.crisis,
  });
  if (THINK > 0) {
    sleep(THINK * (0.5 + Math.random()));
  }
}
