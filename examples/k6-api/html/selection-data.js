import { parseHTML } from 'k6/html';
import { sleep } from 'k6';

export default function () {
  const content = `
 <h1 data-test-id="data-value">Hola</h1>
  `;

  const doc = parseHTML(content);
  const sel = doc.find('h1');

  console.log(sel.data().testID);
  console.log(sel.data('test-id'));
  console.log(sel.data('testId'));

  sleep(1);
}
