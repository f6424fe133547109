// k6/secrets with `--secret-source=file=secrets.env`: secrets come as Promises, and their
// values are redacted from the logs (the log line below shows ***SECRET_REDACTED***).
// Run: pixelk6 run --secret-source=file=examples/k6-api/files/secrets.env examples/k6-api/files/secrets.js
import { check } from 'k6';
import secrets from 'k6/secrets';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

export default async function () {
  const token = await secrets.get('api_token');
  const password = await secrets.source('default').get('admin_password');
  check(token, { 'the token is read': (t) => t.startsWith('pixel-demo-token') });
  check(password, { 'a value may hold spaces': (p) => p.split(' ').length === 4 });
  let missing = '';
  try {
    await secrets.get('no_such_secret');
  } catch (e) {
    missing = e.message;
  }
  check(missing, { 'an unknown secret rejects': (m) => m === 'no value' });
  console.log(`secrets: using ${token} and ${password}`);
  console.log('secrets: all steps ran');
}
