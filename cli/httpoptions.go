package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pixelk6/pixelk6/js/modules"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// tlsVersionRange is the tlsVersion option: one version ("tls1.2") or {min, max}.
type tlsVersionRange struct{ Min, Max string }

// UnmarshalJSON reads "tls1.2" (min and max) or {"min": ..., "max": ...}.
func (v *tlsVersionRange) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v.Min, v.Max = s, s
		return nil
	}
	var r struct {
		Min *string `json:"min"`
		Max *string `json:"max"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("tlsVersion: want a version name or {min, max}: %w", err)
	}
	if r.Min != nil {
		v.Min = *r.Min
	}
	if r.Max != nil {
		v.Max = *r.Max
	}
	return nil
}

// MarshalJSON writes it back as {"min", "max"}, as k6's inspect does.
func (v tlsVersionRange) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"min": v.Min, "max": v.Max})
}

// httpModuleOptions validates the HTTP client's options and copies them into m. Every
// error names the bad value; the command exits 104 on them.
func httpModuleOptions(o options, m *modules.Options) error {
	nonNeg := func(name string, p *int64) (int, error) {
		if p == nil {
			return 0, nil
		}
		if *p < 0 {
			return 0, fmt.Errorf("invalid %s %d: must not be negative", name, *p)
		}
		return int(*p), nil
	}
	var err error
	if o.MaxRedirects != nil {
		n, err := nonNeg("maxRedirects", o.MaxRedirects)
		if err != nil {
			return err
		}
		m.MaxRedirects = &n
	}
	if p := o.MaxResponseBody; p != nil {
		switch {
		case *p == 0 || *p < -1:
			return fmt.Errorf("invalid --max-response-body %d: want a size in bytes, or -1 for no limit", *p)
		default:
			m.MaxResponseBody = *p
		}
	}
	if m.Batch, err = nonNeg("batch", o.Batch); err != nil {
		return err
	}
	if m.BatchPerHost, err = nonNeg("batchPerHost", o.BatchPerHost); err != nil {
		return err
	}
	m.BatchPerHostSet = o.BatchPerHost != nil
	if m.RPS, err = nonNeg("rps", o.RPS); err != nil {
		return err
	}
	on := func(b *bool) bool { return b != nil && *b }
	m.DiscardResponseBodies = on(o.DiscardResponseBodies)
	m.Throw = on(o.Throw)
	m.NoConnectionReuse = on(o.NoConnectionReuse)
	m.NoVUConnectionReuse = on(o.NoVUConnectionReuse)
	if err := httpmod.ValidateHosts(o.Hosts); err != nil {
		return err
	}
	m.Hosts = o.Hosts
	for _, p := range o.BlockHostnames {
		if err := httpmod.ValidateHostPattern(p); err != nil {
			return err
		}
	}
	m.BlockHostnames = o.BlockHostnames
	for _, r := range o.BlacklistIPs {
		if _, err := httpmod.ParseIPRange(r); err != nil {
			return fmt.Errorf("invalid blacklistIPs: %w", err)
		}
	}
	m.BlacklistIPs = o.BlacklistIPs
	if o.TLSVersion != nil {
		m.TLSVersionMin, m.TLSVersionMax = o.TLSVersion.Min, o.TLSVersion.Max
	}
	m.TLSCipherSuites = o.TLSCipherSuites
	m.TLSAuth = o.TLSAuth
	if _, err := httpmod.ParseLocalIPs(o.LocalIPs); err != nil {
		return err
	}
	m.LocalIPs = o.LocalIPs
	if o.DNS != nil {
		m.DNS = modules.DNS{TTL: o.DNS.TTL, Select: o.DNS.Select, Policy: o.DNS.Policy}
		if err := httpmod.ValidateDNS(m.DNS); err != nil {
			return err
		}
	}
	return httpmod.ValidateTLS(*m)
}

// dnsOption is the dns option: {"ttl": "1m" or milliseconds, "select": ..., "policy": ...}.
type dnsOption struct{ TTL, Select, Policy string }

func dnsFromModule(d modules.DNS) *dnsOption { return &dnsOption{d.TTL, d.Select, d.Policy} }

// UnmarshalJSON reads the object; null members are unset.
func (d *dnsOption) UnmarshalJSON(b []byte) error {
	var raw struct {
		TTL    any     `json:"ttl"`
		Select *string `json:"select"`
		Policy *string `json:"policy"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("dns: want {ttl, select, policy}: %w", err)
	}
	switch x := raw.TTL.(type) {
	case nil:
	case string:
		d.TTL = x
	case float64:
		d.TTL = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Errorf("dns: invalid ttl %v", x)
	}
	if raw.Select != nil {
		d.Select = *raw.Select
	}
	if raw.Policy != nil {
		d.Policy = *raw.Policy
	}
	return nil
}

// MarshalJSON writes it as k6 does, unset members null.
func (d dnsOption) MarshalJSON() ([]byte, error) {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		TTL    *string `json:"ttl"`
		Select *string `json:"select"`
		Policy *string `json:"policy"`
	}{str(d.TTL), str(d.Select), str(d.Policy)})
}
