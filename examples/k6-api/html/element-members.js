// The Element API: what get(), each() and the DOM-like members hand back, from names and
// text to neighbours, attributes, queries and the URL parts of a link.
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const doc = parseHTML(`
<section id="menu" lang="fr" class="panel daily">
  <h3 id="starter" title="Entrée">Soupe à l'oignon</h3>
  <h3 id="main">Ratatouille</h3>
  <!-- dessert to be announced -->
  <p class="note">Prix <span class="price">14 €</span> net</p>
  <a id="booking" href="https://guest:s3cret@bistro.example:8443/tables/book?party=4#evening" rel="nofollow external" target="_blank">Réserver</a>
</section>`);

export default function () {
  const menu = doc.find('#menu').get(0);
  const starter = doc.find('h3').get(0);
  const main = doc.find('#main').get(0);

  check(starter, {
    'nodeName is the lower-case tag': (el) => el.nodeName() === 'h3',
    'nodeType of an element is 1': (el) => el.nodeType() === 1,
    'id': (el) => el.id() === 'starter',
    'textContent': (el) => el.textContent() === "Soupe à l'oignon",
    'lang is inherited from an ancestor': (el) => el.lang() === 'fr',
    'getAttribute and hasAttribute': (el) => el.getAttribute('title') === 'Entrée' && el.hasAttribute('title') && !el.hasAttribute('alt'),
    'getAttributeNode has a name and a value': (el) => el.getAttributeNode('title').value === 'Entrée',
    'nextElementSibling skips the whitespace text': (el) => el.nextElementSibling().id() === 'main',
    'nextSibling is the whitespace text node': (el) => el.nextSibling().nodeType() === 3,
    'parentElement is the section': (el) => el.parentElement().id() === 'menu',
    'isSameNode / isEqualNode': (el) => el.isSameNode(doc.find('#starter').get(0)) && !el.isEqualNode(main),
    'matches(selector)': (el) => el.matches('h3[title]') && !main.matches('h3[title]'),
    'selection() goes back to the Selection API': (el) => el.selection().next().text() === 'Ratatouille',
  });

  check(menu, {
    'className and classList': (el) => el.className() === 'panel daily' && el.classList().join('/') === 'panel/daily',
    'innerHTML is the markup inside': (el) => el.innerHTML().includes('<span class="price">14 €</span>'),
    'childElementCount counts the element children': (el) => el.childElementCount() === 4,
    'children are Elements': (el) => el.children().map((c) => c.nodeName()).join(',') === 'h3,h3,p,a',
    'childNodes include the comment': (el) => el.childNodes().some((c) => c.nodeType() === 8),
    'firstElementChild / lastElementChild': (el) => el.firstElementChild().id() === 'starter' && el.lastElementChild().id() === 'booking',
    'querySelector finds the first match': (el) => el.querySelector('.price').textContent() === '14 €',
    'querySelectorAll finds every match': (el) => el.querySelectorAll('h3').length === 2,
    'getElementsByTagName / getElementsByClassName': (el) =>
      el.getElementsByTagName('span').length === 1 && el.getElementsByClassName('note').length === 1,
    'contains a descendant': (el) => el.contains(main) && !main.contains(el),
    'hasAttributes / hasChildNodes': (el) => el.hasAttributes() && el.hasChildNodes(),
    'attributes are keyed by name': (el) => {
      const attrs = el.attributes();
      return Object.keys(attrs).join(',') === 'id,lang,class' && attrs.class.value === 'panel daily';
    },
  });

  check(doc.find('#booking').get(0), {
    'protocol keeps the colon': (a) => a.protocol() === 'https:',
    'host has the port, hostname has not': (a) => a.host() === 'bistro.example:8443' && a.hostname() === 'bistro.example',
    'port': (a) => a.port() === '8443',
    'pathname, search and hash': (a) => a.pathname() === '/tables/book' && a.search() === '?party=4' && a.hash() === '#evening',
    'username and password': (a) => a.username() === 'guest' && a.password() === 's3cret',
    'origin': (a) => a.origin() === 'https://bistro.example:8443',
    'rel and target': (a) => a.rel() === 'nofollow external' && a.target() === '_blank',
    'text of a link': (a) => a.text() === 'Réserver',
  });
}
