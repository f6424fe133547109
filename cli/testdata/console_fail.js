import exec from 'k6/execution';

export const options = { iterations: 2, bogusKey: 1 };

export default function () {
  console.log('hello', { a: 1 });
  exec.test.fail('bad data');
}
