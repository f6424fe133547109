package data_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

func TestSharedArray(t *testing.T) {
	h := jstest.MustLoad(t, `
import { SharedArray } from 'k6/data';
import { Counter } from 'k6/metrics';
const calls = new Counter('calls');
let built = 0;
const users = new SharedArray('users-test', function () { built++; return [{ name: 'a' }, { name: 'b' }]; });
export const options = { built: built };
export default function () {
  if (users.length !== 2 || users[1].name !== 'b') throw new Error('content ' + JSON.stringify(users));
  users.push({ name: 'c' });
}
`, nil)
	// The probe VU built it; later VUs reuse it.
	if got := string(h.Bundle.Options()); got != `{"built":1}` {
		t.Errorf("probe options %s", got)
	}
	v := h.VU(t, 2)
	err := v.RunIteration(context.Background(), "default", nil)
	if err == nil || !strings.Contains(err.Error(), "not extensible") {
		t.Errorf("push on a shared array: err = %v, want a frozen-object error", err)
	}
}

func TestSharedArrayErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"not an array", "import { SharedArray } from 'k6/data';\nnew SharedArray('obj-test', () => ({}));\nexport default function () {}\n", "must return an array"},
		{"outside init", "import { SharedArray } from 'k6/data';\nexport default function () { new SharedArray('late-test', () => []); }\n", "init context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := jstest.Load(t, tc.src, nil)
			if err == nil {
				err = h.Run(t)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSharedArrayReadOnlyElements: the elements are frozen too, nested objects and arrays
// included; what a script writes to them does not stick (an ES module is strict mode code,
// so each write throws a TypeError, as in k6).
func TestSharedArrayReadOnlyElements(t *testing.T) {
	h := jstest.MustLoad(t, `
import { SharedArray } from 'k6/data';
const rows = new SharedArray('rows-readonly', () => [{ id: 1, tags: ['a'], nested: { deep: 'x' } }]);
export default function () {
  const r = rows[0];
  const thrown = [];
  for (const write of [() => { r.id = 99; }, () => { r.extra = true; }, () => { r.nested.deep = 'y'; }, () => r.tags.push('b')]) {
    try { write(); } catch (e) { thrown.push(e instanceof TypeError); }
  }
  const frozen = [Object.isFrozen(r), Object.isFrozen(r.tags), Object.isFrozen(r.nested)].join(',');
  console.log(frozen + ' ' + JSON.stringify(rows[0]) + ' thrown ' + thrown.join(','));
}
`, nil)
	if err := h.VU(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	want := `true,true,true {"id":1,"tags":["a"],"nested":{"deep":"x"}}`
	if got := h.Logs.String(); !strings.Contains(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
	want = "thrown true,true,true,true"
	if got := h.Logs.String(); !strings.Contains(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}
