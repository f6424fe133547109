// params.cookies: cookies for one request. A plain value is added to what the jar holds
// (both go when the names clash); { value, replace: true } replaces the jar's cookie of that
// name for this request only. res.request.cookies shows what was sent.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const base = __ENV.BASE_URL;

export default function () {
  const oneOff = http.get(`${base}/jar/show`, { cookies: { lang: 'eo', region: 'nordic' } });
  check(oneOff, {
    'request cookies are sent': (r) => r.json('cookies.lang') === 'eo' && r.json('cookies.region') === 'nordic',
    'res.request.cookies lists them with their values': (r) =>
      r.request.cookies.lang[0].value === 'eo' && r.request.cookies.region[0].value === 'nordic',
  });
  check(http.cookieJar().cookiesForURL(base), { 'request cookies do not enter the jar': (c) => c.lang === undefined });

  http.cookieJar().set(base, 'lang', 'la');
  const both = http.get(`${base}/jar/show`, { cookies: { lang: 'eo' } });
  check(both, {
    'without replace, the jar cookie and the request cookie both go': (r) =>
      JSON.stringify(r.json('pairs').slice().sort()) === '["lang=eo","lang=la"]',
  });

  const replaced = http.get(`${base}/jar/show`, { cookies: { lang: { value: 'eo', replace: true } } });
  check(replaced, {
    'replace: true sends only the request value': (r) => JSON.stringify(r.json('pairs')) === '["lang=eo"]',
  });

  check(http.get(`${base}/jar/show`), { 'the jar keeps its own value afterwards': (r) => r.json('cookies.lang') === 'la' });
}
