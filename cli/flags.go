package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pixelk6/pixelk6/executor"
	httpmod "github.com/pixelk6/pixelk6/js/modules/k6/http"
)

// runFlags are `pixelk6 run`'s flags.
type runFlags struct {
	vus              int64
	duration         string
	iterations       int64
	stages           []string
	env              []string
	tags             []string
	noThresholds     bool
	out              []string
	summaryExport    string
	summaryMode      string
	noSummary        bool
	trendStats       string
	timeUnit         string
	quiet            bool
	noColor          bool
	httpDebug        string
	insecure         bool
	includeSystemEnv bool
	userAgent        string
	logOutput        string
	verbose          bool
	noSetup          bool
	linger           bool
	profiling        bool
	paused           bool
	address          string
	noTeardown       bool
	systemTags       string
	consoleOutput    string
	logFormat        string
	config           string
	compatMode       string
	typ              string
	noUsageReport    bool
	minIterDuration  string
	segment          string
	segmentSequence  string
	secretSources    []string
	http             httpFlags
}

// httpFlags are the HTTP client's flags.
type httpFlags struct {
	maxRedirects, batch, batchPerHost, rps, maxBody  int64
	discardBodies, throw, noConnReuse, noVUConnReuse bool
	blockHostnames, blacklistIPs, localIPs           []string
	dns                                              string
}

func (f *httpFlags) register(fs *pflag.FlagSet) {
	fs.Int64Var(&f.rps, "rps", 0, "limit the requests per second of the whole test (0: no limit)")
	fs.Int64Var(&f.batch, "batch", 20, "the most requests of one http.batch call in flight at once")
	fs.Int64Var(&f.batchPerHost, "batch-per-host", 6, "the most requests of one http.batch call in flight to one host (0: no limit)")
	fs.Int64Var(&f.maxRedirects, "max-redirects", 10, "the most redirects a request follows")
	fs.Int64Var(&f.maxBody, "max-response-body", 512<<20, "pixelk6's own: the largest response body kept, in bytes (beyond it the body is truncated with error_code 1000; -1: no limit)")
	fs.BoolVar(&f.noConnReuse, "no-connection-reuse", false, "a new connection for every request")
	fs.BoolVar(&f.noVUConnReuse, "no-vu-connection-reuse", false, "no connection outlives the iteration that opened it")
	fs.BoolVar(&f.discardBodies, "discard-response-bodies", false, "read and discard response bodies (body is null unless params.responseType says otherwise)")
	fs.BoolVarP(&f.throw, "throw", "w", false, "a failed request (a network error) throws")
	fs.StringSliceVar(&f.blockHostnames, "block-hostnames", nil, "refuse requests to these host names (a leading * matches subdomains), comma-separated")
	fs.StringSliceVar(&f.blacklistIPs, "blacklist-ip", nil, "refuse connections to these IP ranges (CIDR), comma-separated")
	fs.StringSliceVar(&f.localIPs, "local-ips", nil, "local IPs, ranges (A-B) and CIDRs the VUs send from, round robin by VU, comma-separated")
	fs.StringVar(&f.dns, "dns", "", "DNS resolution: ttl=5m,select=random|first|roundRobin,policy=preferIPv4|preferIPv6|onlyIPv4|onlyIPv6|any")
}

