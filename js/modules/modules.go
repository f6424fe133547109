// Package modules is pixelk6's extension SDK, shaped like xk6's: a JavaScript module is
// registered once under an import path ("k6/x/name") with a root value, and every VU gets its
// own instance of it. A third-party extension imports only this package (and its
// subpackages) and metrics, and is linked into a binary by a blank import whose init calls
// Register.
//
// Besides the module contract (Module, Instance, VU, State) it has what extensions need to
// behave like k6's own modules: SampleTags and WithSystemTag tag samples as k6 does,
// honouring options.systemTags; DecodeOptions reads a JavaScript options object into a
// tagged struct and rejects unknown keys; IsNullish tests for an omitted argument; Run scopes
// resources to one test run. Package modulestest runs a module on a fake VU with the
// runner's event loop, for tests; package eventloop is that loop.
package modules

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules/eventloop"
	"github.com/pixelk6/pixelk6/metrics"
)

// Module is a registered module's root value: one per process. NewModuleInstance is called
// once per VU (in the VU's init context) and must not block.
type Module interface {
	NewModuleInstance(vu VU) Instance
}

// Instance is a module's per-VU value.
type Instance interface {
	Exports() Exports
}

// Exports is what `import` sees: Default is the default export; Named are named exports.
// Either may be empty. Values are converted with the VU's runtime (goja's ToValue rules:
// methods of Go values are exposed with their first letter lowercased by the runtime's
// field-name mapper).
type Exports struct {
	Default any
	Named   map[string]any
}

// VU is what a module instance sees of the virtual user that owns it. All its methods must be
// called on the VU's goroutine, except RegisterCallback's returned function.
type VU interface {
	// Context is the VU's context: cancelled when the VU's current iteration must stop
	// (end of the test, graceful stop expiry, SIGINT). In the init context it is the
	// init context's.
	Context() context.Context
	// Runtime is the VU's JavaScript runtime.
	Runtime() *goja.Runtime
	// InitEnv is non-nil only while the init context runs (open() works only then).
	InitEnv() *InitEnvironment
	// State is nil in the init context and non-nil once iterations (or setup/teardown) run.
	State() *State
	// RegisterCallback reserves a slot on the VU's event loop, so that the iteration does
	// not end while an asynchronous operation (a Promise) is pending. It returns a function
	// that, called from any goroutine exactly once, queues f to run on the VU's goroutine
	// (f's error is an uncaught exception of the iteration). Must be called on the VU
	// goroutine.
	RegisterCallback() (enqueue func(f func() error))
	// HoldCallback reserves a lasting slot on the VU's event loop for something woken many
	// times (a socket): the iteration does not end until the slot's Release, and each
	// Wake, from any goroutine, queues f to run on the VU's goroutine (unless it is queued
	// already). It saves a RegisterCallback per wake-up. Must be called on the VU goroutine.
	HoldCallback(f func() error) *eventloop.Slot
}

// InitEnvironment is what the init context has that iterations do not.
type InitEnvironment struct {
	// CWD is the directory of the script file being initialised, for relative paths.
	CWD string
	// ReadFile reads a file relative to CWD (open() uses it).
	ReadFile func(path string) ([]byte, error)
	// Registry is the test run's metric registry, for custom metrics created in the init
	// context (k6/metrics). Filled by the runner.
	Registry *metrics.Registry
	// Run is the test run the VU belongs to, for resources shared by its VUs and released
	// when it ends. Filled by the runner.
	Run *Run
	// Secrets are the run's secret sources (--secret-source) for k6/secrets; nil when none
	// is configured.
	Secrets Secrets
}

// Secrets gives the secrets of the run's secret sources. Implementations are safe for
// concurrent use and redact every value they have handed out from the run's logs.
type Secrets interface {
	// Get returns the secret key of the named source ("default" for the default one).
	Get(source, key string) (string, error)
}

