// parseHTML() on a downloaded page, compared with res.html(), plus the Selection basics a
// page check starts with: find, single, text, attr and size.
import { parseHTML } from 'k6/html';
import http from 'k6/http';
import { check } from 'k6';

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/`);
  const fromBody = parseHTML(res.body);
  const fromResponse = res.html();

  check(fromBody, {
    'the title comes from <head>': (doc) => doc.find('head > title').text() === 'Kwekerij De Linde',
    'the document language is read from <html lang>': (doc) => doc.find('html').attr('lang') === 'nl',
    'find returns every heading': (doc) => doc.find('h1').size() === 2,
    'single keeps only the first heading': (doc) => doc.single('h1').size() === 1 && doc.single('h1').text() === 'Plant inventory',
    'a selector with no match gives an empty selection': (doc) => doc.find('table.missing').size() === 0,
  });

  check(fromResponse, {
    'res.html() sees the same document as parseHTML(res.body)': (doc) =>
      doc.find('h1').text() === fromBody.find('h1').text() && doc.find('body').html() === fromBody.find('body').html(),
  });
}
