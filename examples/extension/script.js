// Uses the example extension k6/x/sentiment (examples/extension/sentiment) to score the tone
// of every inference response under load. It needs a binary with the extension linked in:
//
//   go build -o bin/pixelk6-custom ./examples/extension/cmd/pixelk6-custom
//   bin/pixelsim &                                        # or API_URL=https://... below
//   bin/pixelk6-custom run examples/extension/script.js
//
// Environment: API_URL (default pixelsim's http://127.0.0.1:5173).
import http from 'k6/http';
import { check } from 'k6';
import sentiment from 'k6/x/sentiment';

const API_URL = (__ENV.API_URL || 'http://127.0.0.1:5173').replace(/\/+$/, '');

const PROMPTS = [
  'Can you help me understand my thoughts about work?',
  'What are good ways to build a sleep routine?',
  'Everything feels overwhelming today',
  'I feel hopeless and worthless lately',
];

export const options = {
  vus: 5,
  duration: '10s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    // The extension's metrics, registered in the init context, take thresholds like any other.
    sentiment_score: ['avg>0', 'p(10)>=0'],
    sentiment_negative: ['rate<0.05'],
  },
};

export default function () {
  const prompt = PROMPTS[(__VU + __ITER) % PROMPTS.length];
  const res = http.post(`${API_URL}/api/ai/pixel/infer`,
    JSON.stringify({ prompt: prompt, user_id: `vu-${__VU}`, modalities: ['text'] }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'infer' } });
  const ok = check(res, { 'status is 200': (r) => r.status === 200 });
  if (ok) {
    // One sentiment_score and one sentiment_negative sample, tagged endpoint=infer.
    sentiment.score(res.json('response'), { endpoint: 'infer' });
  }
}

