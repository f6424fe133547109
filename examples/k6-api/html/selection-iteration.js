// Walking a selection: each (callback with an Element), map (callback with a Selection,
// returns an array) and toArray (an array of one-element selections).
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const doc = parseHTML(`
<ol id="timetable">
  <li data-platform="2">07:12 Utrecht</li>
  <li data-platform="5">07:40 Zwolle</li>
  <li data-platform="2">08:03 Leiden</li>
</ol>`);

export default function () {
  const stops = doc.find('#timetable li');

  const seen = [];
  const returned = stops.each(function (index, element) {
    seen.push(`${index}:${element.nodeName()}:${element.textContent()}`);
  });

  const towns = stops.map(function (index, stop) {
    return stop.text().split(' ')[1];
  });

  const asArray = stops.toArray();

  check(null, {
    'each visits the items in order': () =>
      seen.join('|') === '0:li:07:12 Utrecht|1:li:07:40 Zwolle|2:li:08:03 Leiden',
    'each returns the selection it ran on': () => returned.size() === 3,
    'map returns a plain array of the results': () => Array.isArray(towns) && towns.join(',') === 'Utrecht,Zwolle,Leiden',
    'toArray gives one selection per item': () => asArray.length === 3 && asArray.every((s) => s.size() === 1),
    'the array items are selections with their methods': () =>
      asArray.filter((s) => s.attr('data-platform') === '2').map((s) => s.text()).join('|') === '07:12 Utrecht|08:03 Leiden',
  });
}
