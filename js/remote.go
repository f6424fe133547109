package js

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Remote modules, as k6 loads them: `import x from 'https://host/path.js'` is fetched once
// per run (the compiler caches it by URL, so every VU shares one fetch), relative imports in
// a remote module resolve against its URL, and only the file and https schemes are allowed.
// A specifier without a scheme that is neither a built-in module nor a local path, such as
// "jslib.k6.io/k6-utils/1.4.0/index.js", is fetched over https with a warning, as k6 does.

// remoteFetchTimeout bounds one fetch of a remote module (k6 gives each a minute).
const remoteFetchTimeout = time.Minute

// maxRemoteModule is the largest remote module read (bytes): a guard against a server that
// never stops sending.
const maxRemoteModule = 64 << 20

// FetchRemote returns a fetch of remote modules over client, as k6 fetches them: GET
// url?_k6=1, then url alone if that fails, each within a minute; any status other than
// 200 is an error naming it and the URL. A nil client uses Go's default transport: proxies
// from HTTPS_PROXY/NO_PROXY and the system's root certificates, which on Linux the
// SSL_CERT_FILE and SSL_CERT_DIR variables replace (to trust a private CA).
func FetchRemote(client *http.Client) func(ctx context.Context, rawURL string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, rawURL string) ([]byte, error) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		marked := *u
		if marked.RawQuery != "" {
			marked.RawQuery += "&"
		}
		marked.RawQuery += "_k6=1"
		b, err := fetchOnce(ctx, client, marked.String(), rawURL)
		if err != nil && ctx.Err() == nil {
			// some servers refuse unknown query arguments: try the URL as written
			b, err = fetchOnce(ctx, client, rawURL, rawURL)
		}
		return b, err
	}
}

func fetchOnce(ctx context.Context, client *http.Client, u, shown string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("not found (status 404): %s", shown)
	default:
		return nil, fmt.Errorf("wrong status code (%d) for: %s", res.StatusCode, shown)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxRemoteModule+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", shown, err)
	}
	if len(b) > maxRemoteModule {
		return nil, fmt.Errorf("%s is larger than %d MiB", shown, maxRemoteModule>>20)
	}
	return b, nil
}

// isRemote reports whether a module key (an absolute path or a URL) is a remote module.
func isRemote(key string) bool { return strings.HasPrefix(key, "https://") }

// specScheme returns the scheme of an import specifier that has one ("https", "http",
// "file", ...), or "".
func specScheme(spec string) string {
	i := strings.Index(spec, "://")
	if i <= 0 {
		return ""
	}
	for _, c := range spec[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(spec[:i])
}

// resolveRemote resolves spec, imported by the module from (a URL or an absolute path),
// to a remote module's URL. ok is false when spec names no remote module (a built-in
// module, or a local file imported by a local file). noScheme is true when spec has no
// scheme and was made https (k6 warns about it).
func resolveRemote(from, spec string) (u string, ok, noScheme bool, err error) {
	switch specScheme(spec) {
	case "https":
		p, err := url.Parse(spec)
		if err != nil {
			return "", false, false, fmt.Errorf("invalid module URL %q: %w", spec, err)
		}
		return p.String(), true, false, nil
	case "file":
		if isRemote(from) {
			return "", false, false, fmt.Errorf("origin (%s) not allowed to load local file: %s", from, spec)
		}
		return "", false, false, nil
	case "":
	default:
		return "", false, false, fmt.Errorf("only supported schemes for imports are file and https, %s has `%s`", spec, specScheme(spec))
	}
	if isRemote(from) && (strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/")) {
		base, err := url.Parse(from)
		if err != nil {
			return "", false, false, err
		}
		ref, err := url.Parse(spec)
		if err != nil {
			return "", false, false, fmt.Errorf("invalid module specifier %q in %s: %w", spec, from, err)
		}
		return base.ResolveReference(ref).String(), true, false, nil
	}
	return "", false, false, nil
}

// looksLikeHost reports whether a bare specifier starts with a host name
// ("jslib.k6.io/..."): k6 then tries it as an https URL.
func looksLikeHost(spec string) bool {
	host, _, ok := strings.Cut(spec, "/")
	return ok && strings.Contains(host, ".") && !strings.HasPrefix(host, ".")
}

// RemoteModuleError is a remote module that could not be fetched, in k6's words, with a
// hint for the usual cause (no network where the script runs).
type RemoteModuleError struct {
	Spec string // the specifier as imported
	URL  string // the URL it resolved to
	Err  error
}

func (e *RemoteModuleError) Error() string {
	msg := fmt.Sprintf("the moduleSpecifier %q couldn't be retrieved from the resolved url %q. Error : %q", e.Spec, e.URL, e.Err.Error())
	var ue *url.Error
	var cv *tls.CertificateVerificationError
	switch {
	case errors.As(e.Err, &cv):
		msg += " (the server's certificate is not trusted by this system's roots; on Linux, SSL_CERT_FILE=ca.pem or SSL_CERT_DIR trusts a private CA)"
	case errors.As(e.Err, &ue) && !errors.Is(e.Err, context.Canceled):
		msg += " (remote modules are fetched when the script loads: run where " + hostOf(e.URL) +
			" is reachable; or make an archive there with `pixelk6 archive`, which carries the module and runs offline; or save the file next to the script and import it by a relative path)"
	}
	return msg
}

func (e *RemoteModuleError) Unwrap() error { return e.Err }

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}

// moduleDir is what __dirname is for the module key: a local file's directory, or a remote
// module's URL with its last path element dropped.
func moduleDir(key string) string {
	if !isRemote(key) {
		return filepath.Dir(key)
	}
	if p, err := url.Parse(key); err == nil {
		return p.ResolveReference(&url.URL{Path: "./"}).String()
	}
	return key
}
