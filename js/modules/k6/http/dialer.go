package http

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// k6's error codes of the network options (k6's error-codes reference).
const (
	codeBlacklistedIP   = 1110
	codeBlockedHostname = 1111
)

// codedError is a request error that carries its k6 error code and message (classifyError
// returns them as they are).
type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// netDialer is the one dialer of a VU's two clients (the fast path and net/http): it applies
// the options `hosts` (a static mapping looked at before any DNS lookup), `blockHostnames`
// and `blacklistIPs`, then dials the address with a TCP keep-alive dialer.
type netDialer struct {
	dialer    net.Dialer
	hosts     hostMap
	blocked   hostPatterns
	blacklist []netip.Prefix
	dns       *resolver // the dns option's, nil: Go's resolver at every connection
}

// newNetDialer returns the dialer the options ask for, for VU vuID (its --local-ips
// address). The options were validated by the command line; an entry that still does not
// parse is ignored here.
func newNetDialer(o modules.Options, vuID uint64) *netDialer {
	d := &netDialer{dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		hosts: newHostMap(o.Hosts), blocked: newHostPatterns(o.BlockHostnames), dns: newResolver(o.DNS)}
	if ips, err := ParseLocalIPs(o.LocalIPs); err == nil && len(ips) > 0 {
		d.dialer.LocalAddr = &net.TCPAddr{IP: localIP(ips, vuID).AsSlice()}
	}
	for _, s := range o.BlacklistIPs {
		if p, err := ParseIPRange(s); err == nil {
			d.blacklist = append(d.blacklist, p)
		}
	}
	return d
}

// plain reports whether the dialer does nothing but dial (no option applies).
func (d *netDialer) plain() bool {
	return len(d.hosts.exact) == 0 && len(d.hosts.wild) == 0 && len(d.blocked.exact) == 0 &&
		len(d.blocked.suffix) == 0 && len(d.blacklist) == 0 && d.dns == nil
}

// DialContext dials addr ("host:port") on network after applying the options.
func (d *netDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.plain() {
		return d.dialer.DialContext(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if pat, ok := d.blocked.match(host); ok {
		return nil, &codedError{codeBlockedHostname, fmt.Sprintf("hostname (%s) is in a blocked pattern (%s)", host, pat)}
	}
	if to, ok := d.hosts.lookup(host, port); ok {
		addr = to
		host, port, _ = net.SplitHostPort(to)
	}
	if len(d.blacklist) == 0 && d.dns == nil {
		return d.dialer.DialContext(ctx, network, addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		r := d.dns
		if r == nil {
			r = goResolver
		}
		if ip, err = r.resolve(ctx, host); err != nil {
			return nil, err
		}
	}
	ip = ip.Unmap()
	for _, p := range d.blacklist {
		if p.Contains(ip) {
			return nil, &codedError{codeBlacklistedIP, fmt.Sprintf("IP (%s) is in a blacklisted range (%s)", ip, p)}
		}
	}
	return d.dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
}

// ParseIPRange reads a blacklistIPs entry: a CIDR range ("10.0.0.0/8") or one IP.
func ParseIPRange(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid IP range %q: want a CIDR like 10.0.0.0/8", s)
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// hostMap is the `hosts` option: exact names ("example.com", or "example.com:443" for one
// port) and wildcards ("*.example.com" for any subdomain), case-insensitive. A value is an
// IP or another host name (the request's port is kept), or either with a port.
type hostMap struct {
	exact map[string]string
	wild  []hostRule // longest suffix first
}

type hostRule struct{ suffix, to string }

func newHostMap(m map[string]string) hostMap {
	h := hostMap{exact: map[string]string{}}
	for k, v := range m {
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(k, "*") {
			h.wild = append(h.wild, hostRule{strings.TrimPrefix(k, "*"), v})
			continue
		}
		h.exact[k] = v
	}
	// the most specific wildcard wins
	for i := 1; i < len(h.wild); i++ {
		for j := i; j > 0 && len(h.wild[j].suffix) > len(h.wild[j-1].suffix); j-- {
			h.wild[j], h.wild[j-1] = h.wild[j-1], h.wild[j]
		}
	}
	return h
}

// lookup returns the address host:port maps to.
func (h hostMap) lookup(host, port string) (string, bool) {
	host = strings.ToLower(host)
	to, ok := h.exact[net.JoinHostPort(host, port)]
	if !ok {
		to, ok = h.exact[host]
	}
	if !ok {
		for _, r := range h.wild {
			if strings.HasSuffix(host, r.suffix) {
				to, ok = r.to, true
				break
			}
		}
	}
	if !ok {
		return "", false
	}
	if _, _, err := net.SplitHostPort(to); err == nil {
		return to, true
	}
	return net.JoinHostPort(strings.Trim(to, "[]"), port), true
}

// ValidateHosts checks a `hosts` mapping: every value is an IP or a host name, either with
// an optional port.
func ValidateHosts(m map[string]string) error {
	for k, v := range m {
		h := v
		if hh, p, err := net.SplitHostPort(v); err == nil {
			if _, perr := strconv.ParseUint(p, 10, 16); perr != nil {
				return fmt.Errorf("invalid hosts entry %q: bad port in %q", k, v)
			}
			h = hh
		}
		if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			continue
		}
		if h == "" || strings.ContainsAny(h, " /?#@*[]") {
			return fmt.Errorf("invalid hosts entry %q: %q is not an IP or a host name (with an optional port)", k, v)
		}
	}
	return nil
}

// hostPatterns are blockHostnames: exact names and "*.suffix" wildcards, case-insensitive.
type hostPatterns struct {
	exact  map[string]bool
	suffix []string // ".example.com" for "*.example.com"
}

func newHostPatterns(list []string) hostPatterns {
	p := hostPatterns{exact: map[string]bool{}}
	for _, s := range list {
		s = strings.ToLower(strings.TrimSpace(s))
		if strings.HasPrefix(s, "*") {
			p.suffix = append(p.suffix, s[1:])
		} else if s != "" {
			p.exact[s] = true
		}
	}
	return p
}

// match returns the pattern host matches.
func (p hostPatterns) match(host string) (string, bool) {
	host = strings.ToLower(host)
	if p.exact[host] {
		return host, true
	}
	for _, s := range p.suffix {
		if strings.HasSuffix(host, s) {
			return "*" + s, true
		}
	}
	return "", false
}

// ValidateHostPattern checks a blockHostnames entry: a host name, optionally with one
// leading wildcard ("*.example.com"); k6 allows no other '*'.
func ValidateHostPattern(s string) error {
	if s == "" || strings.Contains(strings.TrimPrefix(s, "*"), "*") {
		return fmt.Errorf("invalid blockHostnames pattern %q: want a host name with an optional leading wildcard (*.example.com)", s)
	}
	return nil
}