// options adds the given HTTP flags to o.
func (f *httpFlags) options(ch func(string) bool, o *options) error {
	for _, n := range []struct {
		name string
		val  int64
		dst  **int64
	}{{"rps", f.rps, &o.RPS}, {"batch", f.batch, &o.Batch}, {"batch-per-host", f.batchPerHost, &o.BatchPerHost}, {"max-redirects", f.maxRedirects, &o.MaxRedirects}, {"max-response-body", f.maxBody, &o.MaxResponseBody}} {
		if ch(n.name) {
			v := n.val
			*n.dst = &v
		}
	}
	for _, b := range []struct {
		name string
		val  bool
		dst  **bool
	}{{"no-connection-reuse", f.noConnReuse, &o.NoConnectionReuse}, {"no-vu-connection-reuse", f.noVUConnReuse, &o.NoVUConnectionReuse},
		{"discard-response-bodies", f.discardBodies, &o.DiscardResponseBodies}, {"throw", f.throw, &o.Throw}} {
		if ch(b.name) {
			v := b.val
			*b.dst = &v
		}
	}
	if ch("block-hostnames") {
		o.BlockHostnames = append([]string{}, f.blockHostnames...)
	}
	if ch("blacklist-ip") {
		o.BlacklistIPs = append([]string{}, f.blacklistIPs...)
	}
	if ch("local-ips") {
		o.LocalIPs = append([]string{}, f.localIPs...)
	}
	if ch("dns") {
		d, err := httpmod.ParseDNS(f.dns)
		if err != nil {
			return fmt.Errorf("invalid --dns: %w", err)
		}
		o.DNS = dnsFromModule(d)
	}
	return nil
}

func (f *runFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.Int64VarP(&f.vus, "vus", "u", 1, "number of virtual users")
	fs.StringVarP(&f.duration, "duration", "d", "", "test duration, e.g. 30s, 1m30s")
	fs.Int64VarP(&f.iterations, "iterations", "i", 0, "number of iterations, shared among the VUs")
	fs.StringArrayVarP(&f.stages, "stage", "s", nil, "add a stage DURATION:TARGET, e.g. 30s:10 (repeatable, or comma-separated)")
	fs.StringArrayVarP(&f.env, "env", "e", nil, "add an environment variable KEY=VALUE for the script's __ENV (repeatable)")
	fs.StringArrayVar(&f.tags, "tag", nil, "add a tag KEY=VALUE to every sample (repeatable)")
	fs.BoolVar(&f.noThresholds, "no-thresholds", false, "do not evaluate thresholds")
	fs.StringArrayVarP(&f.out, "out", "o", nil, "write samples to an output: json=FILE, csv=FILE, web-dashboard (repeatable)")
	fs.StringVar(&f.summaryExport, "summary-export", "", "write the end-of-test summary as JSON to FILE")
	fs.StringVar(&f.summaryMode, "summary-mode", "compact", "end-of-test summary: compact, full or disabled")
	fs.BoolVar(&f.noSummary, "no-summary", false, "do not print the end-of-test summary")
	fs.StringVar(&f.trendStats, "summary-trend-stats", "", "trend statistics in the summary, e.g. avg,min,med,max,p(90),p(95)")
	fs.StringVar(&f.timeUnit, "summary-time-unit", "", "time unit of the summary's trend values: s, ms or us")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no banner and no progress")
	fs.BoolVar(&f.noColor, "no-color", false, "no colours in the output")
	fs.StringVar(&f.httpDebug, "http-debug", "", "log HTTP requests and responses; =full adds the bodies")
	fs.Lookup("http-debug").NoOptDefVal = "headers"
	fs.BoolVar(&f.insecure, "insecure-skip-tls-verify", false, "do not verify TLS certificates")
	fs.BoolVar(&f.includeSystemEnv, "include-system-env-vars", true, "pass the process environment to the script's __ENV")
	fs.StringVar(&f.userAgent, "user-agent", "", "the HTTP User-Agent header")
	fs.StringVar(&f.logOutput, "log-output", "", "where logs go: stderr, stdout, none or file=PATH[,level=LEVEL]")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages")
	fs.BoolVar(&f.noSetup, "no-setup", false, "do not run setup()")
	fs.BoolVar(&f.profiling, "profiling-enabled", false, "serve Go's pprof profiles on the REST API's /debug/pprof/ (needs --address)")
	fs.BoolVarP(&f.linger, "linger", "l", false, "after the test and its summary, keep running (and serving the REST API) until interrupted (Ctrl+C)")
	fs.BoolVarP(&f.paused, "paused", "p", false, "initialise the VUs, then wait to be resumed through the REST API")
	fs.StringVarP(&f.address, "address", "a", "", "serve k6's REST API on this address, e.g. localhost:6565 (empty: off, as in k6 v2)")
	fs.BoolVar(&f.noTeardown, "no-teardown", false, "do not run teardown()")
	fs.StringVar(&f.systemTags, "system-tags", "", "only these system tags on samples, comma-separated")
	fs.StringVar(&f.consoleOutput, "console-output", "", "write console.* output to FILE instead of the log")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text, json or raw")
	fs.StringVar(&f.logFormat, "logformat", "", "deprecated spelling of --log-format")
	_ = fs.MarkDeprecated("logformat", "use --log-format")
	fs.StringVarP(&f.config, "config", "c", "", "k6's JSON config file (the config-file tier of options)")
	fs.StringVar(&f.compatMode, "compatibility-mode", "", "JavaScript compatibility mode: extended, base or experimental_enhanced (pixelk6 transpiles every mode with esbuild)")
	fs.StringVarP(&f.typ, "type", "t", "", "test type: js or archive (default: an archive when the file is one)")
	fs.BoolVar(&f.noUsageReport, "no-usage-report", false, "accepted: pixelk6 never sends a usage report")
	fs.StringVar(&f.minIterDuration, "min-iteration-duration", "", "the shortest time a VU spends on an iteration, e.g. 1s")
	fs.StringVar(&f.segment, "execution-segment", "", "run only this segment of the test, e.g. 10%, 1/3, 0.2:2/3 (for a distributed run)")
	fs.StringVar(&f.segmentSequence, "execution-segment-sequence", "", "the segments of all instances of a distributed run, as points, e.g. 0,1/3,2/3,1")
	fs.StringArrayVar(&f.secretSources, "secret-source", nil, "a secret source for k6/secrets: file=PATH or mock=KEY=VALUE,... (add name=NAME and default; repeatable)")
	f.http.register(fs)
	registerRefused(fs)
}

