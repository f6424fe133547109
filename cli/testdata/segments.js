// One scenario of every executor, all at once, for the execution-segment tests: run it
// whole, or split with --execution-segment and --execution-segment-sequence.
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';

const BASE_URL = __ENV.BASE_URL;

export const options = {
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate<0.01'],
    iterations: ['count>0'],
  },
  scenarios: {
    shared: { executor: 'shared-iterations', vus: 5, iterations: 31, exec: 'quick' },
    pervu: { executor: 'per-vu-iterations', vus: 4, iterations: 5, exec: 'quick' },
    constant: { executor: 'constant-vus', vus: 10, duration: '1s', exec: 'paced' },
    ramping: {
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [
        { duration: '500ms', target: 7 },
        { duration: '1s', target: 7 },
      ],
      gracefulRampDown: '0s',
      exec: 'paced',
    },
    steady: {
      executor: 'constant-arrival-rate',
      rate: 40,
      timeUnit: '1s',
      duration: '1500ms',
      preAllocatedVUs: 6,
      maxVUs: 12,
      exec: 'quick',
    },
    wave: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s',
      preAllocatedVUs: 6,
      maxVUs: 12,
      stages: [
        { duration: '1s', target: 50 },
        { duration: '500ms', target: 0 },
      ],
      exec: 'quick',
    },
  },
};

// Every request says which iteration and VU of the whole test sent it.
export function quick() {
  const tags = { it: `${exec.scenario.iterationInTest}`, vut: `${exec.vu.idInTest}` };
  const res = http.get(`${BASE_URL}/`, { tags });
  check(res, { 'status is 200': (r) => r.status === 200 });
}

export function paced() {
  quick();
  sleep(0.2);
}
