// Turning a form into data without sending it: serialize (a query string), serializeArray
// (name/value pairs) and serializeObject (an object keyed by name).
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const form = parseHTML(`
<form id="feedback">
  <input name="visitor" value="Ana Ruiz">
  <input name="rating" type="radio" value="3">
  <input name="rating" type="radio" value="5" checked>
  <input name="topics" type="checkbox" value="staff" checked>
  <input name="topics" type="checkbox" value="price">
  <input name="draft" value="yes" disabled>
  <textarea name="comment">Great &amp; quiet</textarea>
  <button type="submit" name="send" value="1">Send</button>
</form>`).find('#feedback');

export default function () {
  check(form, {
    'serialize gives a url-encoded string of the successful fields': (f) =>
      f.serialize() === 'visitor=Ana+Ruiz&rating=5&topics=staff&comment=Great+%26+quiet',
    'serializeArray lists name/value pairs in document order': (f) =>
      JSON.stringify(f.serializeArray()) ===
      '[{"name":"visitor","value":"Ana Ruiz"},{"name":"rating","value":"5"},{"name":"topics","value":"staff"},{"name":"comment","value":"Great & quiet"}]',
    'serializeObject keys the values by field name': (f) => {
      const o = f.serializeObject();
      return o.visitor === 'Ana Ruiz' && o.rating === '5' && o.comment === 'Great & quiet' && !('draft' in o);
    },
  });
}
