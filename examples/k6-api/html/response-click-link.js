// res.clickLink(): follow the first link of a page, or the one a selector picks; the
// href is resolved against the page's URL.
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const page = http.get(`${__ENV.BASE_URL}/account`);

  check(page.clickLink(), {
    'without options the first link is followed': (r) => r.status === 200 && r.url === `${__ENV.BASE_URL}/account/orders`,
  });

  check(page.clickLink({ selector: 'nav a.danger' }), {
    'a selector picks the link, query string included': (r) => r.body === 'GET /account/logout?from=nav ',
  });
}
