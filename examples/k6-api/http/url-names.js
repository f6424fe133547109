// http.url tagged templates: many URLs, one `name` tag (the template with ${} for each
// value), so metrics group by endpoint rather than by id. The base URL is a value too, so
// the names here read `${}/articles/${}`. The test reading this run's
// samples checks the names; the checks here verify the requests themselves.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

const base = __ENV.BASE_URL;

export default function () {
  const ids = [];
  for (let id = 100; id < 112; id++) {
    const res = http.get(http.url`${base}/articles/${id}`);
    if (res.status === 200 && res.json('id') === String(id)) ids.push(id);
  }
  check(ids, { 'each templated URL reached its own article': (a) => a.length === 12 });

  let langs = 0;
  for (const [id, lang] of [[7, 'de'], [7, 'fr'], [8, 'de'], [9, 'it']]) {
    const res = http.get(http.url`${base}/articles/${id}?lang=${lang}`);
    if (res.json('lang') === lang) langs++;
  }
  check(langs, { 'values in the query string are filled in too': (n) => n === 4 });

  // http.url also works as a plain value for http.request and friends, and an explicit
  // name tag wins over the template's.
  const viaRequest = http.request('GET', http.url`${base}/articles/${'red-wheelbarrow'}`, null, { tags: { name: 'article by slug' } });
  check(viaRequest, { 'an explicit name tag keeps the request working': (r) => r.json('id') === 'red-wheelbarrow' });

  const batch = http.batch([
    ['GET', http.url`${base}/articles/${'salt-roads'}`, null, { tags: { name: 'article by slug' } }],
    ['GET', http.url`${base}/articles/${'copper-moths'}`, null, { tags: { name: 'article by slug' } }],
  ]);
  check(batch, { 'templated URLs work in a batch': (rs) => rs[0].json('id') === 'salt-roads' && rs[1].json('id') === 'copper-moths' });
}
