package simulator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Exit codes of Run.
const (
	ExitOK    = 0 // stopped by a signal, the context or --max-life
	ExitError = 1 // could not listen or serve
	ExitUsage = 2 // bad flags
)

// Run is the pixelsim command line: it parses args, serves until ctx is cancelled or
// --max-life elapses, shuts down gracefully and returns the exit code. The first line on
// stdout is "pixelsim listening on http://HOST:PORT" once the listener is open.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "pixelsim: %s\n", line)
		}
		return ExitUsage
	}
	srv, err := New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pixelsim: %v\n", err)
		return ExitUsage
	}
	url, err := srv.Start(opts.addr)
	if err != nil {
		fmt.Fprintf(stderr, "pixelsim: %v\n", err)
		srv.Close()
		return ExitError
	}
	fmt.Fprintf(stdout, "pixelsim listening on %s\n", url)
	if opts.grpcAddr != "" {
		addr, err := srv.StartGRPC(opts.grpcAddr)
		if err != nil {
			fmt.Fprintf(stderr, "pixelsim: %v\n", err)
			srv.Close()
			return ExitError
		}
		fmt.Fprintf(stdout, "pixelsim gRPC listening on %s (%s, reflection, health)\n", addr, GRPCService)
	}
	fmt.Fprintf(stdout, "pixelsim config: latency=%s capacity=%d queue=%d error-rate=%g slow-rate=%g stall-rate=%g drop-rate=%g\n",
		cfg.Latency, cfg.Capacity, cfg.QueueLimit, cfg.Faults.ErrorRate, cfg.Faults.SlowRate, cfg.Faults.StallRate, cfg.Faults.DropRate)
	if opts.maxLife > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.maxLife)
		defer cancel()
	}
	<-ctx.Done()
	reason := "signal"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		reason = "max-life reached"
	}
	fmt.Fprintf(stdout, "pixelsim shutting down (%s)\n", reason)
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "pixelsim: %v\n", err)
		return ExitError
	}
	st := srv.Stats()
	fmt.Fprintf(stdout, "pixelsim served %d requests (%d inferences, %d WebSocket sessions, %d gRPC inferences)\n",
		st.RequestsTotal, st.InferTotal+st.WSInferences, st.WSSessionsTotal, st.GRPCInferences+st.GRPCStreamInferences)
	return ExitOK
}

type cliOptions struct {
	addr string
	// grpcAddr is where the gRPC endpoint listens; "" is no gRPC endpoint.
	grpcAddr string
	public   bool
	maxLife  time.Duration
}

// latencyFlag adapts Latency to flag.Value.
type latencyFlag struct{ l *Latency }

func (f latencyFlag) String() string {
	if f.l == nil {
		return ""
	}
	return f.l.String()
}

func (f latencyFlag) Set(s string) error {
	l, err := ParseLatency(s)
	if err != nil {
		return err
	}
	*f.l = l
	return nil
}

