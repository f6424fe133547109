package secrets

import (
	"bufio"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// DefaultSource is the name of the default secret source: secrets.get reads it.
const DefaultSource = "default"

// Redacted replaces a secret's value in the logs, as in k6.
const Redacted = "***SECRET_REDACTED***"

// source is one configured secret source.
type source interface {
	get(key string) (string, error)
}

// mapSource holds its secrets in memory (the file and mock sources).
type mapSource map[string]string

func (m mapSource) get(key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", errors.New("no value")
	}
	return v, nil
}

// Manager holds the secret sources of a run (k6's --secret-source) and redacts every
// secret it has handed out: Redact replaces them in a log line. It is safe for concurrent
// use and implements modules.Secrets.
type Manager struct {
	sources map[string]source // by name; "default" too when there is one

	cacheMu sync.Mutex
	cache   map[[2]string]string // (source, key) → a value already fetched, as k6 keeps it

	mu       sync.RWMutex
	seen     map[string]bool
	replacer *strings.Replacer
}

// ParseSources builds the sources of the --secret-source values, as k6 reads them:
// TYPE=CONFIG, where CONFIG is a comma-separated list in which `name=NAME` names the
// source and `default` makes it the default one; a single source is the default. Types:
//
//	file=PATH (or file=filename=PATH)   key=value lines of the file at PATH
//	mock=key=value,key2=value2          the secrets given inline
//	url=urlTemplate=https://h/{key},... fetched over HTTP (k6's parameters; also from
//	                                    config=FILE.json and K6_SECRET_SOURCE_URL_* in env)
//
// readFile reads the file source's file and the url source's config file. No values yield
// a nil Manager.
func ParseSources(values []string, env map[string]string, readFile func(string) ([]byte, error)) (*Manager, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := &Manager{sources: map[string]source{}, seen: map[string]bool{}, cache: map[[2]string]string{}}
	for _, line := range values {
		typ, config, ok := strings.Cut(line, "=")
		if !ok && line != "url" {
			return nil, fmt.Errorf("couldn't parse secret source configuration %q", line)
		}
		name, isDefault, config := nameAndDefault(config)
		var src source
		var err error
		switch typ {
		case "file":
			src, err = fileSource(config, readFile)
		case "mock":
			src, err = mockSource(config)
		case "url":
			var cfg urlConfig
			if cfg, err = urlSourceConfig(config, env, readFile); err == nil {
				src = newURLSource(cfg)
			}
		default:
			return nil, fmt.Errorf("no secret source for type %q for configuration %q", typ, line)
		}
		if err != nil {
			return nil, err
		}
		if _, dup := m.sources[name]; dup {
			return nil, fmt.Errorf("secret source for name %q already registered before configuration %q", name, line)
		}
		m.sources[name] = src
		if isDefault {
			if _, dup := m.sources[DefaultSource]; dup {
				return nil, fmt.Errorf("can't have two secret sources that are default ones, second one was %q", line)
			}
			m.sources[DefaultSource] = src
		}
	}
	if len(m.sources) == 1 {
		for _, s := range m.sources {
			m.sources[DefaultSource] = s
		}
	}
	return m, nil
}

// nameAndDefault takes `name=NAME` and `default` out of a source's configuration.
func nameAndDefault(config string) (name string, isDefault bool, rest string) {
	var keep []string
	for _, kv := range strings.Split(config, ",") {
		if kv == "default" {
			isDefault = true
			continue
		}
		if v, ok := strings.CutPrefix(kv, "name="); ok {
			name = v
			continue
		}
		keep = append(keep, kv)
	}
	return name, isDefault, strings.Join(keep, ",")
}

func fileSource(config string, readFile func(string) ([]byte, error)) (source, error) {
	var filename string
	for _, kv := range strings.Split(config, ",") {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			filename = kv
		case k == "filename":
			filename = v
		default:
			return nil, fmt.Errorf("unknown configuration key for file secret source %q", k)
		}
	}
	b, err := readFile(filename)
	if err != nil {
		return nil, fmt.Errorf("file secret source: %w", err)
	}
	out := mapSource{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, len(b)+1)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			return nil, fmt.Errorf("reading secret file %s: parsing %q, needs =", filename, sc.Text())
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading secret file %s: %w", filename, err)
	}
	return out, nil
}

func mockSource(config string) (source, error) {
	out := mapSource{}
	for _, kv := range strings.Split(config, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("parsing %q, needs =", kv)
		}
		out[k] = v
	}
	return out, nil
}

// Get implements modules.Secrets: the secret key of the named source. The value is
// redacted from the logs from then on.
func (m *Manager) Get(name, key string) (string, error) {
	if m == nil || len(m.sources) == 0 {
		return "", errNoSources
	}
	src, ok := m.sources[name]
	if !ok {
		return "", fmt.Errorf("no secret source with name %q is configured", name)
	}
	ck := [2]string{fmt.Sprintf("%p", src), key} // sources that are one (default and its name) share
	m.cacheMu.Lock()
	v, ok := m.cache[ck]
	m.cacheMu.Unlock()
	if ok {
		return v, nil
	}
	v, err := src.get(key)
	if err != nil {
		return "", err
	}
	m.redact(v)
	m.cacheMu.Lock()
	m.cache[ck] = v
	m.cacheMu.Unlock()
	return v, nil
}

// redact adds v to the values Redact replaces.
func (m *Manager) redact(v string) {
	if v == "" {
		return
	}
	m.mu.RLock()
	seen := m.seen[v]
	m.mu.RUnlock()
	if seen {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[v] {
		return
	}
	m.seen[v] = true
	vals := make([]string, 0, len(m.seen))
	for s := range m.seen {
		vals = append(vals, s)
	}
	// longest first: a secret that contains another is replaced whole
	sort.Slice(vals, func(i, j int) bool {
		return len(vals[i]) > len(vals[j]) || len(vals[i]) == len(vals[j]) && vals[i] < vals[j]
	})
	pairs := make([]string, 0, 2*len(vals))
	for _, s := range vals {
		pairs = append(pairs, s, Redacted)
	}
	m.replacer = strings.NewReplacer(pairs...)
}

// Redact returns s with every secret handed out so far replaced by Redacted.
func (m *Manager) Redact(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	r := m.replacer
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

var errNoSources = errors.New("no secret sources are configured")
