package influxdb

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the consolidated configuration of the output: k6's defaults, then the
// K6_INFLUXDB_* environment, then the --out argument (as k6 applies them).
type Config struct {
	// Addr is the server's base URL, with any path prefix ("http://localhost:8086").
	Addr string
	// DB is the database ("k6").
	DB                 string
	Username, Password string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Proxy is an HTTP proxy URL ("" means none; the output ignores HTTP_PROXY as k6 does).
	Proxy string
	// PayloadSize is the most points in one write request (0: no limit).
	PayloadSize int
	// PushInterval is how often buffered samples are written (1 s).
	PushInterval time.Duration
	// ConcurrentWrites is how many writes may be in flight (4).
	ConcurrentWrites int
	// Precision is the timestamp precision of the write API: ns, u, ms, s, m or h.
	Precision string
	// Retention is the retention policy, Consistency the write consistency ("" for the
	// server's defaults).
	Retention, Consistency string
	// TagsAsFields are the tags (and metadata) written as fields, not tags.
	TagsAsFields []fieldSpec
}

// fieldKind is the type a tag is converted to when written as a field.
type fieldKind uint8

const (
	kindString fieldKind = iota
	kindInt
	kindFloat
	kindBool
)

type fieldSpec struct {
	Name string
	Kind fieldKind
}

// Env lists the K6_INFLUXDB_* variables the output reads.
var Env = []string{
	"K6_INFLUXDB_ADDR", "K6_INFLUXDB_DB", "K6_INFLUXDB_USERNAME", "K6_INFLUXDB_PASSWORD", "K6_INFLUXDB_INSECURE",
	"K6_INFLUXDB_PROXY", "K6_INFLUXDB_PAYLOAD_SIZE", "K6_INFLUXDB_PUSH_INTERVAL", "K6_INFLUXDB_CONCURRENT_WRITES",
	"K6_INFLUXDB_PRECISION", "K6_INFLUXDB_RETENTION", "K6_INFLUXDB_CONSISTENCY", "K6_INFLUXDB_TAGS_AS_FIELDS",
}

func defaultConfig() Config {
	return Config{
		Addr: "http://localhost:8086", DB: "k6", PushInterval: time.Second, ConcurrentWrites: 4, Precision: "ns",
		TagsAsFields: []fieldSpec{{"vu", kindString}, {"iter", kindString}, {"url", kindString}},
	}
}

// ParseConfig consolidates the defaults, env and the --out argument ("http://host:8086/db",
// optionally with user:password@ and k6's query parameters).
func ParseConfig(arg string, env map[string]string) (Config, error) {
	c := defaultConfig()
	set := func(name, v string) error {
		var err error
		switch name {
		case "addr":
			c.Addr = strings.TrimSuffix(v, "/")
		case "db":
			c.DB = v
		case "username":
			c.Username = v
		case "password":
			c.Password = v
		case "insecure":
			c.Insecure, err = strconv.ParseBool(v)
		case "proxy":
			if _, err = url.Parse(v); err == nil {
				c.Proxy = v
			}
		case "payload_size", "payloadSize":
			c.PayloadSize, err = strconv.Atoi(v)
			if err == nil && c.PayloadSize < 0 {
				err = fmt.Errorf("must be >= 0")
			}
		case "push_interval", "pushInterval":
			c.PushInterval, err = parseDuration(v)
		case "concurrent_writes", "concurrentWrites":
			c.ConcurrentWrites, err = strconv.Atoi(v)
			if err == nil && c.ConcurrentWrites <= 0 {
				err = fmt.Errorf("must be a positive number")
			}
		case "precision":
			c.Precision, err = parsePrecision(v)
		case "retention":
			c.Retention = v
		case "consistency":
			c.Consistency = v
		case "tags_as_fields", "tagsAsFields":
			c.TagsAsFields, err = parseTagsAsFields(v)
		default:
			return fmt.Errorf("unknown influxdb option %q", name)
		}
		if err != nil {
			return fmt.Errorf("invalid influxdb %s %q: %w", name, v, err)
		}
		return nil
	}
	for _, k := range Env {
		if v, ok := env[k]; ok && v != "" {
			if err := set(strings.ToLower(strings.TrimPrefix(k, "K6_INFLUXDB_")), v); err != nil {
				return c, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	if arg != "" {
		u, err := url.Parse(arg)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("invalid --out influxdb=%q: want http(s)://HOST:PORT/DATABASE", arg)
		}
		// k6: the last path segment is the database, what precedes it a path prefix; a
		// trailing slash means the whole path is the prefix.
		p := u.Path
		prefix := p
		if p != "" && !strings.HasSuffix(p, "/") {
			i := strings.LastIndex(p, "/")
			prefix, c.DB = p[:i], p[i+1:]
		}
		c.Addr = u.Scheme + "://" + u.Host + strings.TrimSuffix(prefix, "/")
		if u.User != nil {
			c.Username = u.User.Username()
			c.Password, _ = u.User.Password()
		}
		for k, vs := range u.Query() {
			if k == "tagsAsFields" {
				if err := set(k, strings.Join(vs, ",")); err != nil {
					return c, err
				}
				continue
			}
			if err := set(k, vs[0]); err != nil {
				return c, err
			}
		}
	}
	if c.DB == "" {
		return c, fmt.Errorf("influxdb: no database name (give it as http://HOST:8086/DATABASE)")
	}
	if c.PushInterval <= 0 {
		return c, fmt.Errorf("influxdb: the push interval must be positive")
	}
	return c, nil
}

// parseDuration reads "1s", "500ms" or a number of milliseconds (k6's durations).
func parseDuration(v string) (time.Duration, error) {
	if ms, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(ms * float64(time.Millisecond)), nil
	}
	return time.ParseDuration(v)
}

// parsePrecision maps k6's precision spellings ("1ns", "ns", "us", "1ms", ...) to the
// write API's (ns, u, ms, s, m, h).
func parsePrecision(v string) (string, error) {
	switch strings.TrimPrefix(v, "1") {
	case "n", "ns":
		return "ns", nil
	case "u", "us", "µs":
		return "u", nil
	case "ms":
		return "ms", nil
	case "s":
		return "s", nil
	case "m":
		return "m", nil
	case "h":
		return "h", nil
	}
	return "", fmt.Errorf("want one of ns, us, ms, s, m, h")
}

func (c Config) precisionUnit() time.Duration {
	switch c.Precision {
	case "u":
		return time.Microsecond
	case "ms":
		return time.Millisecond
	case "s":
		return time.Second
	case "m":
		return time.Minute
	case "h":
		return time.Hour
	}
	return time.Nanosecond
}

// parseTagsAsFields reads "vu:int,iter:int,url" (types int, float, bool, string).
func parseTagsAsFields(v string) ([]fieldSpec, error) {
	var out []fieldSpec
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, typ, _ := strings.Cut(item, ":")
		k := kindString
		switch typ {
		case "", "string":
		case "int":
			k = kindInt
		case "float":
			k = kindFloat
		case "bool":
			k = kindBool
		default:
			return nil, fmt.Errorf("type %q of %q: want int, float, bool or string", typ, name)
		}
		out = append(out, fieldSpec{name, k})
	}
	return out, nil
}