// State is the VU's state while it runs code outside init.
type State struct {
	// VUID is the VU's number (1-based, __VU); VUIDGlobal is unique across instances.
	VUID, VUIDGlobal uint64
	// Iteration is the VU's current iteration number in its scenario (__ITER), 0-based.
	Iteration int64
	// Scenario is the name of the scenario the VU is running ("default" for the shortcut options).
	Scenario string
	// Group is the current group path, "" at the top level, "::a::b" inside nested groups.
	Group string
	// Tags are the VU's current tags (system tags like scenario and group are added by the
	// modules that emit samples; script-level tags from options.tags, scenario tags and
	// vu.tags live here). Modules read it; k6/execution's vu.tags writes it.
	Tags *TagMap
	// Metadata is the VU's metadata (k6/execution's vu.metrics.metadata): high-cardinality
	// key/values added to the Metadata of every sample the VU emits (the JSON output's
	// "metadata"), never to its tags. The runner adds them as samples are pushed (it
	// makes an empty map when nil).
	Metadata *TagMap
	// Registry is the test run's metric registry; Builtin its k6 built-in metrics.
	Registry *metrics.Registry
	Builtin  *metrics.Builtin
	// Samples receives every sample the VU emits.
	Samples metrics.Pusher
	// HTTPClient is the VU's HTTP client (its own connection pool, k6's per-VU behaviour).
	HTTPClient *http.Client
	// Logger receives console output and module warnings (stderr, k6-like format).
	Logger Logger
	// Options are the test's consolidated options relevant to modules.
	Options Options
	// Bytes counts the bytes the VU wrote and read on the network since the iteration
	// started (for data_sent / data_received); HTTP and WebSocket connections add to it.
	Bytes *ByteCounter
	// Run is the test run the VU belongs to: resources its module instances share with the
	// run's other VUs live there and are released when the run ends. The runner fills it;
	// nil (a State built by hand) means the module must own such resources itself.
	Run *Run

	// The fields below feed k6/execution; js.Runner fills them from the engine (zero values
	// are tolerated).

	// ScenarioExecutor is the executor of the current scenario ("constant-vus", ...).
	ScenarioExecutor string
	// ScenarioStart is when the current scenario started.
	ScenarioStart time.Time
	// ScenarioIteration is the current iteration's number across all VUs of the scenario,
	// 0-based (scenario.iterationInInstance); set before each iteration.
	ScenarioIteration int64
	// TestIteration is the iteration's number in the scenario across all the instances of
	// a distributed run (scenario.iterationInTest); ScenarioIteration without execution
	// segments.
	TestIteration int64
	// ScenarioProgress returns the scenario's progress in [0, 1]; nil reads as 0.
	ScenarioProgress func() float64
	// Instance returns the run's current counters (k6/execution's instance.*); may be nil.
	Instance func() InstanceStats
	// TestOptions are the consolidated test options as JSON (exec.test.options); may be nil,
	// then the script's exported options are used.
	TestOptions []byte
	// Env holds extra __ENV entries for this VU: its scenario's `env`, from the engine's VUSpec,
	// set before NewVU; the bundle merges it over LoadOptions.Env (nil: none).
	Env map[string]string
	// MarkFailed marks the test run as failed (k6/execution's test.fail(reason)): it goes on
	// to its end and exits with code 110. nil: test.fail() only throws nothing and logs.
	MarkFailed func(reason string)
}

// InstanceStats are the counters k6/execution's `instance` object exposes.
type InstanceStats struct {
	VUsActive, VUsInitialized                  int64
	IterationsCompleted, IterationsInterrupted int64
	// Start is when the test run started (currentTestRunDuration = now - Start).
	Start time.Time
}

// ByteCounter counts network bytes; safe for concurrent use (connection pumps add to it).
type ByteCounter struct{ Sent, Received atomic.Int64 }

// Options are the consolidated test options that modules need.
type Options struct {
	HTTPDebug             string // "", "headers" or "full"
	InsecureSkipTLSVerify bool
	UserAgent             string
	NoCookiesReset        bool
	SystemTags            []string // nil means k6's default set

	// The HTTP client's options (k6/http; see its options.go for what each does).

	// MaxRedirects is how many redirects a request follows unless params.redirects says
	// otherwise; nil means k6's 10.
	MaxRedirects *int
	// MaxResponseBody limits a response body in bytes (pixelk6's --max-response-body): 0 is
	// k6/http's DefaultMaxResponseBody, negative is no limit.
	MaxResponseBody int64
	// DiscardResponseBodies makes responseType "none" the default (body null).
	DiscardResponseBodies bool
	// Throw makes a failed request (a network error, not an HTTP status) and an invalid URL
	// throw (options.throw, --throw).
	Throw bool
	// NoConnectionReuse closes every connection after its request; NoVUConnectionReuse
	// closes a VU's connections between its iterations.
	NoConnectionReuse, NoVUConnectionReuse bool
	// Hosts maps host names ("example.com", "*.example.com", "example.com:443") to an
	// address ("IP" or "IP:PORT"), checked before any DNS lookup.
	Hosts map[string]string
	// BlockHostnames are host name patterns ("example.com", "*.example.com") a request
	// must not reach; BlacklistIPs are IP ranges (CIDR) it must not connect to.
	BlockHostnames, BlacklistIPs []string
	// Batch and BatchPerHost bound http.batch's parallelism (0: k6's defaults, 20 and 6;
	// BatchPerHost 0 set explicitly is "no limit", see BatchPerHostSet).
	Batch, BatchPerHost int
	// BatchPerHostSet tells an explicit BatchPerHost 0 (no limit) from unset.
	BatchPerHostSet bool
	// RPS limits the requests per second of the whole run (all VUs); 0 is no limit.
	RPS int
	// TLSVersionMin and TLSVersionMax are the allowed TLS versions ("tls1.0" … "tls1.3",
	// "" for Go's defaults).
	TLSVersionMin, TLSVersionMax string
	// TLSCipherSuites are the allowed cipher suites by k6's names (TLS 1.2 and older).
	TLSCipherSuites []string
	// TLSAuth are client certificates, each for the domains it lists.
	TLSAuth []TLSAuth
	// LocalIPs are the local addresses VUs send from (--local-ips: IPs, ranges "A-B" and
	// CIDRs); VU n takes the n-th address, round robin.
	LocalIPs []string
	// DNS is k6's dns option; the zero value is Go's resolver at every new connection.
	DNS DNS
}

