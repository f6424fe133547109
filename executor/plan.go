package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Default values of k6's scenario fields.
const (
	DefaultGracefulStop     = 30 * time.Second
	DefaultGracefulRampDown = 30 * time.Second
	DefaultMaxDuration      = 10 * time.Minute
	DefaultExec             = "default"
	DefaultScenarioName     = "default"
)

// Step is one point of a plan: from Offset (since the scenario's start) on, VUs VUs run.
type Step struct {
	Offset time.Duration
	VUs    int
}

// Plan is what an executor does, as data. The engine walks it: it keeps Steps' VU counts
// running until Duration, stops starting iterations then, and interrupts iterations still
// running GracefulStop later.
type Plan struct {
	// Steps are the VU targets in ascending Offset order; the first is at offset 0.
	Steps []Step
	// Duration is when the scenario stops starting iterations (for iteration-based
	// executors: maxDuration, unless the iterations finish first).
	Duration time.Duration
	// GracefulStop is how long iterations running at Duration may go on before they are
	// interrupted.
	GracefulStop time.Duration
	// GracefulRampDown is how long a VU removed by a decreasing step may finish its
	// iteration before it is interrupted (ramping-vus only; 0 otherwise).
	GracefulRampDown time.Duration
	// MaxVUs is the largest VU count of the plan: the VUs to initialise.
	MaxVUs int
	// PerVUIterations, when > 0, is the number of iterations each VU runs (per-vu-iterations).
	PerVUIterations int64
	// SharedIterations, when > 0, is the number of iterations all VUs share (shared-iterations).
	SharedIterations int64
	// Arrival, for the arrival-rate executors, is the schedule of iteration starts; Steps
	// are then empty: VUs run iterations only when the schedule hands them one.
	Arrival *Schedule
	// PreAllocatedVUs are the VUs of an arrival-rate executor initialised before the
	// start; the others, up to MaxVUs, are initialised during the test when needed.
	PreAllocatedVUs int
	// Stripe, for an arrival-rate executor run on an execution segment, says which of
	// Arrival's starts are this instance's (its n-th is Arrival's Stripe.Global(n)-th);
	// nil for the whole test.
	Stripe *Tuple
	// IterationStripe numbers the scenario's iterations in the whole test: this instance's
	// n-th is the test's IterationStripe.Global(n)-th (k6/execution's
	// scenario.iterationInTest); nil for the whole test.
	IterationStripe *Tuple
	// Idle is set when the execution segment leaves the scenario no work (no VU, or no
	// iteration): the engine does not run it, as k6 does not.
	Idle bool
}

// Starts is the number of iterations an arrival-rate plan starts: its share of the
// schedule's total (0 for the other executors).
func (p Plan) Starts() int64 {
	if p.Arrival == nil {
		return 0
	}
	return p.Stripe.Scale(p.Arrival.Total())
}

// StartOffset is when an arrival-rate plan's n-th start (0-based, n < Starts()) is due,
// from the scenario's start: the time of the whole schedule's matching start, so that the
// instances of a segmented test together start exactly the whole schedule.
func (p Plan) StartOffset(n int64) (time.Duration, bool) {
	return p.Arrival.Offset(p.Stripe.Global(n))
}

// InitialVUs are the VUs to initialise before the test starts: PreAllocatedVUs for the
// arrival-rate executors, MaxVUs for the others.
func (p Plan) InitialVUs() int {
	if p.Arrival != nil {
		return p.PreAllocatedVUs
	}
	return p.MaxVUs
}

// MaxDuration is the longest the scenario can run: Duration plus GracefulStop.
func (p Plan) MaxDuration() time.Duration { return p.Duration + p.GracefulStop }

// VUsAt returns the plan's VU target at offset t (0 before the first step).
func (p Plan) VUsAt(t time.Duration) int {
	v := 0
	for _, s := range p.Steps {
		if s.Offset > t {
			break
		}
		v = s.VUs
	}
	return v
}

// Config is one scenario's executor configuration.
type Config interface {
	// Base returns the fields every executor has (name, startTime, exec, env, tags, ...).
	Base() *BaseConfig
	// Validate reports the first invalid field, naming it and its value.
	Validate() error
	// Plan computes the executor's plan. It is valid only for a validated config.
	Plan() Plan
	// Describe is the banner's line for the scenario, as k6 prints it, without the name,
	// e.g. "5 looping VUs for 5s (gracefulStop: 30s)".
	Describe() string
}

// BaseConfig holds the fields every k6 scenario has.
type BaseConfig struct {
	Name         string            `json:"-"`
	Executor     string            `json:"executor"`
	StartTime    Duration          `json:"startTime"`
	GracefulStop *Duration         `json:"gracefulStop"`
	Exec         string            `json:"exec"`
	Env          map[string]string `json:"env"`
	Tags         map[string]string `json:"tags"`
	// Segment is the execution segment the scenario runs on (set by SetSegment); nil is
	// the whole test. Plan and Describe give the segment's share.
	Segment *Tuple `json:"-"`
}

// SetSegment makes every scenario of cs run its share of the execution segment t (nil:
// the whole test).
func SetSegment(cs []Config, t *Tuple) {
	for _, c := range cs {
		c.Base().Segment = t
	}
}

// scale is the segment's share of v.
func (b *BaseConfig) scale(v int64) int64 { return b.Segment.Scale(v) }

// Base implements Config.
func (b *BaseConfig) Base() *BaseConfig { return b }

// GracefulStopOrDefault returns gracefulStop, 30s when unset.
func (b *BaseConfig) GracefulStopOrDefault() time.Duration {
	if b.GracefulStop == nil {
		return DefaultGracefulStop
	}
	return b.GracefulStop.D()
}

