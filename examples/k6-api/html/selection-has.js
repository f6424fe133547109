import { parseHTML } from 'k6/html';
import { sleep } from 'k6';

export default function () {
  const content = `
 <ul>
  <li>list item 1</li>
  <li>list item 2
    <ul>
      <li>list item 2-a</li>
      <li>list item 2-b</li>
    </ul>
  </li>
  <li>list item 3</li>
  <li>list item 4</li>
</ul>
  `;
  const doc = parseHTML(content);

  const sel = doc.find('li').has('ul');

  console.log(sel.html());

  sleep(1);
}
