// The k6 module: check, group, sleep, fail, randomSeed.
import { check, group, sleep, fail, randomSeed } from 'k6';

export const options = {
  iterations: 1,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const reply = { status: 200, body: 'pong' };
  const allPassed = check(reply, {
    'status is 200': (r) => r.status === 200,
    'body is pong': (r) => r.body === 'pong',
  }, { part: 'core' });
  check(allPassed, { 'check returns true when every condition holds': (v) => v === true });

  const value = group('outer', () => group('inner', () => 'from inner'));
  check(value, { 'group returns what its function returns': (v) => v === 'from inner' });

  let message = '';
  try {
    fail('stopped on purpose');
  } catch (e) {
    message = String(e);
  }
  check(message, { 'fail throws an error with its message': (m) => m.includes('stopped on purpose') });

  randomSeed(12345);
  const first = [Math.random(), Math.random(), Math.random()];
  randomSeed(12345);
  const again = [Math.random(), Math.random(), Math.random()];
  check(first, {
    'randomSeed makes Math.random repeat': (f) => f.every((x, i) => x === again[i]),
    'Math.random stays in [0, 1)': (f) => f.every((x) => x >= 0 && x < 1),
  });

  const before = Date.now();
  sleep(0.05);
  check(Date.now() - before, { 'sleep(0.05) waits at least 50 ms': (d) => d >= 49 });

  console.log('k6-core: all steps ran');
}
