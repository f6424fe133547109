package http

import (
	"encoding/binary"
	"encoding/hex"
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

// TestMD4 is RFC 1320's test suite (part).
func TestMD4(t *testing.T) {
	for in, want := range map[string]string{
		"":               "31d6cfe0d16ae931b73c59d7e0c089c0",
		"abc":            "a448017aaf21d8525fc10ae87aa6729d",
		"message digest": "d9130a8164549fe818874806e1c7014b",
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890": "e33b4ddc9c38f2199c3e7b164fcc0536",
	} {
		if got := hex.EncodeToString(md4Sum([]byte(in))); got != want {
			t.Errorf("md4(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestNTLMv2KnownAnswer is MS-NLMP section 4.2.4's NTLMv2 example.
func TestNTLMv2KnownAnswer(t *testing.T) {
	key := ntowfv2("User", "Password", "Domain")
	if got := hex.EncodeToString(key); got != "0c868a403bfd7a93a3001ef22ef02e3f" {
		t.Fatalf("NTOWFv2 %s", got)
	}
	var ti []byte
	for _, av := range []struct {
		id uint16
		s  string
	}{{2, "Domain"}, {1, "Server"}} {
		v := utf16le(av.s)
		ti = binary.LittleEndian.AppendUint16(ti, av.id)
		ti = binary.LittleEndian.AppendUint16(ti, uint16(len(v)))
		ti = append(ti, v...)
	}
	ti = append(ti, 0, 0, 0, 0)
	c := &ntlmChallenge{challenge: [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}, targetInfo: ti}
	client := [8]byte{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa}
	nt, lm := ntlmv2Responses(key, c, 0, client)
	if got := hex.EncodeToString(nt[:16]); got != "68cd0ab851e51c96aabc927bebef6a1c" {
		t.Errorf("NTProofStr %s", got)
	}
	if got := hex.EncodeToString(lm); got != "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa" {
		t.Errorf("LMv2 %s", got)
	}
}