// registerRefused adds the `k6 run` flags pixelk6 does not honour yet, from supportTable,
// so that they parse as in k6 and refusedFlags can name them.
func registerRefused(fs *pflag.FlagSet) {
	for _, s := range supportTable {
		if s.OK || s.Flag == "" {
			continue
		}
		usage := "not supported by pixelk6 yet: " + s.Note
		if s.Bool {
			fs.BoolP(s.Flag, s.Short, false, usage)
		} else {
			fs.StringArrayP(s.Flag, s.Short, nil, usage)
		}
	}
}

// refusedFlags returns the refused flags that were given with a value other than their
// "off" one, as "--name".
func refusedFlags(fs *pflag.FlagSet) []string {
	var out []string
	for _, s := range supportTable {
		if s.OK || s.Flag == "" || !fs.Changed(s.Flag) {
			continue
		}
		if s.Bool {
			if v, _ := fs.GetBool(s.Flag); !v {
				continue
			}
		} else {
			vals, _ := fs.GetStringArray(s.Flag)
			off := true
			for _, v := range vals {
				if !offValue(s, v) {
					off = false
				}
			}
			if off {
				continue
			}
		}
		out = append(out, "--"+s.Flag)
	}
	return out
}

// options returns the command line's tier of options: only the flags that were given.
// On an error, the tier returned still holds LogOutput, so that the error can be logged;
// on a refusal (a *refusedError) the tier is complete.
func (f *runFlags) options(cmd *cobra.Command) (options, error) {
	var o options
	ch := cmd.Flags().Changed
	if f.logOutput != "" {
		v := f.logOutput
		o.LogOutput = &v
	}
	if ch("log-format") || ch("logformat") {
		v := f.logFormat
		o.LogFormat = &v
	}
	for _, b := range []struct {
		name string
		val  bool
		dst  **bool
	}{{"linger", f.linger, &o.Linger}, {"profiling-enabled", f.profiling, &o.Profiling}, {"paused", f.paused, &o.Paused}, {"no-setup", f.noSetup, &o.NoSetup}, {"no-teardown", f.noTeardown, &o.NoTeardown}, {"include-system-env-vars", f.includeSystemEnv, &o.IncludeSystemEnv}} {
		if ch(b.name) {
			v := b.val
			*b.dst = &v
		}
	}
	for _, s := range []struct {
		name string
		val  string
		dst  **string
	}{{"address", f.address, &o.Address}, {"console-output", f.consoleOutput, &o.ConsoleOutput}, {"compatibility-mode", f.compatMode, &o.CompatibilityMode}, {"type", f.typ, &o.Type}} {
		if ch(s.name) {
			v := s.val
			*s.dst = &v
		}
	}
	if ch("system-tags") {
		o.SystemTags = splitList(f.systemTags)
		if o.SystemTags == nil {
			o.SystemTags = []string{}
		}
	}
	if ch("vus") {
		if f.vus < 0 {
			return o, fmt.Errorf("invalid --vus %d: must not be negative", f.vus)
		}
		v := f.vus
		o.VUs = &v
	}
	if ch("duration") {
		d, err := executor.ParseDuration(f.duration)
		if err != nil {
			return o, fmt.Errorf("invalid --duration: %w", err)
		}
		x := executor.Duration(d)
		o.Duration = &x
	}
	if ch("iterations") {
		if f.iterations < 0 {
			return o, fmt.Errorf("invalid --iterations %d: must not be negative", f.iterations)
		}
		v := f.iterations
		o.Iterations = &v
	}
	if ch("stage") {
		o.Stages = []executor.Stage{}
		for _, s := range f.stages {
			st, err := executor.ParseStages(s)
			if err != nil {
				return o, fmt.Errorf("invalid --stage: %w", err)
			}
			o.Stages = append(o.Stages, st...)
		}
	}
	for _, s := range []struct {
		name, val string
		dst       **string
	}{{"execution-segment", f.segment, &o.ExecutionSegment}, {"execution-segment-sequence", f.segmentSequence, &o.ExecutionSegmentSequence}} {
		if ch(s.name) {
			v := s.val
			*s.dst = &v
		}
	}
	if ch("min-iteration-duration") {
		d, err := executor.ParseDuration(f.minIterDuration)
		if err != nil {
			return o, fmt.Errorf("invalid --min-iteration-duration: %w", err)
		}
		x := executor.Duration(d)
		o.MinIterationDuration = &x
	}
	if ch("tag") {
		o.Tags = map[string]string{}
		for _, kv := range f.tags {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return o, fmt.Errorf("invalid --tag %q: want KEY=VALUE", kv)
			}
			o.Tags[k] = v
		}
	}
	if ch("no-thresholds") {
		b := f.noThresholds
		o.NoThresholds = &b
	}
	if ch("summary-trend-stats") {
		o.SummaryTrendStats = []string{}
		for _, s := range strings.Split(f.trendStats, ",") {
			if s = strings.TrimSpace(s); s != "" {
				o.SummaryTrendStats = append(o.SummaryTrendStats, s)
			}
		}
	}
	if ch("summary-time-unit") {
		u := f.timeUnit
		o.SummaryTimeUnit = &u
	}
	if ch("http-debug") {
		h := f.httpDebug
		o.HTTPDebug = &h
	}
	if ch("insecure-skip-tls-verify") {
		b := f.insecure
		o.InsecureSkipTLSVerify = &b
	}
	if ch("user-agent") {
		u := f.userAgent
		o.UserAgent = &u
	}
	if err := f.http.options(ch, &o); err != nil {
		return o, err
	}
	if ch("summary-mode") {
		m := f.summaryMode
		o.SummaryMode = &m
	}
	// --no-summary and --no-color only switch on; --summary-export and --out only count
	// when given a value (an empty one leaves the environment's).
	yes := true
	if f.noSummary {
		o.NoSummary = &yes
	}
	if f.noColor {
		o.NoColor = &yes
	}
	if f.summaryExport != "" {
		e := f.summaryExport
		o.SummaryExport = &e
	}
	if len(f.out) > 0 {
		o.Out = f.out
	}
	// Last, so that the tier is complete when the caller gathers refusals.
	if refused := refusedFlags(cmd.Flags()); len(refused) > 0 {
		return o, refusal("command line", refused)
	}
	return o, nil
}
