package fs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

// TestFS runs a script in the style of k6's documentation through the real runner: open in
// the init context, stat, read into a Uint8Array until null, seek in every mode, and k6's
// errors.
func TestFS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bonjour.txt"), []byte("Bonjour, tout le monde!"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := `import { open, SeekMode } from 'k6/experimental/fs';
const base = __ENV.DIR;
let file, missing, isDir;
(async function () {
  file = await open(base + '/bonjour.txt');
  try { await open(base + '/nope.txt'); } catch (e) { missing = e.name + ': ' + e.message; }
  try { await open(base + '/sub'); } catch (e) { isDir = e.name; }
})();

export default async function () {
  const out = [];
  await file.seek(0, SeekMode.Start);
  const info = await file.stat();
  out.push(info.name + ' ' + info.size + ' ' + (file.path === base + '/bonjour.txt'));
  const buffer = new Uint8Array(4);
  let text = '';
  let reads = 0;
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    reads++;
    text += String.fromCharCode.apply(null, buffer.subarray(0, n));
  }
  out.push(reads + ' reads: ' + text);
  out.push('seek ' + await file.seek(6, SeekMode.Start) + ' ' + await file.seek(2, SeekMode.Current) + ' ' + await file.seek(-2, SeekMode.End));
  const view = new Uint8Array(new ArrayBuffer(8), 2, 3);
  await file.seek(0, SeekMode.Start);
  out.push('view ' + await file.read(view) + ' ' + String.fromCharCode.apply(null, view));
  for (const [what, f] of [['neg', () => file.seek(-1, SeekMode.Start)], ['pos end', () => file.seek(1, SeekMode.End)],
      ['beyond', () => file.seek(100, SeekMode.Start)], ['mode', () => file.seek(0, 7)], ['str', () => file.seek('1', SeekMode.Start)],
      ['not u8', () => file.read([1, 2])], ['open late', () => open(base + '/bonjour.txt')]]) {
    try { await f(); out.push(what + ' ok?'); } catch (e) { out.push(what + ' ' + e.name + ': ' + e.message); }
  }
  out.push(missing);
  out.push(isDir);
  console.log(out.join('\n'));
}`
	h := jstest.MustLoad(t, src, map[string]string{"DIR": dir})
	for id := uint64(1); id <= 2; id++ {
		if err := h.VU(t, id).RunIteration(t.Context(), "default", nil); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"bonjour.txt 23 true",
		"6 reads: Bonjour, tout le monde!",
		"seek 6 8 20",
		"view 3 Bon",
		"neg TypeError: offset cannot be negative when using SeekModeStart",
		"pos end TypeError: offset cannot be positive when using SeekModeEnd",
		"beyond TypeError: seeking beyond end of file",
		"mode TypeError: seek() failed; reason: the whence argument must be a SeekMode",
		"str TypeError: seek() failed; reason: the offset argument must be a number",
		"not u8 TypeError: read() failed; reason: into argument must be a Uint8Array",
		"open late ForbiddenError: open() failed; reason: opening a file is allowed only in the Init context",
		`NotFoundError: no such file or directory "` + filepath.Join(dir, "nope.txt") + `"`,
		"InvalidResourceError",
	}
	logs := h.Logs.String()
	if n := strings.Count(logs, strings.Join(want, "\n")); n != 2 {
		t.Errorf("logs:\n%s\nwant twice:\n%s", logs, strings.Join(want, "\n"))
	}
}