// ExecOrDefault returns exec, "default" when unset.
func (b *BaseConfig) ExecOrDefault() string {
	if b.Exec == "" {
		return DefaultExec
	}
	return b.Exec
}

const executorNames = "constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate or ramping-arrival-rate"

var scenarioNameRE = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

func (b *BaseConfig) validate() error {
	if !scenarioNameRE.MatchString(b.Name) {
		return fmt.Errorf("scenario name %q: use only letters, digits, '_' and '-'", b.Name)
	}
	if b.StartTime < 0 {
		return fmt.Errorf("scenario %q: startTime %q must not be negative", b.Name, b.StartTime)
	}
	if b.GracefulStop != nil && *b.GracefulStop < 0 {
		return fmt.Errorf("scenario %q: gracefulStop %q must not be negative", b.Name, *b.GracefulStop)
	}
	return nil
}

// extras returns the banner's trailing details shared by all executors.
func (b *BaseConfig) extras(first ...string) string {
	parts := append([]string(nil), first...)
	if b.StartTime > 0 {
		parts = append([]string{"startTime: " + b.StartTime.String()}, parts...)
	}
	parts = append(parts, "gracefulStop: "+b.GracefulStopOrDefault().String())
	if b.ExecOrDefault() != DefaultExec {
		parts = append(parts, "exec: "+b.ExecOrDefault())
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// ParseScenario parses one scenario's JSON config (the value under options.scenarios[name])
// and validates it.
func ParseScenario(name string, raw json.RawMessage) (Config, error) {
	var head struct {
		Executor string `json:"executor"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	}
	var c Config
	switch head.Executor {
	case "constant-vus":
		c = &ConstantVUs{}
	case "ramping-vus":
		c = &RampingVUs{}
	case "per-vu-iterations":
		c = &PerVUIterations{}
	case "shared-iterations":
		c = &SharedIterations{}
	case "constant-arrival-rate":
		c = &ConstantArrivalRate{}
	case "ramping-arrival-rate":
		c = &RampingArrivalRate{}
	case "":
		return nil, fmt.Errorf("scenario %q: missing executor (want %s)", name, executorNames)
	default:
		return nil, fmt.Errorf("scenario %q: unsupported executor %q (want %s)", name, head.Executor, executorNames)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	}
	c.Base().Name = name
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseScenarios parses options.scenarios (an object of name → config), sorted by name.
func ParseScenarios(raw json.RawMessage) ([]Config, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("invalid scenarios: %w", err)
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Config, 0, len(m))
	for _, n := range names {
		c, err := ParseScenario(n, m[n])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Shortcuts are k6's execution shortcut options. A nil field is unset.
type Shortcuts struct {
	VUs        *int64
	Duration   *Duration
	Iterations *int64
	Stages     []Stage
}

// FromShortcuts derives the "default" scenario from k6's shortcut options:
// iterations (+vus, +duration as maxDuration) → shared-iterations; duration (+vus) →
// constant-vus; stages (+vus as startVUs) → ramping-vus; nothing → per-vu-iterations with
// vus VUs (default 1) doing 1 iteration each. Conflicting shortcuts are an error.
func FromShortcuts(s Shortcuts) (Config, error) {
	vus := int64(1)
	if s.VUs != nil {
		vus = *s.VUs
	}
	base := BaseConfig{Name: DefaultScenarioName}
	var c Config
	switch {
	case s.Iterations != nil && s.Stages != nil:
		return nil, fmt.Errorf("using iterations (%d) and stages (%d stages) together is not allowed", *s.Iterations, len(s.Stages))
	case s.Iterations != nil:
		base.Executor = "shared-iterations"
		si := &SharedIterations{BaseConfig: base, IterationCounts: IterationCounts{VUs: &vus, Iterations: s.Iterations}}
		if s.Duration != nil {
			si.MaxDuration = s.Duration
		}
		c = si
	case s.Duration != nil && s.Stages != nil:
		return nil, fmt.Errorf("using duration (%s) and stages (%d stages) together is not allowed", *s.Duration, len(s.Stages))
	case s.Duration != nil:
		if *s.Duration <= 0 {
			return nil, fmt.Errorf("invalid duration %q: must be more than 0 (an endless test is not supported)", *s.Duration)
		}
		base.Executor = "constant-vus"
		c = &ConstantVUs{BaseConfig: base, VUs: &vus, Duration: *s.Duration}
	case s.Stages != nil:
		base.Executor = "ramping-vus"
		c = &RampingVUs{BaseConfig: base, StartVUs: &vus, Stages: s.Stages}
	default:
		base.Executor = "per-vu-iterations"
		one := int64(1)
		c = &PerVUIterations{BaseConfig: base, IterationCounts: IterationCounts{VUs: &vus, Iterations: &one}}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Summary is the banner's scenarios line: total max VUs and max duration over configs,
// counting each scenario's startTime.
func Summary(cs []Config) (maxVUs int, maxDuration time.Duration) {
	for _, c := range cs {
		p := c.Plan()
		maxVUs += p.MaxVUs
		if d := c.Base().StartTime.D() + p.MaxDuration(); d > maxDuration {
			maxDuration = d
		}
	}
	return maxVUs, maxDuration
}

func checkVUs(name, field string, v *int64, def int64, min int64) (int64, error) {
	n := def
	if v != nil {
		n = *v
	}
	if n < min || n > maxVUs {
		return 0, fmt.Errorf("scenario %q: %s %d must be in [%d, %d]", name, field, n, min, maxVUs)
	}
	return n, nil
}
