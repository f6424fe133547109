import { parseHTML } from 'k6/html';
import http from 'k6/http';

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/`);
  const doc = parseHTML(res.body);

  const titleDoc = doc.find('head title');
  const title = titleDoc.text();
}
