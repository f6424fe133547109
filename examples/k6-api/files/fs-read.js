// k6/experimental/fs: a file opened once in the init context (with top-level await), read
// in chunks, sought from the start, the current position and the end.
import { check } from 'k6';
import { open, SeekMode } from 'k6/experimental/fs';

export const options = { iterations: 2, thresholds: { checks: ['rate==1'] } };

const greetings = await open('greetings.txt');

function text(bytes) {
  return String.fromCharCode.apply(null, bytes);
}

export default async function () {
  await greetings.seek(0, SeekMode.Start);
  const info = await greetings.stat();
  check(info, {
    'stat names the file': (i) => i.name === 'greetings.txt',
    'stat has the size in bytes': (i) => i.size === 36,
    'path is absolute': () => greetings.path.startsWith('/') && greetings.path.endsWith('/greetings.txt'),
  });

  // read the whole file in 8-byte chunks, until read() resolves to null
  const chunk = new Uint8Array(8);
  let content = '';
  let reads = 0;
  for (;;) {
    const n = await greetings.read(chunk);
    if (n === null) break;
    reads++;
    content += text(chunk.subarray(0, n));
  }
  check(content, {
    'the chunks make the file': (c) => c === 'Bonjour, tout le monde!\nHallo Welt!\n',
    'five reads of up to 8 bytes': () => reads === 5,
  });

  // seek: 9 bytes in, 5 more, then back from the end
  const word = new Uint8Array(4);
  check(await greetings.seek(9, SeekMode.Start), { 'seek from the start': (p) => p === 9 });
  await greetings.read(word);
  check(text(word), { 'read after seeking': (w) => w === 'tout' });
  check(await greetings.seek(5, SeekMode.Current), { 'seek from the current position': (p) => p === 18 });
  check(await greetings.seek(-6, SeekMode.End), { 'seek from the end (k6 counts from the last byte)': (p) => p === 29 });

  let error = null;
  try {
    await greetings.seek(-1, SeekMode.Start);
  } catch (e) {
    error = e;
  }
  check(error, { 'a negative offset from the start is a TypeError': (e) => e !== null && e.name === 'TypeError' });
  console.log('fs-read: all steps ran');
}
