import { Counter } from 'k6/metrics';
import { check } from 'k6';
const hits = new Counter('hits');
export const options = {
  iterations: 4,
  vus: 2,
  thresholds: { hits: ['count>100'], checks: ['rate==1'], 'hits{kind:a}': ['count==4'] },
};
export default function () {
  hits.add(1, { kind: 'a' });
  check(__ITER, { 'is number': (i) => typeof i === 'number' });
  // Every VU's first iteration throws: with shared iterations either VU may run them all.
  if (__ITER === 0) throw new Error('iteration failed');
}
