package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js"
	"github.com/pixelk6/pixelk6/js/jstest"
	"github.com/pixelk6/pixelk6/js/modules/k6/secrets"
)

func readFiles(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, os.ErrNotExist
	}
}

// TestParseSources: k6's --secret-source syntax: TYPE=CONFIG with name= and default, a single
// source being the default, and k6's errors.
func TestParseSources(t *testing.T) {
	files := readFiles(map[string]string{
		"s.env":   "cool=some\nelse=source\nwith=equals=inside\n",
		"bad.env": "cool=some\nnoequals\n",
	})
	type get struct{ source, key, want, err string }
	cases := []struct {
		name   string
		values []string
		err    string
		gets   []get
	}{
		{"file alone is the default", []string{"file=s.env"}, "", []get{
			{"default", "cool", "some", ""}, {"default", "with", "equals=inside", ""}, {"default", "nope", "", "no value"},
			{"other", "cool", "", `no secret source with name "other" is configured`},
		}},
		{"file with filename=", []string{"file=filename=s.env"}, "", []get{{"default", "else", "source", ""}}},
		{"mock", []string{"mock=a=1,b=2"}, "", []get{{"default", "b", "2", ""}}},
		{"named and default", []string{"mock=default,cool=cool secret", "mock=name=another,cool=not cool secret"}, "", []get{
			{"default", "cool", "cool secret", ""}, {"another", "cool", "not cool secret", ""},
		}},
		{"two sources, no default", []string{"mock=name=a,k=1", "file=name=b,s.env"}, "", []get{
			{"a", "k", "1", ""}, {"b", "cool", "some", ""}, {"default", "k", "", `no secret source with name "default" is configured`},
		}},
		{"two defaults", []string{"mock=default,name=a,k=1", "mock=default,name=b,k=2"}, "can't have two secret sources that are default ones", nil},
		{"same name", []string{"mock=name=a,k=1", "mock=name=a,k=2"}, `secret source for name "a" already registered`, nil},
		{"no =", []string{"file"}, `couldn't parse secret source configuration "file"`, nil},
		{"unknown type", []string{"vault=x"}, `no secret source for type "vault"`, nil},
		{"missing file", []string{"file=nope.env"}, "file secret source", nil},
		{"bad line", []string{"file=bad.env"}, `parsing "noequals", needs =`, nil},
		{"mock without =", []string{"mock=a"}, `parsing "a", needs =`, nil},
		{"file unknown key", []string{"file=path=s.env"}, `unknown configuration key for file secret source "path"`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := secrets.ParseSources(c.values, nil, files)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range c.gets {
				v, err := m.Get(g.source, g.key)
				if g.err != "" {
					if err == nil || err.Error() != g.err {
						t.Errorf("Get(%q, %q) err = %v, want %q", g.source, g.key, err, g.err)
					}
					continue
				}
				if err != nil || v != g.want {
					t.Errorf("Get(%q, %q) = %q, %v; want %q", g.source, g.key, v, err, g.want)
				}
			}
		})
	}
	if m, err := secrets.ParseSources(nil, nil, files); m != nil || err != nil {
		t.Errorf("no values: %v, %v", m, err)
	}
}

// TestRedact: only secrets handed out are redacted, a longer secret wins over one inside it.
func TestRedact(t *testing.T) {
	m, err := secrets.ParseSources([]string{"mock=short=abc,long=abcdef,unused=zzz"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := "abcdef then abc and zzz"
	if got := m.Redact(line); got != line {
		t.Errorf("before any get: %q", got)
	}
	for _, k := range []string{"short", "long"} {
		if _, err := m.Get("default", k); err != nil {
			t.Fatal(err)
		}
	}
	want := "***SECRET_REDACTED*** then ***SECRET_REDACTED*** and zzz"
	if got := m.Redact(line); got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

// TestSecretsModule: secrets.get and secrets.source(name).get return Promises, resolved with
// the secret or rejected with k6's errors, in the init context and in iterations.
func TestSecretsModule(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secrets.env")
	if err := os.WriteFile(p, []byte("cool=some\nelse=source\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := secrets.ParseSources([]string{"file=default," + p, "mock=name=another,cool=not cool secret"}, nil, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	src := `import secrets from 'k6/secrets';
const early = secrets.get('cool');
export default async function () {
  if (!(early instanceof Promise)) throw new Error('get does not return a Promise');
  const a = await early;
  const b = await secrets.source('another').get('cool');
  let missing = '';
  try { await secrets.get('absent'); } catch (e) { missing = e.message; }
  let unknown = '';
  try { await secrets.source('nope').get('cool'); } catch (e) { unknown = e.message; }
  console.log([a, b, missing, unknown].join('|'));
}`
	h, err := jstest.LoadWith(t, src, js.LoadOptions{Secrets: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Run(t); err != nil {
		t.Fatal(err)
	}
	want := `info: some|not cool secret|no value|no secret source with name "nope" is configured`
	if !strings.Contains(h.Logs.String(), want) {
		t.Errorf("logs:\n%s\nwant %s", h.Logs.String(), want)
	}
}

// TestSecretsModuleNoSource: without --secret-source, get rejects with k6's error.
func TestSecretsModuleNoSource(t *testing.T) {
	h := jstest.MustLoad(t, `import secrets from 'k6/secrets';
export default async function () { await secrets.get('x'); }`, nil)
	err := h.Run(t)
	var ex *js.ScriptException
	if !errors.As(err, &ex) || !strings.Contains(ex.Message, "no secret sources are configured") {
		t.Fatalf("err = %v", err)
	}
}
