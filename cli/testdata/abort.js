import exec from 'k6/execution';
export const options = { vus: 2, duration: '10s' };
export default function () {
  if (__ITER === 1) exec.test.abort('enough');
}
