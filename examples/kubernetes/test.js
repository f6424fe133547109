// A load test for the k6-operator: four runners share 40 VUs against the Pixelated
// Empathy REST API at BASE_URL (the Service of the API under test). Every runner writes its
// samples with --out json; k6verdict --instances reads the four files as one test.
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = (__ENV.BASE_URL || 'http://pixel-api:8080').replace(/\/+$/, '');

export const options = {
  scenarios: {
    infer: { executor: 'constant-vus', vus: 40, duration: '2m' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:infer}': ['p(95)<500'],
  },
};

export default function () {
  const res = http.post(`${BASE_URL}/api/ai/pixel/infer`,
    JSON.stringify({ prompt: 'I have been feeling a bit low lately' }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'infer' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
