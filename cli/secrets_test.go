package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretSource: --secret-source feeds k6/secrets (file and mock sources, named and
// default), and every secret the script got is redacted from the log, the console output
// file and the JSON log format, as k6 does; a bad source fails the run before it starts.
func TestSecretSource(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "secrets.js")
	src := `import secrets from 'k6/secrets';
export const options = { iterations: 1 };
export default async function () {
  const token = await secrets.get('token');
  const other = await secrets.source('vault').get('token');
  console.log('token ' + token + ' other ' + other + ' plain public-value');
  console.warn('again: ' + token.toUpperCase());
}
`
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	secretsFile := filepath.Join(dir, "secrets.env")
	if err := os.WriteFile(secretsFile, []byte("token=s3cr3t-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		want   []string
		absent []string
	}{
		{"file and mock", []string{"--secret-source=file=default," + secretsFile, "--secret-source=mock=name=vault,token=m0ck-token"}, 0,
			[]string{`msg="token ***SECRET_REDACTED*** other ***SECRET_REDACTED*** plain public-value" source=console`, "again: S3CR3T-FILE"},
			[]string{"s3cr3t-file", "m0ck-token"}},
		{"json log format", []string{"--log-format", "json", "--secret-source", "file=default," + secretsFile, "--secret-source", "mock=name=vault,token=m0ck-token"}, 0,
			[]string{`"msg":"token ***SECRET_REDACTED*** other ***SECRET_REDACTED***`}, []string{"s3cr3t-file", "m0ck-token"}},
		{"unknown source", []string{"--secret-source=vault=x"}, 255, []string{`no secret source for type \"vault\"`}, nil},
		{"missing file", []string{"--secret-source=file=" + filepath.Join(dir, "nope")}, 255, []string{"file secret source"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := defaultDeps()
			d.environ = func() []string { return nil }
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"run", "-q", "--no-summary"}, c.args...), script)
			if code := run(context.Background(), args, &stdout, &stderr, d); code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, stderr.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			for _, a := range c.absent {
				if strings.Contains(stderr.String(), a) {
					t.Errorf("stderr shows the secret %q:\n%s", a, stderr.String())
				}
			}
		})
	}

	t.Run("console output file", func(t *testing.T) {
		d := defaultDeps()
		d.environ = func() []string { return nil }
		out := filepath.Join(dir, "console.log")
		var stdout, stderr bytes.Buffer
		args := []string{"run", "-q", "--no-summary", "--console-output", out, "--secret-source=mock=default,token=m0ck-token", "--secret-source=mock=name=vault,token=other-token"}
		args = append(args, script)
		code := run(context.Background(), args, &stdout, &stderr, d)
		b, _ := os.ReadFile(out)
		if code != 0 || !strings.Contains(string(b), "token ***SECRET_REDACTED*** other ***SECRET_REDACTED***") || strings.Contains(string(b), "m0ck-token") {
			t.Errorf("exit %d; console file:\n%s\nstderr:\n%s", code, b, stderr.String())
		}
	})
}
