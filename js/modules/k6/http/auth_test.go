package http

import (
	"strings"
	"testing"
)

// TestDigestAuthorizationRFC7616 is the known-answer example of RFC 7616 section 3.9.1.
func TestDigestAuthorizationRFC7616(t *testing.T) {
	ch := authParams(`realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`)
	cr := credentials{"Mufasa", "Circle of Life"}
	const cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	for algo, want := range map[string]string{
		"MD5":     `response="8ca523f5e9506fed4657c9700eebdbec"`,
		"SHA-256": `response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`,
	} {
		ch["algorithm"] = algo
		got, err := digestAuthorization(ch, cr, "GET", "/dir/index.html", nil, cnonce)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, want) || !strings.Contains(got, `qop=auth, nc=00000001, cnonce="`+cnonce+`"`) ||
			!strings.Contains(got, `opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`) || !strings.Contains(got, `uri="/dir/index.html"`) {
			t.Errorf("%s: %s\nwant %s", algo, got, want)
		}
	}
	ch["algorithm"] = "SHA-1"
	if _, err := digestAuthorization(ch, cr, "GET", "/", nil, cnonce); err == nil {
		t.Error("an unknown algorithm was accepted")
	}
}

func TestDigestChallenge(t *testing.T) {
	ch, ok := digestChallenge([]string{`Basic realm="x"`, `Digest realm="a \"b\", c", nonce=n1, qop="auth"`})
	if !ok || ch["realm"] != `a "b", c` || ch["nonce"] != "n1" || ch["qop"] != "auth" {
		t.Errorf("got %v %v", ch, ok)
	}
	if _, ok := digestChallenge([]string{`Basic realm="x"`}); ok {
		t.Error("a Basic challenge read as Digest")
	}
}

func FuzzAuthParams(f *testing.F) {
	for _, s := range []string{`a="b\"c", d=e`, `"`, `a=`, `=,,=`, `a="\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = authParams(s) }) // must not panic or loop
}
