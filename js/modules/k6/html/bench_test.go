package html_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// BenchmarkEachElement walks 1000 list items with each() and reads one member of each
// Element: the cost of building Elements.
func BenchmarkEachElement(b *testing.B) {
	h := jstest.MustLoad(b, `import { parseHTML } from 'k6/html';
const doc = parseHTML('<ul>' + '<li class="x">item</li>'.repeat(1000) + '</ul>');
export default function () {
	let n = 0;
	doc.find('li').each(function (i, el) { n += el.nodeName().length; });
	if (n !== 2000) throw new Error('n ' + n);
}`, nil)
	vu := h.VU(b, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vu.RunIteration(context.Background(), "default", nil); err != nil {
			b.Fatal(strings.TrimSpace(err.Error()))
		}
	}
}
