package html_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// logsOf runs body in an iteration (with parseHTML imported) and returns its console lines.
func logsOf(t *testing.T, body string) []string {
	t.Helper()
	h := jstest.MustLoad(t, "import { parseHTML } from 'k6/html';\nexport default function () {\n"+body+"\n}\n", nil)
	if err := h.Run(t); err != nil {
		t.Fatalf("iteration: %v\nlogs:\n%s", err, h.Logs)
	}
	var out []string
	for _, l := range h.Logs.Lines {
		out = append(out, strings.TrimPrefix(l, "info: "))
	}
	return out
}

const dl = "`<dl>\n" +
	"  <dt id=\"term-1\">term 1</dt>\n  <dd>definition 1-a</dd>\n  <dd>definition 1-b</dd>\n  <dd>definition 1-c</dd>\n  <dd>definition 1-d</dd>\n\n" +
	"  <dt id=\"term-2\">term 2</dt>\n  <dd>definition 2-a</dd>\n  <dd>definition 2-b</dd>\n  <dd>definition 2-c</dd>\n\n" +
	"  <dt id=\"term-3\">term 3</dt>\n  <dd>definition 3-a</dd>\n  <dd>definition 3-b</dd>\n</dl>`"

func TestSelection(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"find text attr", `const d = parseHTML('<html lang="en"><head><title>T i</title></head><body><p class="a">x</p></body></html>');
			console.log(d.find('head title').text()); console.log(d.find('html').attr('lang'));
			console.log(String(d.find('p').attr('nope'))); console.log(d.find('p').attr('nope', 'def'));`,
			[]string{"T i", "en", "undefined", "def"}},
		{"children size", `const s = parseHTML(` + dl + `).find('dl'); console.log(s.children().size()); console.log(s.children('dt').size());`,
			[]string{"12", "3"}},
		{"eq first last get", `const s = parseHTML(` + dl + `).find('dt');
			console.log(s.eq(1).html()); console.log(s.eq(-1).html()); console.log(s.first().html()); console.log(s.last().html());
			console.log(s.get(0).innerHTML()); console.log(String(s.get(9))); console.log(String(s.eq(9).html()));
			console.log(s.get(-1).innerHTML()); console.log(s.get().map(function (e) { return e.id(); }).join(','));`,
			[]string{"term 2", "term 3", "term 1", "term 3", "term 1", "undefined", "undefined", "term 3", "term-1,term-2,term-3"}},
		{"each stops on false", `const n = []; parseHTML(` + dl + `).find('dt').each(function (i, el) { n.push(i); if (i === 1) return false; });
			console.log(n.join(','));`, []string{"0,1"}},
		{"filter", `const doc = parseHTML(` + dl + `); const els = doc.find('dl').children();
			console.log(els.filter('#term-2').text());
			console.log(els.filter(function (i, el) { return el.text() === 'definition 3-a'; }).text());
			console.log(els.filter(doc.find('dl dt#term-1')).text());`,
			[]string{"term 2", "definition 3-a", "term 1"}},
		{"is not has", `const doc = parseHTML(` + dl + `); const els = doc.find('dl').children();
			console.log(els.is('dd')); console.log(els.is(function (i, el) { return el.text() === 'hola'; })); console.log(els.is(els.first()));
			console.log(els.not('dt').size()); console.log(els.not(function (i, el) { return el.text().startsWith('definition'); }).size());
			console.log(parseHTML('<ul><li>1</li><li>2<ul><li>2a</li></ul></li></ul>').find('li').has('ul').size());`,
			[]string{"true", "false", "true", "9", "3", "1"}},
		{"map each toArray", `const els = parseHTML(` + dl + `).find('dt');
			console.log(JSON.stringify(els.map(function (i, el) { return i + ':' + el.text(); })));
			const ids = []; els.each(function (i, el) { ids.push(el.id() + '/' + el.nodeName()); }); console.log(ids.join(','));
			console.log(els.toArray().map(function (s) { return s.text(); }).join('|'));`,
			[]string{`["0:term 1","1:term 2","2:term 3"]`, "term-1/dt,term-2/dt,term-3/dt", "term 1|term 2|term 3"}},
		{"siblings traversal", `const d = parseHTML('<ul><li>1</li><li>2</li><li class="third-item">3</li><li>4</li><li>5</li></ul>');
			const s = d.find('li.third-item');
			console.log(s.next().html()); console.log(s.nextAll().size()); console.log(s.prev().html()); console.log(s.prevAll().size());
			console.log(s.parent().children().size()); console.log(s.parents().size()); console.log(s.siblings().size()); console.log(s.index());`,
			[]string{"4", "2", "2", "2", "5", "3", "4", "2"}},
		{"until", `const doc = parseHTML(` + dl + `);
			console.log(doc.find('#term-2').nextUntil('dt').size()); console.log(doc.find('#term-1').nextUntil('#term-3', 'dd').size());
			console.log(doc.find('#term-2').prevUntil('dt').size()); console.log(doc.find('#term-3').prevUntil('#term-1', 'dd').size());
			console.log(doc.find('#term-2').parentsUntil('body').size()); console.log(doc.find('#term-2').nextUntil(doc.find('#term-3')).size());`,
			[]string{"3", "7", "4", "7", "1", "3"}},
		{"closest slice contents", `const d = parseHTML('<ul class="l1"><li>I<ul class="l2"><li class="a">A</li></ul></li></ul>');
			console.log(d.find('li.a').closest('ul').attr('class'));
			const els = parseHTML(` + dl + `).find('dl').children();
			console.log(els.slice(10).text()); console.log(els.slice(2, 4).text()); console.log(els.slice(-1).text());
			console.log(parseHTML('<p>a<!--c--><b>b</b></p>').find('p').contents().size());`,
			[]string{"l2", "definition 3-adefinition 3-b", "definition 1-bdefinition 1-c", "definition 3-b", "3"}},
		{"add end single", `const d = parseHTML('<p>1</p><p>2</p><span>s</span>');
			console.log(d.find('span').add('p').size()); console.log(d.find('p').first().end().size()); console.log(d.single('p').text());`,
			[]string{"3", "2", "1"}},
		{"data", `const s = parseHTML('<h1 data-test-id="data-value" data-n="42" data-ok="true" data-obj=\'{"a":1}\'>Hola</h1>').find('h1');
			console.log(s.data('test-id')); console.log(s.data('testId')); console.log(s.data().testId);
			console.log(s.data('n') + 1); console.log(s.data('ok') === true); console.log(s.data('obj').a);`,
			[]string{"data-value", "data-value", "data-value", "43", "true", "1"}},
		{"val", "const d = parseHTML(`<input id=\"t\" type=\"text\" value=\"v\"/><input id=\"c\" type=\"checkbox\">" +
			"<select id=\"one\"><option value=\"no\">no</option><option value=\"yes\" selected>yes</option></select>" +
			"<select id=\"txt\"><option>no text</option><option selected>yes text</option></select>" +
			"<select id=\"none\"><option>first</option><option>second</option></select>" +
			"<select id=\"multi\" multiple><option>o1</option><option selected>o2</option><option selected>o3</option></select>" +
			"<textarea id=\"ta\">Lorem ipsum</textarea>`);\n" +
			`for (const id of ['t', 'c', 'one', 'txt', 'none', 'ta']) console.log(d.find('#' + id).val());
			console.log(JSON.stringify(d.find('#multi').val())); console.log(d.find('#one option[selected]').val());`,
			[]string{"v", "on", "yes", "yes text", "first", "Lorem ipsum", `["o2","o3"]`, "yes"}},
		{"serialize", "const f = parseHTML(`<form><input name=\"user\" value=\"a b\"><input type=\"hidden\" name=\"tok\" value=\"x&y\">" +
			"<input type=\"checkbox\" name=\"c1\" value=\"1\" checked><input type=\"checkbox\" name=\"c2\" value=\"2\">" +
			"<input type=\"radio\" name=\"r\" value=\"r1\"><input type=\"radio\" name=\"r\" value=\"r2\" checked>" +
			"<select name=\"s\" multiple><option selected>m1</option><option selected>m2</option></select>" +
			"<textarea name=\"t\">line</textarea><input name=\"dis\" disabled value=\"z\"><input type=\"submit\" name=\"go\" value=\"Go\"><input value=\"noname\"></form>`).find('form');\n" +
			`console.log(f.serialize()); console.log(JSON.stringify(f.serializeArray()[0])); console.log(JSON.stringify(f.serializeObject()));
			console.log(parseHTML('<form><input name="username"></form>').find('form').serialize());`,
			[]string{"user=a+b&tok=x%26y&c1=1&r=r2&s=m1&s=m2&t=line", `{"name":"user","value":"a b"}`,
				`{"user":"a b","tok":"x&y","c1":"1","r":"r2","s":["m1","m2"],"t":"line"}`, "username="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := logsOf(t, tc.body)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestElement(t *testing.T) {
	got := logsOf(t, `const d = parseHTML('<html lang="fr"><body><div id="x" class="a b" title="t">one<!--c--><span>s1</span><span>s2</span> two</div>'+
		'<a href="http://user:pw@example.com:8080/p/q?x=1#frag" rel="prev next">link</a>'+
		'<form id="f" method="POST" action="/submit"><input name="i" value="v"><select name="s"><option value="1">A</option><option value="2" selected>B</option></select><button name="b" value="bv">Go</button></form>'+
		'<table><tr><td>1</td><td colspan="2">2</td></tr></table></body></html>');
	const el = d.find('div').get(0);
	console.log([el.nodeName(), el.nodeType(), el.id(), el.className(), JSON.stringify(el.classList()), el.lang()].join('|'));
	console.log(el.textContent()); console.log(el.innerHTML());
	console.log(JSON.stringify(Object.keys(el.attributes())), el.attributes().title.value, el.attributes().id.ownerElement.isSameNode(el));
	console.log([el.childElementCount(), el.childNodes().length, el.children().length, el.firstChild().nodeValue(), el.firstChild().nodeName(), el.lastChild().nodeValue()].join('|'));
	console.log([el.firstElementChild().textContent(), el.lastElementChild().textContent(), el.firstElementChild().nextElementSibling().textContent(), el.lastElementChild().previousElementSibling().textContent()].join('|'));
	console.log([el.parentElement().nodeName(), el.parentNode().nodeName(), el.ownerDocument().nodeName(), el.ownerDocument().nodeType()].join('|'));
	console.log([el.hasAttribute('title'), el.hasAttribute('nope'), el.getAttribute('title'), String(el.getAttribute('nope')), el.getAttributeNode('id').value, el.hasAttributes(), el.hasChildNodes()].join('|'));
	console.log([el.isSameNode(d.find('#x').get(0)), el.isSameNode(el.firstElementChild()), el.isEqualNode(d.find('div').get(0)), el.contains(el.firstElementChild()), el.firstElementChild().contains(el)].join('|'));
	console.log([el.getElementsByTagName('span').length, el.getElementsByClassName('a').length, el.querySelector('span').textContent(), el.querySelectorAll('span').length, String(el.querySelector('p')), el.matches('div.a'), el.matches('p')].join('|'));
	console.log([el.namespaceURI(), el.isDefaultNamespace('http://www.w3.org/1999/xhtml'), el.selection().attr('title'), el.toString()].join('|'));
	const a = d.find('a').get(0);
	console.log([a.host(), a.hostname(), a.port(), a.protocol(), a.pathname(), a.search(), a.hash(), a.username(), a.password(), a.origin(), a.text(), JSON.stringify(a.relList())].join('|'));
	const f = d.find('form').get(0);
	console.log([f.method(), f.length(), f.elements().length, f.action()].join('|'));
	const sel = d.find('select').get(0);
	console.log([sel.length(), sel.selectedIndex(), sel.value(), sel.options()[1].text(), sel.options()[1].index(), sel.selectedOptions().length, sel.form().id()].join('|'));
	const b = d.find('button').get(0);
	console.log([b.name(), b.value(), b.type(), b.form().id()].join('|'));
	const tr = d.find('tr').get(0);
	console.log([tr.cells().length, tr.colSpan(), tr.rowIndex(), d.find('td').get(1).cellIndex(), d.find('td').get(1).colSpan(), d.find('table').get(0).rows().length].join('|'));`)
	want := []string{
		"div|1|x|a b|[\"a\",\"b\"]|fr",
		"ones1s2 two", "one<!--c--><span>s1</span><span>s2</span> two",
		`["id","class","title"] t true`,
		"2|5|2|one|#text| two",
		"s1|s2|s2|s1",
		"body|body|#document|9",
		"true|false|t|undefined|x|true|true",
		"true|false|true|true|false",
		"2|0|s1|2|undefined|true|false",
		"http://www.w3.org/1999/xhtml|true|t|[object html.Node]",
		"example.com:8080|example.com|8080|http:|/p/q|?x=1|#frag|user|pw|http://example.com:8080|link|[\"prev\",\"next\"]",
		"post|3|3|/submit",
		"2|1|2|B|1|1|f",
		"b|bv|submit|f",
		"2|3|0|1|2|1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An invalid selector matches nothing (goquery's behaviour, and so k6's), it does not throw.
func TestInvalidSelectorMatchesNothing(t *testing.T) {
	got := logsOf(t, "console.log(parseHTML('<p>x</p>').find('p[').size());")
	if strings.Join(got, ",") != "0" {
		t.Errorf("got %v, want [0]", got)
	}
}

// An Element passes where a Selection is taken (filter, is, not, has, find), keeps what the
// script sets on it, and reads the same member twice as the same function.
func TestElementAsArgumentAndProperties(t *testing.T) {
	got := logsOf(t, `const d = parseHTML('<ul><li id="a">A</li><li id="b">B<i>x</i></li></ul>');
	const lis = d.find('li'); const b = lis.get(1);
	console.log(lis.filter(b).text(), lis.is(b), lis.not(b).text(), d.find('ul').find(b).size());
	b.mark = 42; console.log(b.mark, b.nodeName === b.nodeName, typeof b.nope, Object.keys(b).length);`)
	want := []string{"Bx true A 1", "42 true undefined 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
