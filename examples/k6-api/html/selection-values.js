// Reading values: attr (with and without a default), data (the whole set or one key,
// camelCase or dashed), val on every kind of form control, text and html.
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const doc = parseHTML(`
<div id="booking" class="card wide" data-room-code="B-204" data-seats="14" data-accessible="true">
  <p>Room <b>B-204</b>, second floor</p>
  <input id="guest" type="text" value="M. Okafor">
  <input id="notify" type="checkbox" name="notify" value="sms" checked>
  <select id="length">
    <option value="30">half an hour</option>
    <option value="60" selected>an hour</option>
  </select>
  <select id="catering">
    <option>none</option>
    <option selected>coffee</option>
  </select>
  <select id="equipment" multiple>
    <option selected>projector</option>
    <option>whiteboard</option>
    <option selected>speakerphone</option>
  </select>
  <textarea id="remarks">Guests arrive at 9.</textarea>
</div>`);

export default function () {
  const card = doc.find('#booking');

  check(card, {
    'attr reads an attribute': (s) => s.attr('class') === 'card wide',
    'attr of a missing attribute is undefined': (s) => s.attr('title') === undefined,
    'attr falls back to the default given': (s) => s.attr('title', 'untitled') === 'untitled',
    'data() maps every data-* attribute to camelCase': (s) => s.data().roomCode === 'B-204',
    'data() converts numbers and booleans': (s) => s.data().seats === 14 && s.data().accessible === true,
    'data(camelCase key)': (s) => s.data('roomCode') === 'B-204',
    'data(dashed key)': (s) => s.data('room-code') === 'B-204',
    'data of a missing key is undefined': (s) => s.data('floor') === undefined,
  });

  check(doc, {
    'val of a text input is its value': (d) => d.find('#guest').val() === 'M. Okafor',
    'val of a checkbox is its value': (d) => d.find('#notify').val() === 'sms',
    'val of a select is the selected option value': (d) => d.find('#length').val() === '60',
    'val of an option is its value': (d) => d.find('#length option[selected]').val() === '60',
    'val falls back to the option text': (d) => d.find('#catering').val() === 'coffee',
    'val of a multiple select is an array': (d) => JSON.stringify(d.find('#equipment').val()) === '["projector","speakerphone"]',
    'val of a textarea is its content': (d) => d.find('#remarks').val() === 'Guests arrive at 9.',
  });

  check(card.find('p'), {
    'text joins the text of the descendants': (s) => s.text() === 'Room B-204, second floor',
    'html is the inner markup': (s) => s.html() === 'Room <b>B-204</b>, second floor',
  });
}
