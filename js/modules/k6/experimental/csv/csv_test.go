package csv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/jstest"
)

const data = "firstname,lastname,age\nJohn,Doe,30\nJane,Roe,25\n\"Ann, Jr\",\"Smith \"\"A\"\"\",40\nBob,Lee,51\n"

// TestCSV runs scripts in the style of k6's csv documentation through the real runner.
func TestCSV(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "semi.csv"), []byte("a;b\n1;2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, body string
		want       string
	}{
		{"parse arrays, skipFirstLine", `const f = await open(DIR + '/data.csv');
const rows = await csv.parse(f, { skipFirstLine: true });
return rows.length + ' ' + JSON.stringify(rows[2]) + ' frozen=' + Object.isFrozen(rows) + Object.isFrozen(rows[0]);`,
			`4 ["Ann, Jr","Smith \"A\"","40"] frozen=truetrue`},
		{"parse asObjects", `const f = await open(DIR + '/data.csv');
const rows = await csv.parse(f, { asObjects: true });
return JSON.stringify(rows[1]) + ' ' + rows.length;`, `{"firstname":"Jane","lastname":"Roe","age":"25"} 4`},
		{"fromLine toLine", `const f = await open(DIR + '/data.csv');
const rows = await csv.parse(f, { fromLine: 2, toLine: 3 });
return JSON.stringify(rows);`, `[["Jane","Roe","25"],["Ann, Jr","Smith \"A\"","40"]]`},
		{"delimiter", `const f = await open(DIR + '/semi.csv');
return JSON.stringify(await csv.parse(f, { delimiter: ';' }));`, `[["a","b"],["1","2"]]`},
		{"parser next", `const f = await open(DIR + '/data.csv');
const parser = new csv.Parser(f, { skipFirstLine: true, toLine: 2 });
const out = [];
for (;;) { const { done, value } = await parser.next(); if (done) { out.push('done ' + JSON.stringify(value)); break; } out.push(value[0]); }
return out.join(',');`, `John,Jane,done []`},
		{"parser asObjects", `const f = await open(DIR + '/data.csv');
const parser = new csv.Parser(f, { asObjects: true });
const r = await parser.next();
return r.value.lastname + ' ' + r.done;`, `Doe false`},
		{"option errors", `const f = await open(DIR + '/data.csv');
const out = [];
for (const o of [{ asObjects: true, skipFirstLine: true }, { fromLine: 3, toLine: 1 }, { delimiter: ';;' }, { fromLine: -1 }]) {
  try { await csv.parse(f, o); out.push('ok?'); } catch (e) { out.push(e.message); }
}
try { await csv.parse('nope'); } catch (e) { out.push(e.message); }
return out.join('|');`, `failed to interpret the provided Parser options; reason: the 'header' option cannot be enabled when 'skipFirstLine' is true|` +
			`failed to interpret the provided Parser options; reason: the 'fromLine' option must be less than the 'toLine' option; got 'fromLine': 3, 'toLine': 1|` +
			`failed to interpret the provided Parser options; reason: delimiter must be a single character|` +
			`failed to interpret the provided Parser options; reason: the 'fromLine' option must be greater than or equal to 0; got -1|` +
			`first argument expected to be a fs.File instance`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := `import { open } from 'k6/experimental/fs';
import csv from 'k6/experimental/csv';
const DIR = __ENV.DIR;
let result;
(async function () { result = await (async function () {` + c.body + `})(); })().catch((e) => { result = 'init error: ' + e; });
export default function () { console.log(result); }`
			h := jstest.MustLoad(t, src, map[string]string{"DIR": dir})
			if err := h.Run(t); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(h.Logs.String(), "info: "); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestParserOnlyInInit: a Parser made in an iteration throws, as in k6.
func TestParserOnlyInInit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	h := jstest.MustLoad(t, `import { open } from 'k6/experimental/fs';
import csv from 'k6/experimental/csv';
let f;
(async function () { f = await open(__ENV.DIR + '/data.csv'); })();
export default function () { new csv.Parser(f); }`, map[string]string{"DIR": dir})
	if err := h.Run(t); err == nil || !strings.Contains(err.Error(), "csv Parser constructor must be called in the init context") {
		t.Fatalf("err = %v", err)
	}
}
