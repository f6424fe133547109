// k6/experimental/streams over k6/experimental/fs: a ReadableStream whose pull() reads the
// file in small chunks and enqueues one parsed CSV line at a time; a reader consumes it.
import { check } from 'k6';
import { open, SeekMode } from 'k6/experimental/fs';
import { ReadableStream, CountQueuingStrategy } from 'k6/experimental/streams';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

const file = await open('users.csv');

// lineStream emits the lines of the file after the header, each split at its commas (a
// naive split: csv.Parser is the module that knows quoting).
function lineStream() {
  const chunk = new Uint8Array(16);
  let pending = '';
  let eof = false;
  let header = true;
  return new ReadableStream(
    {
      async start() {
        await file.seek(0, SeekMode.Start);
      },
      async pull(controller) {
        for (;;) {
          const nl = pending.indexOf('\n');
          if (nl >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (header) {
              header = false;
              continue;
            }
            controller.enqueue(line.split(','));
            return;
          }
          if (eof) {
            if (pending !== '') controller.enqueue(pending.split(','));
            controller.close();
            return;
          }
          const n = await file.read(chunk);
          if (n === null) eof = true;
          else pending += String.fromCharCode.apply(null, chunk.subarray(0, n));
        }
      },
    },
    new CountQueuingStrategy({ highWaterMark: 1 }),
  );
}

export default async function () {
  const stream = lineStream();
  const reader = stream.getReader();
  const users = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    users.push(value[0]);
  }
  check(users, {
    'one chunk per line after the header': (u) => u.length === 3,
    'chunks in file order': (u) => u[0] === 'ada' && u[1] === 'grace',
  });
  check(stream, { 'the stream stays locked to its reader': (s) => s.locked });
  reader.releaseLock();
  check(stream, { 'releaseLock unlocks it': (s) => !s.locked });
  console.log('streams-lines: all steps ran');
}
