import { check } from 'k6';
import http from 'k6/http';

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/example`);
  for (const p in res.headers) {
    if (res.headers.hasOwnProperty(p)) {
      console.log(p + ' : ' + res.headers[p]);
    }
  }
  check(res, {
    'status is 200': (r) => r.status === 200,
    'caption is correct': (r) => r.html('h1').text() == 'Example Domain',
  });
}
