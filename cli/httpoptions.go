package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

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
	return httpmod.ValidateTLS(*m)
}