// DNS is k6's dns option: how long a lookup is cached (TTL: a duration, "inf", or "0" for
// no cache), which of a name's addresses a connection takes (Select: first, random or
// roundRobin) and which families (Policy: preferIPv4, preferIPv6, onlyIPv4, onlyIPv6, any).
// Empty fields are k6's defaults (5m, random, preferIPv4) once any is set.
type DNS struct {
	TTL, Select, Policy string
}

// TLSAuth is a client certificate (PEM) and its key for some domains (k6's tlsAuth).
type TLSAuth struct {
	Domains  []string `json:"domains"`
	Cert     string   `json:"cert"`
	Key      string   `json:"key"`
	Password string   `json:"password,omitempty"`
}

// Logger is the small logging interface modules get.
type Logger interface {
	Log(level, msg string) // level: "debug", "info", "warn", "error"
}

// TagMap is a VU's mutable set of tags. It is used by the VU goroutine only, but guarded so
// that outputs and progress may read it.
type TagMap struct {
	mu      sync.RWMutex
	tags    map[string]string
	version uint64
}

// NewTagMap returns a tag map holding a copy of m.
func NewTagMap(m map[string]string) *TagMap {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return &TagMap{tags: c}
}

// Set sets a tag.
func (t *TagMap) Set(k, v string) { t.mu.Lock(); t.tags[k] = v; t.version++; t.mu.Unlock() }

// Delete removes a tag.
func (t *TagMap) Delete(k string) { t.mu.Lock(); delete(t.tags, k); t.version++; t.mu.Unlock() }

// Version changes whenever the map changes, so users can cache what they derive from it.
func (t *TagMap) Version() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.version
}

// Get returns a tag's value.
func (t *TagMap) Get(k string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	v, ok := t.tags[k]
	return v, ok
}

// TagSet returns the current tags as an immutable set.
func (t *TagMap) TagSet() metrics.TagSet {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return metrics.NewTagSet(t.tags)
}

// Clone returns a copy of the map's contents.
func (t *TagMap) Clone() map[string]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := make(map[string]string, len(t.tags))
	for k, v := range t.tags {
		c[k] = v
	}
	return c
}

var registry = struct {
	sync.Mutex
	m map[string]registration
}{m: make(map[string]registration)}

// registration is a registered module and the Go package whose code registered it.
type registration struct {
	mod any
	pkg string
}

// Register makes mod importable as name. name must start with "k6/x/" for extensions (the
// built-in "k6" and "k6/..." modules are registered by pixelk6 itself). mod is either a
// Module (one Instance per VU) or any other value, which every VU gets as its default export.
// Register panics on a duplicate name, as xk6 does: it runs from init, so two extensions
// claiming one name stop the binary at start, and the message names both Go packages
// (`pixelk6 build` runs the binary it built, so it reports the clash at build time).
func Register(name string, mod any) {
	pkg := callerPackage(2)
	if !strings.HasPrefix(name, "k6") {
		panic(fmt.Sprintf("modules.Register(%q) in %s: module names start with k6/x/ (or k6/ for built-ins)", name, pkg))
	}
	registry.Lock()
	defer registry.Unlock()
	if prev, dup := registry.m[name]; dup {
		panic(fmt.Sprintf("modules.Register(%q) in %s: module already registered by %s", name, pkg, prev.pkg))
	}
	registry.m[name] = registration{mod: mod, pkg: pkg}
}

// callerPackage returns the import path of the package of the function skip frames up the
// stack ("" when unknown). A function's name is its package path, a dot, then the function
// ("github.com/acme/xk6-foo.init.0", "example.com/x.(*T).m").
func callerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return ""
	}
	f := runtime.FuncForPC(pc)
	if f == nil {
		return ""
	}
	return packageOf(f.Name())
}

// packageOf returns the package path of a fully qualified function name. The linker escapes
// the dots of a path's last element ("gopkg.in/yaml%2ev3.init"), so the first dot after the
// last slash ends the package path.
func packageOf(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		fn = fn[:slash+1+dot]
	}
	if p, err := url.PathUnescape(fn); err == nil {
		return p
	}
	return fn
}

// Lookup returns the module registered as name.
func Lookup(name string) (any, bool) {
	registry.Lock()
	defer registry.Unlock()
	r, ok := registry.m[name]
	return r.mod, ok
}

// Names returns the registered module names, sorted.
func Names() []string {
	registry.Lock()
	defer registry.Unlock()
	out := make([]string, 0, len(registry.m))
	for k := range registry.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Registration is a registered module's name and the import path of the Go package whose
// code called Register (its init, usually), from which `pixelk6 version` finds the Go module
// and version of an extension.
type Registration struct {
	Name, Package string
}

// Registrations returns every registered module, sorted by name.
func Registrations() []Registration {
	registry.Lock()
	defer registry.Unlock()
	out := make([]Registration, 0, len(registry.m))
	for k, r := range registry.m {
		out = append(out, Registration{Name: k, Package: r.pkg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
