// k6/experimental/csv: a streaming Parser, one record per next(), skipping the header line;
// options with fromLine/toLine and a delimiter, and asObjects.
import { check } from 'k6';
import { open } from 'k6/experimental/fs';
import csv from 'k6/experimental/csv';

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } };

const file = await open('users.csv');
const parser = new csv.Parser(file, { skipFirstLine: true });

export default async function () {
  const names = [];
  for (;;) {
    const { done, value } = await parser.next();
    if (done) break;
    names.push(value[0]);
  }
  check(names, { 'every record after the header': (n) => n.join('|') === 'ada|grace|linus, jr' });

  await file.seek(0, 0);
  const tail = await csv.parse(file, { fromLine: 2, toLine: 3 });
  check(tail, { 'fromLine and toLine pick lines 2 to 3': (m) => m.length === 2 && m[0][0] === 'grace' && m[1][0] === 'linus, jr' });

  await file.seek(0, 0);
  const byColumn = await csv.parse(file, { asObjects: true });
  check(byColumn, { 'asObjects keys records by the header': (r) => r[1].password === 'hopper-1906' });
  console.log('csv-parser: all steps ran');
}
