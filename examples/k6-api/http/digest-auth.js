// Digest authentication: with `auth: 'digest'` and the credentials in the URL, k6/http
// first gets the server's challenge (401), then answers it. The counter checks the MD5
// response for qop=auth and the request URI, query string included.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const user = 'grace';
const base = __ENV.BASE_URL.replace('://', `://${user}:cobol-1959@`);

export default function () {
  const res = http.get(`${base}/vault/digest`, { auth: 'digest' });
  check(res, {
    'the digest answer is accepted': (r) => r.status === 200,
    'the server saw the right user': (r) => r.json('scheme') === 'digest' && r.json('user') === user,
    'the answered request carried a Digest header for the same URI': (r) => {
      const h = r.request.headers['Authorization'][0];
      return h.startsWith('Digest ') && h.includes('uri="/vault/digest"') && h.includes(`username="${user}"`);
    },
  });

  const withQuery = http.get(`${base}/vault/digest?shelf=7&row=b`, { auth: 'digest' });
  check(withQuery, { 'the digest covers the query string too': (r) => r.status === 200 });

  const wrong = http.get(`${__ENV.BASE_URL.replace('://', `://${user}:fortran-1957@`)}/vault/digest`, {
    auth: 'digest',
    responseCallback: http.expectedStatuses(401),
  });
  check(wrong, { 'a wrong password gets a 401 after the challenge': (r) => r.status === 401 });
}
