package http

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// resolver is the dns option's resolver: lookups cached for ttl (k6's 5m by default; 0
// caches nothing, a negative ttl forever), the addresses filtered and ordered by policy,
// and one of them chosen by sel. Safe for concurrent use (http.batch).
type resolver struct {
	ttl    time.Duration
	sel    string
	policy string
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	mu    sync.Mutex
	cache map[string]cachedAddrs
	next  map[string]int // roundRobin's position per host
}

type cachedAddrs struct {
	addrs []netip.Addr
	until time.Time
}

// goResolver asks Go's resolver at every connection and takes the first address (what
// net.Dialer does without the dns option), for blacklistIPs to check the address.
var goResolver = &resolver{sel: "first", policy: "any", cache: map[string]cachedAddrs{}, next: map[string]int{},
	lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}}

// newResolver returns the resolver of the dns option, nil when the option is not set.
func newResolver(o modules.DNS) *resolver {
	if o == (modules.DNS{}) {
		return nil
	}
	r := &resolver{ttl: 5 * time.Minute, sel: "random", policy: "preferIPv4",
		cache: map[string]cachedAddrs{}, next: map[string]int{},
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}}
	if o.TTL != "" {
		r.ttl, _ = parseDNSTTL(o.TTL)
	}
	if o.Select != "" {
		r.sel = o.Select
	}
	if o.Policy != "" {
		r.policy = o.Policy
	}
	return r
}

// resolve returns the address a new connection to host goes to.
func (r *resolver) resolve(ctx context.Context, host string) (netip.Addr, error) {
	addrs, err := r.addrs(ctx, host)
	if err != nil {
		return netip.Addr{}, err
	}
	addrs = filterPolicy(addrs, r.policy)
	if len(addrs) == 0 {
		return netip.Addr{}, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	switch r.sel {
	case "first":
		return addrs[0], nil
	case "roundRobin":
		r.mu.Lock()
		i := r.next[host] % len(addrs)
		r.next[host] = i + 1
		r.mu.Unlock()
		return addrs[i], nil
	}
	return addrs[rand.IntN(len(addrs))], nil
}

// addrs looks host up, from the cache while its entry lives.
func (r *resolver) addrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	now := time.Now()
	r.mu.Lock()
	c, ok := r.cache[host]
	r.mu.Unlock()
	if ok && (r.ttl < 0 || now.Before(c.until)) {
		return c.addrs, nil
	}
	addrs, err := r.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if r.ttl != 0 {
		r.mu.Lock()
		r.cache[host] = cachedAddrs{addrs, now.Add(r.ttl)}
		r.mu.Unlock()
	}
	return addrs, nil
}

// filterPolicy keeps and orders addrs as policy says.
func filterPolicy(addrs []netip.Addr, policy string) []netip.Addr {
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a.Unmap().Is4() {
			v4 = append(v4, a.Unmap())
		} else {
			v6 = append(v6, a)
		}
	}
	switch policy {
	case "onlyIPv4":
		return v4
	case "onlyIPv6":
		return v6
	case "preferIPv4":
		if len(v4) > 0 {
			return v4
		}
		return v6
	case "preferIPv6":
		if len(v6) > 0 {
			return v6
		}
		return v4
	}
	return addrs
}

// parseDNSTTL reads dns.ttl: "inf" (forever, -1), a duration, or milliseconds.
func parseDNSTTL(s string) (time.Duration, error) {
	if s == "inf" {
		return -1, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("invalid dns ttl %q: want inf, a duration like 5m, or 0", s)
}

// ParseDNS reads the dns option as the command line and K6_DNS give it:
// "ttl=1m,select=first,policy=onlyIPv4" (any subset), and checks its values.
func ParseDNS(s string) (modules.DNS, error) {
	var d modules.DNS
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return d, fmt.Errorf("invalid dns %q: want ttl=TTL,select=SELECT,policy=POLICY", s)
		}
		switch k {
		case "ttl":
			d.TTL = v
		case "select":
			d.Select = v
		case "policy":
			d.Policy = v
		default:
			return d, fmt.Errorf("invalid dns %q: unknown key %q (want ttl, select or policy)", s, k)
		}
	}
	return d, ValidateDNS(d)
}

// ValidateDNS checks the dns option's values.
func ValidateDNS(d modules.DNS) error {
	if d.TTL != "" {
		if _, err := parseDNSTTL(d.TTL); err != nil {
			return err
		}
	}
	switch d.Select {
	case "", "first", "random", "roundRobin":
	default:
		return fmt.Errorf("invalid dns select %q: want first, random or roundRobin", d.Select)
	}
	switch d.Policy {
	case "", "preferIPv4", "preferIPv6", "onlyIPv4", "onlyIPv6", "any":
	default:
		return fmt.Errorf("invalid dns policy %q: want preferIPv4, preferIPv6, onlyIPv4, onlyIPv6 or any", d.Policy)
	}
	return nil
}

// ParseLocalIPs expands --local-ips: comma-separated IPs, ranges "A-B" and CIDRs, in order.
func ParseLocalIPs(list []string) ([]netip.Addr, error) {
	const maxIPs = 1 << 20
	var out []netip.Addr
	for _, s := range list {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			continue
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("invalid local IP range %q: %w", s, err)
			}
			for a := p.Masked().Addr(); p.Contains(a) && len(out) < maxIPs; a = a.Next() {
				out = append(out, a)
			}
		case strings.Contains(s, "-"):
			from, to, _ := strings.Cut(s, "-")
			a, err1 := netip.ParseAddr(strings.TrimSpace(from))
			b, err2 := netip.ParseAddr(strings.TrimSpace(to))
			if err1 != nil || err2 != nil || a.Is4() != b.Is4() || b.Less(a) {
				return nil, fmt.Errorf("invalid local IP range %q: want FIRST-LAST", s)
			}
			for ; !b.Less(a) && a.IsValid() && len(out) < maxIPs; a = a.Next() {
				out = append(out, a)
			}
		default:
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("invalid local IP %q", s)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// localIP returns the local address of VU vuID (1-based), round robin over ips.
func localIP(ips []netip.Addr, vuID uint64) netip.Addr {
	if len(ips) == 0 {
		return netip.Addr{}
	}
	n := uint64(len(ips))
	return ips[(vuID%n+n-1)%n]
}
