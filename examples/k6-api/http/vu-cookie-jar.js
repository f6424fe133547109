// The VU's own cookie jar, http.cookieJar(): cookies a response sets are stored in it and
// sent on later requests; cookiesForURL reads it, delete removes one cookie, clear empties
// the jar for a URL.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const base = __ENV.BASE_URL;

export default function () {
  // The counter sets two cookies, then redirects to /jar/show; redirects: 0 stops before it.
  const issued = http.get(`${base}/jar/issue?flavor=oat&size=large&then=show`, { redirects: 0 });
  check(issued, { 'the issuing response is the redirect itself': (r) => r.status === 303 });

  const jar = http.cookieJar();
  const stored = jar.cookiesForURL(`${base}/anywhere`);
  check(stored, {
    'both cookies are in the VU jar': (c) => c.flavor[0] === 'oat' && c.size[0] === 'large',
    'cookiesForURL gives arrays of values': (c) => Array.isArray(c.flavor) && c.flavor.length === 1,
  });

  const shown = http.get(`${base}/jar/show`);
  check(shown, {
    'the jar sends them on the next request': (r) => r.json('cookies.flavor') === 'oat' && r.json('cookies.size') === 'large',
  });

  // Following the redirect: the cookies set on the way are sent to its target.
  const followed = http.get(`${base}/jar/issue?topping=honey&then=show`);
  check(followed, {
    'a cookie set before a redirect reaches its target': (r) => r.url === `${base}/jar/show` && r.json('cookies.topping') === 'honey',
  });

  jar.delete(base, 'size');
  check(jar.cookiesForURL(base), {
    'delete removes just that cookie': (c) => c.size === undefined && c.flavor[0] === 'oat' && c.topping[0] === 'honey',
  });

  jar.clear(base);
  check(jar.cookiesForURL(base), { 'clear empties the jar for the URL': (c) => Object.keys(c).length === 0 });
  check(http.get(`${base}/jar/show`), { 'nothing is sent after clear': (r) => r.json('pairs').length === 0 });
}
