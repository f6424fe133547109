package webdashboard

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the dashboard's configuration: k6's K6_WEB_DASHBOARD_* settings.
type Config struct {
	// Host is the address the page is served on (K6_WEB_DASHBOARD_HOST, default 127.0.0.1).
	Host string
	// Port is the TCP port (K6_WEB_DASHBOARD_PORT, default 5665); 0 picks a free one, -1
	// serves nothing (for CI: only the export is written).
	Port int
	// Period is the width of one time point (K6_WEB_DASHBOARD_PERIOD, default 10s).
	Period time.Duration
	// Open opens the page in the system's browser when the test starts (K6_WEB_DASHBOARD_OPEN).
	Open bool
	// Export is the HTML report written when the test ends (K6_WEB_DASHBOARD_EXPORT; "" none).
	Export string
}

// Defaults are k6's, except Host: pixelk6 serves on loopback unless told otherwise.
const (
	DefaultHost   = "127.0.0.1"
	DefaultPort   = 5665
	DefaultPeriod = 10 * time.Second
)

// ParseConfig reads the configuration from env (K6_WEB_DASHBOARD_HOST, _PORT, _PERIOD,
// _OPEN, _EXPORT) and then from arg, the part of "--out web-dashboard=ARG" after "=":
// "key=value" pairs joined by "&" with the keys host, port, period, open and export (arg
// wins). Every bad value and unknown key is an error that names it.
func ParseConfig(arg string, env map[string]string) (Config, error) {
	c := Config{Host: DefaultHost, Port: DefaultPort, Period: DefaultPeriod}
	set := func(key, v, from string) error {
		var err error
		switch key {
		case "host":
			c.Host = v
		case "port":
			if c.Port, err = strconv.Atoi(v); err != nil || c.Port < -1 || c.Port > 65535 {
				return fmt.Errorf("%s=%q: want a TCP port, 0 for any free port or -1 for no server", from, v)
			}
		case "period":
			if c.Period, err = time.ParseDuration(v); err != nil || c.Period <= 0 {
				return fmt.Errorf("%s=%q: want a positive duration such as 10s", from, v)
			}
		case "open":
			if c.Open, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("%s=%q: want true or false", from, v)
			}
		case "export":
			c.Export = v
		default:
			return fmt.Errorf("unknown parameter %q in --out web-dashboard=%s (known: host, port, period, open, export)", key, arg)
		}
		return nil
	}
	for _, key := range []string{"host", "port", "period", "open", "export"} {
		name := "K6_WEB_DASHBOARD_" + strings.ToUpper(key)
		if v, ok := env[name]; ok && v != "" {
			if err := set(key, v, name); err != nil {
				return c, fmt.Errorf("web-dashboard: %w", err)
			}
		}
	}
	if arg != "" {
		for _, kv := range strings.Split(arg, "&") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return c, fmt.Errorf("web-dashboard: parameter %q in --out web-dashboard=%s: want key=value", kv, arg)
			}
			if err := set(k, v, k); err != nil {
				return c, fmt.Errorf("web-dashboard: %w", err)
			}
		}
	}
	return c, nil
}

// Addr is the host:port the server listens on.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
