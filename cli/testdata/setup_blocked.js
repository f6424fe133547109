// setup() blocked on a server that never answers (fault_test.go): only a signal ends it in
// time (its own timeout is 120 s, setupTimeout 10 min).
import http from 'k6/http';
export const options = { vus: 1, iterations: 1, setupTimeout: '10m' };
export function setup() {
  console.log('setup calling');
  http.get(__ENV.TARGET, { timeout: '120s' });
}
export default function () {}
