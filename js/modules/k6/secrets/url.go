package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// urlConfig is the url secret source's configuration, as k6 documents it.
type urlConfig struct {
	URLTemplate            string            `json:"urlTemplate"`
	Method                 string            `json:"method"`
	Headers                map[string]string `json:"headers"`
	ResponsePath           string            `json:"responsePath"`
	Timeout                time.Duration     `json:"-"`
	RequestsPerMinuteLimit int64             `json:"requestsPerMinuteLimit"`
	RequestsBurst          int64             `json:"requestsBurst"`
	MaxRetries             int64             `json:"maxRetries"`
	RetryBackoff           time.Duration     `json:"-"`
}

// maxURLSecret is the largest response the url source reads (bytes), as in k6.
const maxURLSecret = 24 * 1024

func defaultURLConfig() urlConfig {
	return urlConfig{
		Method: http.MethodGet, Headers: map[string]string{}, Timeout: 30 * time.Second,
		RequestsPerMinuteLimit: 300, RequestsBurst: 10, MaxRetries: 3, RetryBackoff: time.Second,
	}
}

// urlEnvPrefix prefixes the url source's environment variables.
const urlEnvPrefix = "K6_SECRET_SOURCE_URL_"

// urlSourceConfig builds the configuration of `url=CONFIG` as k6 layers it: defaults, then
// the K6_SECRET_SOURCE_URL_* variables of env, then the JSON file of config=PATH, then the
// inline key=value pairs.
func urlSourceConfig(config string, env map[string]string, readFile func(string) ([]byte, error)) (urlConfig, error) {
	c := defaultURLConfig()
	for k, v := range env {
		name, ok := strings.CutPrefix(k, urlEnvPrefix)
		if !ok {
			continue
		}
		if h, ok := strings.CutPrefix(name, "HEADER_"); ok {
			c.Headers[textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(h, "_", "-"))] = v
			continue
		}
		key, known := map[string]string{
			"URL_TEMPLATE": "urlTemplate", "METHOD": "method", "RESPONSE_PATH": "responsePath", "TIMEOUT": "timeout",
			"MAX_RETRIES": "maxRetries", "RETRY_BACKOFF": "retryBackoff", "REQUESTS_PER_MINUTE_LIMIT": "requestsPerMinuteLimit",
			"REQUESTS_BURST": "requestsBurst",
		}[name]
		if !known {
			return c, fmt.Errorf("unknown url secret source variable %s", k)
		}
		if err := c.set(key, v); err != nil {
			return c, fmt.Errorf("%s: %w", k, err)
		}
	}
	var inline [][2]string
	for _, kv := range strings.Split(config, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("url secret source: parsing %q, needs =", kv)
		}
		if k == "config" {
			if err := c.loadFile(v, readFile); err != nil {
				return c, err
			}
			continue
		}
		inline = append(inline, [2]string{k, v})
	}
	for _, kv := range inline {
		if h, ok := strings.CutPrefix(kv[0], "headers."); ok {
			c.Headers[h] = kv[1]
			continue
		}
		if err := c.set(kv[0], kv[1]); err != nil {
			return c, err
		}
	}
	return c, c.validate()
}

// set sets one parameter from its string form.
func (c *urlConfig) set(key, v string) error {
	var err error
	switch key {
	case "urlTemplate":
		c.URLTemplate = v
	case "method":
		c.Method = v
	case "responsePath":
		c.ResponsePath = v
	case "timeout":
		c.Timeout, err = time.ParseDuration(v)
	case "retryBackoff":
		c.RetryBackoff, err = time.ParseDuration(v)
	case "maxRetries":
		c.MaxRetries, err = strconv.ParseInt(v, 10, 64)
	case "requestsPerMinuteLimit":
		c.RequestsPerMinuteLimit, err = strconv.ParseInt(v, 10, 64)
	case "requestsBurst":
		c.RequestsBurst, err = strconv.ParseInt(v, 10, 64)
	default:
		return fmt.Errorf("unknown configuration key for url secret source %q", key)
	}
	if err != nil {
		return fmt.Errorf("url secret source %s: %w", key, err)
	}
	return nil
}

