package http

import (
	"crypto/md5" //nolint:gosec // digest auth's MD5 algorithm
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// credentials are the user and password of params.auth "digest", taken from the URL.
type credentials struct{ user, pass string }

// applyAuth reads params.auth and the URL's user info: "basic" (or no auth with user info in
// the URL) sends an Authorization: Basic header; "digest" answers the server's 401 challenge
// (see digestAuthorization), "ntlm" negotiates (see ntlm.go). The user info leaves the URL
// that goes out; the URL shown in tags and responses has it masked as k6 does (****:****@).
func applyAuth(req *request, auth string) error {
	switch auth {
	case "", "basic", "digest", "ntlm":
	default:
		return fmt.Errorf("params.auth %q: want basic, digest or ntlm", auth)
	}
	u := req.url
	if u.User == nil {
		return nil
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	switch {
	case auth == "digest":
		req.digest = &credentials{user, pass}
	case auth == "ntlm":
		req.ntlm = &credentials{user, pass}
		req.header.Set("Authorization", ntlmNegotiate())
	case req.header.Get("Authorization") == "":
		req.header.Set("Authorization", "Basic "+basicToken(user, pass))
	}
	clean := *u
	clean.User = nil
	req.url = &clean
	mask := "****@"
	if _, ok := u.User.Password(); ok {
		mask = "****:****@"
	}
	s := clean.String()
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[:i+3] + mask + s[i+3:]
	}
	req.shownURL = s
	return nil
}

func basicToken(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// digestChallenge parses a WWW-Authenticate header's Digest challenge (RFC 7616 section
// 3.3); ok is false when there is none.
func digestChallenge(values []string) (map[string]string, bool) {
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		return authParams(rest), true
	}
	return nil, false
}

// authParams splits `k=v, k="quoted, value"` pairs.
func authParams(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		k := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			v, s = b.String(), s[min(i+1, len(s)):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out[k] = v
	}
}

// digestAuthorization answers a Digest challenge for one request (RFC 7616): algorithms
// MD5, SHA-256 and SHA-512-256 and their -sess variants, qop auth or auth-int (or none, as
// in RFC 2069), userhash. cnonce is random unless given (tests).
func digestAuthorization(ch map[string]string, cr credentials, method, uri string, body []byte, cnonce string) (string, error) {
	algo := ch["algorithm"]
	if algo == "" {
		algo = "MD5"
	}
	base, sess := strings.CutSuffix(strings.ToUpper(algo), "-SESS")
	var newHash func() hash.Hash
	switch base {
	case "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	case "SHA-512-256":
		newHash = sha512.New512_256
	default:
		return "", fmt.Errorf("digest auth: unsupported algorithm %q", algo)
	}
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	if cnonce == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		cnonce = hex.EncodeToString(b[:])
	}
	realm, nonce := ch["realm"], ch["nonce"]
	qop := ""
	for _, q := range strings.Split(ch["qop"], ",") {
		switch q = strings.TrimSpace(q); q {
		case "auth":
			qop = q
		case "auth-int":
			if qop == "" {
				qop = q
			}
		}
	}
	const nc = "00000001"
	ha1 := h(cr.user + ":" + realm + ":" + cr.pass)
	if sess {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	if qop == "auth-int" {
		ha2 = h(method + ":" + uri + ":" + h(string(body)))
	}
	var resp string
	if qop == "" {
		resp = h(ha1 + ":" + nonce + ":" + ha2)
	} else {
		resp = h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
	}
	user := cr.user
	userhash := strings.EqualFold(ch["userhash"], "true")
	if userhash {
		user = h(cr.user + ":" + realm)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, nonce=%s, uri=%s, algorithm=%s, response=%s`,
		quote(user), quote(realm), quote(nonce), quote(uri), algo, quote(resp))
	if o, ok := ch["opaque"]; ok {
		fmt.Fprintf(&b, ", opaque=%s", quote(o))
	}
	if qop != "" {
		fmt.Fprintf(&b, `, qop=%s, nc=%s, cnonce=%s`, qop, nc, quote(cnonce))
	}
	if userhash {
		b.WriteString(", userhash=true")
	}
	return b.String(), nil
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
