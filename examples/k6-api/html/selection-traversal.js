// Moving around a document: up (parent, parents, parentsUntil, closest), down (children,
// contents, find) and sideways (next, nextAll, nextUntil, prev, prevAll, prevUntil).
import { parseHTML } from 'k6/html';
import { check } from 'k6';

const sitemap = parseHTML(`
<nav id="sitemap">
  <ul class="tier-1">
    <li id="home">Home</li>
    <li id="garden">Garden
      <ul class="tier-2">
        <li id="roses">Roses</li>
        <li id="herbs">Herbs
          <ul class="tier-3">
            <li id="basil">Basil</li>
            <li id="thyme">Thyme</li>
            <li id="mint">Mint</li>
          </ul>
        </li>
        <li id="ferns">Ferns</li>
      </ul>
    </li>
    <li id="shop">Shop</li>
    <li id="contact">Contact</li>
  </ul>
</nav>`);

const recipe = parseHTML(`
<article>
  <h2 id="ingredients">Ingredients</h2>
  <p>200 g flour</p>
  <p>2 eggs</p>
  <aside>Eggs at room temperature mix better.</aside>
  <h2 id="method">Method</h2>
  <p>Whisk everything.</p>
  <aside>Do not over-mix.</aside>
  <p>Bake for 25 minutes.</p>
  <h2 id="serving">Serving</h2>
  <p>Serve warm.</p>
</article>`);

const ids = (sel) => sel.toArray().map((s) => s.attr('id')).join(',');

export default function () {
  const thyme = sitemap.find('#thyme');
  check(thyme, {
    'parent is the innermost list': (s) => s.parent().attr('class') === 'tier-3',
    'parents climbs to <html>': (s) => s.parents().size() === 8,
    'parents(selector) keeps the lists': (s) => s.parents('ul').size() === 3,
    'parentsUntil stops below <nav>': (s) => s.parentsUntil('nav').size() === 5,
    'parentsUntil(selector, filter) keeps the items': (s) => ids(s.parentsUntil('nav', 'li')) === 'herbs,garden',
    'closest starts at the element itself': (s) => s.closest('li').attr('id') === 'thyme',
    'closest(ul) finds the enclosing list': (s) => s.closest('ul').attr('class') === 'tier-3',
    'closest from the parent finds the enclosing item': (s) => s.parent().closest('li').attr('id') === 'herbs',
  });

  const tier2 = sitemap.find('ul.tier-2');
  check(tier2, {
    'children lists the items': (s) => ids(s.children()) === 'roses,herbs,ferns',
    'children(selector) filters them': (s) => ids(s.children('#herbs')) === 'herbs',
    'find searches every depth': (s) => s.find('li').size() === 6,
    'contents includes text nodes': (s) => s.find('#herbs').contents().size() === 3,
    'the first content node is the label text': (s) => s.find('#herbs').contents().first().text().trim() === 'Herbs',
  });

  const home = sitemap.find('#home');
  const contact = sitemap.find('#contact');
  check(null, {
    'next is the following sibling': () => sitemap.find('#roses').next().attr('id') === 'herbs',
    'next of the last item is empty': () => contact.next().size() === 0,
    'nextAll takes every later sibling': () => ids(home.nextAll()) === 'garden,shop,contact',
    'prev is the preceding sibling': () => sitemap.find('#ferns').prev().attr('id') === 'herbs',
    'prevAll goes back to the first sibling, nearest first': () => ids(contact.prevAll()) === 'shop,garden,home',
  });

  const ingredients = recipe.find('#ingredients');
  const serving = recipe.find('#serving');
  check(null, {
    'nextUntil stops before the next heading': () => ingredients.nextUntil('h2').size() === 3,
    'nextUntil(selector, filter) keeps the paragraphs': () =>
      ingredients.nextUntil('#serving', 'p').toArray().map((p) => p.text()).join('|') ===
      '200 g flour|2 eggs|Whisk everything.|Bake for 25 minutes.',
    'prevUntil stops after the previous heading': () => serving.prevUntil('h2').size() === 3,
    'prevUntil(selector, filter) keeps the asides': () => serving.prevUntil('#ingredients', 'aside').size() === 2,
  });
}
