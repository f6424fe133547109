package http

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// testResolver is the dns option's resolver with a lookup that counts its calls.
func testResolver(t *testing.T, d modules.DNS, answer []netip.Addr) (*resolver, *int) {
	t.Helper()
	if err := ValidateDNS(d); err != nil {
		t.Fatal(err)
	}
	r := newResolver(d)
	n := new(int)
	r.lookup = func(context.Context, string) ([]netip.Addr, error) { *n++; return answer, nil }
	return r, n
}

func TestResolverSelectAndPolicy(t *testing.T) {
	answer := addrs("::1", "10.0.0.1", "10.0.0.2", "fe80::2")
	tests := []struct {
		name string
		dns  modules.DNS
		want []string // the addresses of successive connections
	}{
		{"first, preferIPv4", modules.DNS{Select: "first"}, []string{"10.0.0.1", "10.0.0.1"}},
		{"roundRobin, onlyIPv6", modules.DNS{Select: "roundRobin", Policy: "onlyIPv6"}, []string{"::1", "fe80::2", "::1"}},
		{"first, any", modules.DNS{Select: "first", Policy: "any"}, []string{"::1"}},
		{"roundRobin, preferIPv6", modules.DNS{Select: "roundRobin", Policy: "preferIPv6"}, []string{"::1", "fe80::2"}},
		{"roundRobin, onlyIPv4", modules.DNS{Select: "roundRobin", Policy: "onlyIPv4"}, []string{"10.0.0.1", "10.0.0.2", "10.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := testResolver(t, tc.dns, answer)
			for i, w := range tc.want {
				got, err := r.resolve(context.Background(), "h.test")
				if err != nil || got.String() != w {
					t.Errorf("connection %d: %v %v, want %s", i, got, err, w)
				}
			}
		})
	}
	t.Run("random stays in the policy", func(t *testing.T) {
		r, _ := testResolver(t, modules.DNS{Policy: "onlyIPv4"}, answer)
		for range 20 {
			got, _ := r.resolve(context.Background(), "h.test")
			if !got.Is4() {
				t.Fatalf("%v is not IPv4", got)
			}
		}
	})
	t.Run("no address of the policy's family", func(t *testing.T) {
		r, _ := testResolver(t, modules.DNS{Policy: "onlyIPv6"}, addrs("10.0.0.1"))
		if _, err := r.resolve(context.Background(), "h.test"); err == nil {
			t.Error("no error")
		}
	})
}

func TestResolverTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl     string
		lookups int
	}{{"0", 3}, {"1m", 1}, {"inf", 1}, {"", 1}} {
		t.Run("ttl "+tc.ttl, func(t *testing.T) {
			r, n := testResolver(t, modules.DNS{TTL: tc.ttl, Select: "first"}, addrs("10.0.0.1"))
			for range 3 {
				if _, err := r.resolve(context.Background(), "h.test"); err != nil {
					t.Fatal(err)
				}
			}
			if *n != tc.lookups {
				t.Errorf("%d lookups, want %d", *n, tc.lookups)
			}
		})
	}
}

func TestParseDNS(t *testing.T) {
	d, err := ParseDNS("ttl=1m,select=first,policy=onlyIPv4")
	if err != nil || d != (modules.DNS{TTL: "1m", Select: "first", Policy: "onlyIPv4"}) {
		t.Errorf("%+v %v", d, err)
	}
	for _, bad := range []string{"ttl=forever", "select=last", "policy=v4", "ttl", "size=1"} {
		if _, err := ParseDNS(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLocalIPs(t *testing.T) {
	ips, err := ParseLocalIPs([]string{"127.0.0.2-127.0.0.4", "10.1.0.0/31", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	want := addrs("127.0.0.2", "127.0.0.3", "127.0.0.4", "10.1.0.0", "10.1.0.1", "fd00::1")
	if !slices.Equal(ips, want) {
		t.Fatalf("%v, want %v", ips, want)
	}
	for vu, w := range map[uint64]string{1: "127.0.0.2", 2: "127.0.0.3", 6: "fd00::1", 7: "127.0.0.2"} {
		if got := localIP(ips, vu); got.String() != w {
			t.Errorf("VU %d: %v, want %s", vu, got, w)
		}
	}
	for _, bad := range []string{"127.0.0.9-127.0.0.1", "10.0.0.0/33", "x", "10.0.0.1-fd00::1"} {
		if _, err := ParseLocalIPs([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
