// k6/experimental/csv: the whole file parsed once in the init context into a read-only
// array of objects keyed by the header line; each iteration takes one user.
import { check } from 'k6';
import { open } from 'k6/experimental/fs';
import csv from 'k6/experimental/csv';
import exec from 'k6/execution';

export const options = { iterations: 3, thresholds: { checks: ['rate==1'] } };

const users = await csv.parse(await open('users.csv'), { asObjects: true });

export default function () {
  const user = users[exec.scenario.iterationInTest % users.length];
  check(users, {
    'three users': (u) => u.length === 3,
    'rows are read-only': (u) => Object.isFrozen(u) && Object.isFrozen(u[0]),
  });
  check(user, {
    'a user has every column': (u) => u.username !== '' && u.password !== '' && u.plan !== '',
  });
  if (user.username === 'linus, jr') {
    check(user, { 'quoted fields are unquoted': (u) => u.plan === 'team "core"' });
  }
  console.log('csv-parse: all steps ran');
}
