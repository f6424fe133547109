// res.json(selector): GJSON paths, array counts and indexes, queries, modifiers and
// escaped dots, against the counter's small bookshop catalog.
import http from 'k6/http';
import { check } from 'k6';

export const options = { thresholds: { checks: ['rate==1'] } };

export default function () {
  const res = http.get(`${__ENV.BASE_URL}/catalog`);

  check(res, {
    'no selector parses the whole body': (r) => r.json().books.length === 3,
    'a dotted path reaches a string': (r) => r.json('shop') === 'Lantern & Quill',
    '# counts an array': (r) => r.json('books.#') === 3,
    'an index reaches into an array': (r) => r.json('books.1.author.last') === 'Lindqvist',
    'books.#.title collects a field of every element': (r) =>
      JSON.stringify(r.json('books.#.title')) === '["The Salt Roads","Copper Moths","A Field Guide to Fog"]',
    'a #(...) query returns the first match': (r) => r.json('books.#(price<10).title') === 'A Field Guide to Fog',
    'a #(...)# query returns every match': (r) =>
      JSON.stringify(r.json('books.#(author.first=="Ines")#.stock')) === '[3,12]',
    'a query on an array of tags': (r) => JSON.stringify(r.json('books.#(tags.#(=="sea"))#.price')) === '[14.5,9.75]',
    'modifiers apply (@reverse)': (r) => r.json('books.#.stock|@reverse').join(',') === '12,0,3',
    'an escaped dot names a key that holds dots': (r) => r.json('clerk\\.on\\.duty') === 'Wren',
  });

  check(res.json('books.9.title'), { 'a path that matches nothing gives undefined': (v) => v === undefined });
}
