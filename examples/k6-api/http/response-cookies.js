// res.cookies: every cookie a response sets, by name, with its attributes (value, domain,
// path, expires, max_age, secure, http_only).
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/jar/badge`);
  const badge = res.cookies.badge[0];
  const theme = res.cookies.theme[0];

  check(res, { 'the response set two cookies': (r) => Object.keys(r.cookies).sort().join() === 'badge,theme' });
  check(badge, {
    'value, domain and path': (c) => c.value === 'visitor-42' && c.domain === '127.0.0.1' && c.path === '/jar',
    'max_age and expires': (c) => c.max_age === 3600 && new Date(c.expires).toISOString() === '2031-05-17T08:30:00.000Z',
    'flags: http_only but not secure': (c) => c.http_only === true && c.secure === false,
  });
  check(theme, {
    'a bare cookie has no attributes set': (c) => c.value === 'dark' && c.path === '' && c.max_age === 0 && c.http_only === false,
  });
}
