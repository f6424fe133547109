package timers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// TestTimersModule: the imported functions are the globals and run on the VU's event loop:
// a timeout fires, a cleared one does not, an interval repeats until cleared, and the
// iteration waits for them.
func TestTimersModule(t *testing.T) {
	h := jstest.MustLoad(t, `
import { setTimeout, clearTimeout, setInterval, clearInterval } from 'k6/timers';
import timers from 'k6/timers';
export default function () {
  if (setTimeout !== globalThis.setTimeout || timers.clearInterval !== globalThis.clearInterval) throw new Error('not the globals');
  const out = [];
  setTimeout(() => out.push('timeout'), 5);
  const never = setTimeout(() => out.push('cleared'), 1);
  clearTimeout(never);
  let n = 0;
  const id = setInterval(() => { n++; if (n === 3) { clearInterval(id); out.push('interval x' + n); console.log(out.sort().join(' ')); } }, 2);
}
`, nil)
	if err := h.VU(t, 1).RunIteration(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Logs.String(), "info: interval x3 timeout"; !strings.Contains(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}
