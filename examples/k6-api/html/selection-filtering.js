// Narrowing a selection: by position (eq, first, last, get, slice), by a selector, a
// function or another selection (filter, is, not), and by descendants (has).
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const doc = parseHTML(`
<table id="stock">
  <tr class="tree"><td>Oak</td><td>12</td></tr>
  <tr class="shrub"><td>Lavender</td><td>0</td></tr>
  <tr class="tree"><td>Birch</td><td>4</td></tr>
  <tr class="shrub promo"><td>Boxwood <em>-20%</em></td><td>31</td></tr>
  <tr class="climber"><td>Ivy</td><td>7</td></tr>
</table>`);

const name = (row) => row.find('td').first().text().trim();
const names = (sel) => sel.toArray().map(name).join(',');

export default function () {
  const rows = doc.find('#stock tr');

  check(rows, {
    'size counts the rows': (s) => s.size() === 5,
    'eq picks by index': (s) => name(s.eq(2)) === 'Birch',
    'eq counts from the end with a negative index': (s) => name(s.eq(-1)) === 'Ivy',
    'first and last are the ends': (s) => name(s.first()) === 'Oak' && name(s.last()) === 'Ivy',
    'get(i) returns an Element': (s) => s.get(1).textContent().startsWith('Lavender'),
    'get() returns every Element': (s) => s.get().length === 5,
    'slice(start) runs to the end': (s) => names(s.slice(3)) === 'Boxwood -20%,Ivy',
    'slice(start, end) excludes end': (s) => names(s.slice(1, 3)) === 'Lavender,Birch',
  });

  const inStock = (i, row) => Number(row.find('td').last().text()) > 0;
  check(rows, {
    'filter(selector)': (s) => names(s.filter('.tree')) === 'Oak,Birch',
    'filter(function) gets each row as a selection': (s) => names(s.filter(inStock)) === 'Oak,Birch,Boxwood -20%,Ivy',
    'filter(selection) keeps the shared rows': (s) => names(s.filter(doc.find('tr.shrub'))) === 'Lavender,Boxwood -20%',
    'not(selector)': (s) => names(s.not('.tree')) === 'Lavender,Boxwood -20%,Ivy',
    'not(function)': (s) => names(s.not(inStock)) === 'Lavender',
    'not(selection)': (s) => s.not(s.first()).size() === 4,
    'is(selector) is true when one row matches': (s) => s.is('.promo') === true,
    'is(selector) is false when none match': (s) => s.is('.hedge') === false,
    'is(function)': (s) => s.is((i, row) => name(row) === 'Ivy') === true,
    'is(selection)': (s) => s.is(doc.find('tr.climber')) === true && s.first().is(s.last()) === false,
    'has(selector) keeps rows with a match inside': (s) => names(s.has('em')) === 'Boxwood -20%',
  });
}
