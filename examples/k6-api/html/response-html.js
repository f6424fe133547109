// res.html() on a downloaded page: the whole document, a selector given straight to
// html(), and Elements turned back into Selections while walking the page.
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/`);

  check(res, {
    'the page is served as HTML': (r) => r.status === 200 && r.headers['Content-Type'].startsWith('text/html'),
    'the headers are enumerable and match the body': (r) =>
      Object.keys(r.headers).includes('Date') && r.headers['Content-Length'] === String(r.body.length),
    'html(selector) is a shortcut for html().find(selector)': (r) => r.html('h1').size() === 2 && r.html('h1').first().text() === 'Plant inventory',
    'every <link> is found with its href': (r) =>
      r.html().find('head link').toArray().map((l) => l.attr('href')).join(' ') === '/static/site.css https://cdn.example/linde.ico',
  });

  // Each item, as an Element, goes back to a Selection to find the list it belongs to.
  const owners = [];
  res.html().find('li').each(function (i, item) {
    owners.push(item.selection().closest('ul').attr('class'));
  });
  check(owners, {
    'each item knows its list': (o) => o.join(',') === 'departments,departments,legal',
  });
}