// loadFile applies the JSON configuration file at path.
func (c *urlConfig) loadFile(path string, readFile func(string) ([]byte, error)) error {
	b, err := readFile(path)
	if err != nil {
		return fmt.Errorf("url secret source: failed to open config file: %w", err)
	}
	var f struct {
		URLTemplate            *string           `json:"urlTemplate"`
		Method                 *string           `json:"method"`
		Headers                map[string]string `json:"headers"`
		ResponsePath           *string           `json:"responsePath"`
		Timeout                *string           `json:"timeout"`
		RequestsPerMinuteLimit *int64            `json:"requestsPerMinuteLimit"`
		RequestsBurst          *int64            `json:"requestsBurst"`
		MaxRetries             *int64            `json:"maxRetries"`
		RetryBackoff           *string           `json:"retryBackoff"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("url secret source: failed to parse JSON config %s: %w", path, err)
	}
	for _, s := range []struct {
		p   *string
		key string
	}{{f.URLTemplate, "urlTemplate"}, {f.Method, "method"}, {f.ResponsePath, "responsePath"}, {f.Timeout, "timeout"}, {f.RetryBackoff, "retryBackoff"}} {
		if s.p != nil {
			if err := c.set(s.key, *s.p); err != nil {
				return err
			}
		}
	}
	for _, n := range []struct {
		p   *int64
		dst *int64
	}{{f.RequestsPerMinuteLimit, &c.RequestsPerMinuteLimit}, {f.RequestsBurst, &c.RequestsBurst}, {f.MaxRetries, &c.MaxRetries}} {
		if n.p != nil {
			*n.dst = *n.p
		}
	}
	if f.Headers != nil {
		c.Headers = f.Headers
	}
	return nil
}

func (c urlConfig) validate() error {
	switch {
	case c.URLTemplate == "":
		return errors.New("url secret source: urlTemplate is required")
	case !strings.Contains(c.URLTemplate, "{key}"):
		return errors.New("url secret source: urlTemplate must contain {key} placeholder")
	}
	u, err := url.Parse(strings.ReplaceAll(c.URLTemplate, "{key}", "test"))
	if err != nil {
		return fmt.Errorf("url secret source: urlTemplate is not a valid URL: %w", err)
	}
	switch {
	case u.Scheme == "":
		return errors.New("url secret source: urlTemplate must be an absolute URL with a scheme (e.g., https://...)")
	case c.Timeout <= 0:
		return errors.New("url secret source: timeout must be greater than 0")
	case c.RequestsPerMinuteLimit <= 0:
		return errors.New("url secret source: requestsPerMinuteLimit must be greater than 0")
	case c.RequestsBurst <= 0:
		return errors.New("url secret source: requestsBurst must be greater than 0")
	case c.MaxRetries < 0:
		return errors.New("url secret source: maxRetries must be non-negative")
	case c.RetryBackoff <= 0:
		return errors.New("url secret source: retryBackoff must be greater than 0")
	}
	return nil
}

// urlSource fetches secrets over HTTP: GET (or method) of the URL template with {key}
// replaced, rate limited, retried on network errors, 5xx and 429.
type urlSource struct {
	cfg    urlConfig
	client *http.Client
	bucket *tokenBucket
}

func newURLSource(cfg urlConfig) *urlSource {
	return &urlSource{
		cfg:    cfg,
		client: &http.Client{Timeout: cfg.Timeout},
		bucket: newTokenBucket(time.Minute/time.Duration(cfg.RequestsPerMinuteLimit), int(cfg.RequestsBurst)),
	}
}

func (s *urlSource) get(key string) (string, error) {
	s.bucket.wait()
	var lastErr error
	for attempt := 0; attempt <= int(s.cfg.MaxRetries); attempt++ {
		if attempt > 0 {
			// k6's backoff: base^attempt seconds, plus up to a second of jitter
			wait := time.Duration(math.Pow(s.cfg.RetryBackoff.Seconds(), float64(attempt)) * float64(time.Second))
			time.Sleep(wait + time.Duration(rand.Int64N(int64(time.Second))))
		}
		v, retry, err := s.fetch(key)
		if err == nil {
			return v, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return "", lastErr
}

func (s *urlSource) fetch(key string) (value string, retry bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, strings.ReplaceAll(s.cfg.URLTemplate, "{key}", key), nil)
	if err != nil {
		return "", false, fmt.Errorf("failed to create request: %w", err)
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return "", true, fmt.Errorf("failed to get secret: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests,
			fmt.Errorf("status code %d: failed to get secret", res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxURLSecret+1))
	if err != nil {
		return "", true, fmt.Errorf("failed to read response body: %w", err)
	}
	if len(b) > maxURLSecret {
		return "", false, fmt.Errorf("failed to extract secret: secret response exceeds maximum size of %d bytes", maxURLSecret)
	}
	if s.cfg.ResponsePath == "" {
		return string(b), false, nil
	}
	r := gjson.GetBytes(b, s.cfg.ResponsePath)
	if !r.Exists() {
		return "", false, fmt.Errorf("failed to extract secret: path %q not found in response", s.cfg.ResponsePath)
	}
	if r.Type != gjson.String {
		return "", false, fmt.Errorf("failed to extract secret: secret value at path %q is not a string (got %s)", s.cfg.ResponsePath, r.Type)
	}
	return r.String(), false, nil
}

// tokenBucket lets a request through every interval, with burst requests at once.
type tokenBucket struct {
	mu       sync.Mutex
	interval time.Duration
	burst    float64
	tokens   float64
	last     time.Time
}

func newTokenBucket(interval time.Duration, burst int) *tokenBucket {
	return &tokenBucket{interval: interval, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// reserve takes a token and returns how long to wait before using it.
func (b *tokenBucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = math.Min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.interval))
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens * float64(b.interval))
}

func (b *tokenBucket) wait() {
	if d := b.reserve(time.Now()); d > 0 {
		time.Sleep(d)
	}
}