// newFlagSet defines pixelsim's flags over cfg and opts.
func newFlagSet(cfg *Config, opts *cliOptions, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pixelsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pixelsim [flags]\n\nA reference Pixelated Empathy API with a latency model, known-answer labels and fault injection.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.addr, "addr", opts.addr, "listen address (host:port; port 0 picks a free one)")
	fs.StringVar(&opts.grpcAddr, "grpc-addr", "", "also serve gRPC (pixel.v1.Inference, reflection, health) on this address (host:port; empty: no gRPC)")
	fs.BoolVar(&opts.public, "public", false, "allow a non-loopback --addr")
	fs.DurationVar(&opts.maxLife, "max-life", 0, "stop after this long (0: run until SIGINT/SIGTERM)")
	fs.Var(latencyFlag{&cfg.Latency}, "latency", `model latency: "0", "fixed:50ms" (or "50ms"), "lognormal:MEDIAN,P99"`)
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed of latencies and faults")
	fs.IntVar(&cfg.Capacity, "capacity", cfg.Capacity, fmt.Sprintf("concurrent model workers, 0 to %d (0: unlimited)", MaxCapacity))
	fs.IntVar(&cfg.QueueLimit, "queue", cfg.QueueLimit, fmt.Sprintf("inferences that may wait for a worker before refusals, 0 to %d", MaxCapacity))
	fs.IntVar(&cfg.RejectStatus, "reject-status", 429, "status of a refused inference: 429 or 503")
	fs.StringVar(&cfg.Model, "model", "pixel-sim-1", "model name reported in responses (not empty)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body", 1<<20, fmt.Sprintf("largest request body in bytes, 1 to %d (413 beyond)", MaxBytesLimit))
	fs.Float64Var(&cfg.Faults.ErrorRate, "error-rate", 0, "fraction ∈ [0,1] of REST inferences that fail")
	fs.IntVar(&cfg.Faults.ErrorStatus, "error-status", 500, "status of an injected failure: 4xx or 5xx")
	fs.Float64Var(&cfg.Faults.SlowRate, "slow-rate", 0, "fraction ∈ [0,1] of inferences in the slow tail")
	fs.DurationVar(&cfg.Faults.SlowExtra, "slow-extra", 500*time.Millisecond, "extra latency of the slow tail (not negative)")
	fs.Float64Var(&cfg.Faults.StallRate, "stall-rate", 0, "fraction ∈ [0,1] of inferences that stall")
	fs.DurationVar(&cfg.Faults.StallFor, "stall-for", 0, "how long a stall lasts (0: until the client gives up; not negative)")
	fs.Float64Var(&cfg.Faults.DropRate, "drop-rate", 0, "fraction ∈ [0,1] of WebSocket sessions dropped abruptly")
	fs.Int64Var(&cfg.WS.ReadLimit, "ws-read-limit", 64<<10, fmt.Sprintf("largest WebSocket message in bytes, 1 to %d (close 1009 beyond)", MaxBytesLimit))
	fs.Int64Var(&cfg.WS.TextBudget, "ws-text-budget", DefaultTextBudget, "bytes of text all WebSocket sessions together may buffer, positive (close 1013 beyond)")
	fs.DurationVar(&cfg.WS.IdleTimeout, "ws-idle-timeout", 60*time.Second, "close a WebSocket session idle this long (positive)")
	fs.DurationVar(&cfg.WS.PongWait, "ws-pong-wait", 60*time.Second, "WebSocket keepalive: wait this long for a pong, pings every 9/10 of it (positive)")
	fs.IntVar(&cfg.WS.Loops, "ws-loops", 1, fmt.Sprintf("event loops (OS threads) that run the WebSocket sessions, 1 to %d: max(64, 4×GOMAXPROCS)", MaxWSLoops()))
	return fs
}

// flagOfField names the flag of each Config field the command line sets.
var flagOfField = map[string]string{
	"Latency":            "latency",
	"Capacity":           "capacity",
	"QueueLimit":         "queue",
	"RejectStatus":       "reject-status",
	"Model":              "model",
	"MaxBodyBytes":       "max-body",
	"Faults.ErrorRate":   "error-rate",
	"Faults.ErrorStatus": "error-status",
	"Faults.SlowRate":    "slow-rate",
	"Faults.SlowExtra":   "slow-extra",
	"Faults.StallRate":   "stall-rate",
	"Faults.StallFor":    "stall-for",
	"Faults.DropRate":    "drop-rate",
	"WS.ReadLimit":       "ws-read-limit",
	"WS.TextBudget":      "ws-text-budget",
	"WS.IdleTimeout":     "ws-idle-timeout",
	"WS.PongWait":        "ws-pong-wait",
	"WS.Loops":           "ws-loops",
}

// flagErrors restates Config.validate's errors in terms of the flags: "--capacity -1: ...".
func flagErrors(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		if ce, ok := e.(*ConfigError); ok && flagOfField[ce.Field] != "" {
			e = fmt.Errorf("--%s %s: %s", flagOfField[ce.Field], ce.Value, ce.Reason)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// parseFlags parses and checks the command line. On the command line a zero is taken as
// typed: where Config would replace it with a default (--max-body 0, --ws-loops 0), it is
// refused instead.
func parseFlags(args []string, stderr io.Writer) (Config, cliOptions, error) {
	cfg := DefaultConfig()
	opts := cliOptions{addr: DefaultAddr}
	fs := newFlagSet(&cfg, &opts, stderr)
	if err := fs.Parse(args); err != nil {
		return cfg, opts, err
	}
	if fs.NArg() > 0 {
		return cfg, opts, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if opts.maxLife < 0 {
		return cfg, opts, fmt.Errorf("--max-life %s: must not be negative", opts.maxLife)
	}
	if err := checkAddr("addr", opts.addr, opts.public); err != nil {
		return cfg, opts, err
	}
	if opts.grpcAddr != "" {
		if err := checkAddr("grpc-addr", opts.grpcAddr, opts.public); err != nil {
			return cfg, opts, err
		}
	}
	typed := func(field string) bool { return flagOfField[field] == "" } // a zero in a flag was typed
	if err := cfg.validate(typed); err != nil {
		return cfg, opts, flagErrors(err)
	}
	return cfg, opts, nil
}

// checkAddr refuses a non-loopback listen address of the flag --name unless public is set.
func checkAddr(name, addr string, public bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--%s %q: %w", name, addr, err)
	}
	if public {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--%s %q is not a loopback address; add --public to listen on it", name, addr)
	}
	return nil
}
