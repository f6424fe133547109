package streams_test

import (
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// TestReadableStream runs scripts in the style of k6's streams documentation through the
// real runner; each logs one line that must equal want.
func TestReadableStream(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"push source with timers", `
let n = 0;
const stream = new ReadableStream({
  start(controller) {
    const fn = () => { if (n < 5) { controller.enqueue(++n); setTimeout(fn, 1); return; } controller.close(); };
    setTimeout(fn, 1);
  },
});
const reader = stream.getReader();
const got = [];
for (;;) { const { done, value } = await reader.read(); if (done) break; got.push(value); }
await reader.closed;
return got.join(',') + ' ' + stream.locked;`, "1,2,3,4,5 true"},
		{"pull source fills to the high water mark", `
const pulls = [];
let i = 0;
const stream = new ReadableStream({
  pull(controller) { pulls.push(controller.desiredSize); controller.enqueue(i++); if (i === 6) controller.close(); },
}, new CountQueuingStrategy({ highWaterMark: 3 }));
await new Promise((r) => setTimeout(r, 5));
const before = pulls.join(',');
const reader = stream.getReader();
const got = [];
for (;;) { const r = await reader.read(); if (r.done) break; got.push(r.value); }
return before + ' | ' + got.join(',') + ' | ' + pulls.length;`, "3,2,1 | 0,1,2,3,4,5 | 6"},
		{"byte length strategy", `
let ctl;
const stream = new ReadableStream({ start(c) { ctl = c; } }, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
ctl.enqueue(new Uint8Array(4));
const a = ctl.desiredSize;
ctl.enqueue(new Uint8Array(8));
const b = ctl.desiredSize;
const s = new ByteLengthQueuingStrategy({ highWaterMark: 10 });
return a + ' ' + b + ' ' + s.highWaterMark + ' ' + s.size(new Uint8Array(3)) + ' ' + new CountQueuingStrategy({ highWaterMark: 2 }).size('x');`, "6 -2 10 3 1"},
		{"cancel", `
let reason;
const stream = new ReadableStream({ start(c) { c.enqueue('a'); }, cancel(r) { reason = r; } });
const reader = stream.getReader();
const pending = reader.read();
await reader.cancel('enough');
const first = await pending;
const after = await reader.read();
return reason + ' ' + first.value + ' ' + after.done;`, "enough a true"},
		{"error", `
let ctl;
const stream = new ReadableStream({ start(c) { ctl = c; } });
const reader = stream.getReader();
const pending = reader.read();
ctl.error(new Error('broken source'));
const out = [];
try { await pending; } catch (e) { out.push(e.message); }
try { await reader.closed; } catch (e) { out.push('closed ' + e.message); }
try { await reader.read(); } catch (e) { out.push('again ' + e.message); }
out.push(String(ctl.desiredSize));
return out.join(' | ');`, "broken source | closed broken source | again broken source | null"},
		{"a failing pull errors the stream", `
const stream = new ReadableStream({ pull() { throw new Error('pull failed'); } });
try { await stream.getReader().read(); return 'read?'; } catch (e) { return e.message; }`, "pull failed"},
		{"start promise delays pulls", `
const log = [];
const stream = new ReadableStream({
  start() { log.push('start'); return new Promise((r) => setTimeout(() => { log.push('started'); r(); }, 5)); },
  pull(c) { log.push('pull'); c.enqueue(1); c.close(); },
});
const { value } = await stream.getReader().read();
return log.join(',') + ' ' + value;`, "start,started,pull 1"},
		{"locking", `
const stream = new ReadableStream();
const out = [];
const reader = stream.getReader();
out.push(stream.locked);
try { stream.getReader(); } catch (e) { out.push(e.name); }
try { await stream.cancel(); } catch (e) { out.push('cancel ' + e.name); }
const pending = reader.read();
reader.releaseLock();
try { await pending; } catch (e) { out.push('pending ' + e.name); }
out.push(stream.locked);
const again = new ReadableStreamDefaultReader(stream);
out.push(stream.locked && again instanceof ReadableStreamDefaultReader);
return out.join(' ');`, "true TypeError cancel TypeError pending TypeError false true"},
		{"close with a queue", `
const stream = new ReadableStream({ start(c) { c.enqueue('x'); c.enqueue('y'); c.close(); try { c.enqueue('z'); } catch (e) { this.late = e.name; } } });
const r = stream.getReader();
const a = await r.read(), b = await r.read(), c = await r.read();
return [a.value, b.value, c.done, c.value].join(',');`, "x,y,true,"},
		{"what k6 lacks is refused", `
const out = [];
try { new ReadableStream({ type: 'bytes' }); } catch (e) { out.push(e.name); }
try { new ReadableStream().getReader({ mode: 'byob' }); } catch (e) { out.push(e.name); }
try { new ReadableStreamDefaultController(); } catch (e) { out.push(e.name); }
try { new ReadableStream({}, { highWaterMark: -1 }); } catch (e) { out.push(e.name); }
try { new CountQueuingStrategy({}); } catch (e) { out.push(e.name); }
return out.join(' ');`, "TypeError TypeError TypeError RangeError TypeError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := `import { ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController, CountQueuingStrategy, ByteLengthQueuingStrategy } from 'k6/experimental/streams';
import { setTimeout } from 'k6/timers';
export default async function () {
  const result = await (async () => {` + c.body + `
  })();
  console.log(String(result));
}`
			h := jstest.MustLoad(t, src, nil)
			if err := h.Run(t); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(h.Logs.String(), "info: "); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
