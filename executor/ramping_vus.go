package executor

import (
	"fmt"
	"time"
)

// RampingVUs is k6's ramping-vus executor: from StartVUs, each stage moves linearly to its
// target over its duration. VUs removed while ramping down get GracefulRampDown to finish
// their iteration.
type RampingVUs struct {
	BaseConfig
	StartVUs         *int64    `json:"startVUs"` // default 1
	Stages           []Stage   `json:"stages"`
	GracefulRampDown *Duration `json:"gracefulRampDown"` // default 30s
}

func (c *RampingVUs) startVUs() int64 {
	if c.StartVUs == nil {
		return 1
	}
	return *c.StartVUs
}

func (c *RampingVUs) gracefulRampDown() time.Duration {
	if c.GracefulRampDown == nil {
		return DefaultGracefulRampDown
	}
	return c.GracefulRampDown.D()
}

// Validate implements Config.
func (c *RampingVUs) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if _, err := checkVUs(c.Name, "startVUs", c.StartVUs, 1, 0); err != nil {
		return err
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("scenario %q: ramping-vus needs at least one stage", c.Name)
	}
	var total Duration
	for i, s := range c.Stages {
		if s.Duration < 0 {
			return fmt.Errorf("scenario %q: stage %d duration %q must not be negative", c.Name, i+1, s.Duration)
		}
		if s.Target < 0 || s.Target > maxVUs {
			return fmt.Errorf("scenario %q: stage %d target %d must be in [0, %d]", c.Name, i+1, s.Target, maxVUs)
		}
		total += s.Duration
	}
	if total <= 0 {
		return fmt.Errorf("scenario %q: the stages' total duration %q must be more than 0", c.Name, total)
	}
	if c.GracefulRampDown != nil && *c.GracefulRampDown < 0 {
		return fmt.Errorf("scenario %q: gracefulRampDown %q must not be negative", c.Name, *c.GracefulRampDown)
	}
	return nil
}

// Plan implements Config. Within a stage from a to b VUs over d, the k-th VU change
// (k = 1..|b−a|) happens at d·k/|b−a|, so 0→5 over 5s adds a VU every second, the fifth at 5s.
// A zero-duration stage jumps to its target.
func (c *RampingVUs) Plan() Plan {
	cur := int(c.startVUs())
	steps := []Step{{0, cur}}
	maxV := cur
	var at time.Duration
	add := func(off time.Duration, v int) {
		if last := &steps[len(steps)-1]; last.Offset == off {
			last.VUs = v
			if len(steps) > 1 && steps[len(steps)-2].VUs == v {
				steps = steps[:len(steps)-1]
			}
			return
		}
		if steps[len(steps)-1].VUs != v {
			steps = append(steps, Step{off, v})
		}
	}
	for _, s := range c.Stages {
		to := int(s.Target)
		d := s.Duration.D()
		if d == 0 {
			add(at, to)
		} else if n := to - cur; n != 0 {
			dir, abs := 1, n
			if n < 0 {
				dir, abs = -1, -n
			}
			for k := 1; k <= abs; k++ {
				add(at+time.Duration(int64(d)/int64(abs)*int64(k)+int64(d)%int64(abs)*int64(k)/int64(abs)), cur+dir*k)
			}
		}
		cur = to
		at += d
		if to > maxV {
			maxV = to
		}
	}
	if !c.Segment.Whole() {
		steps, maxV = scaleSteps(steps, c.Segment), int(c.scale(int64(maxV)))
	}
	return Plan{
		Steps:            steps,
		Duration:         at,
		GracefulStop:     c.GracefulStopOrDefault(),
		GracefulRampDown: c.gracefulRampDown(),
		MaxVUs:           maxV,
		Idle:             maxV == 0,
		IterationStripe:  c.Segment,
	}
}

// Describe implements Config: "Up to 10 looping VUs for 10s over 2 stages
// (gracefulRampDown: 2s, gracefulStop: 30s)".
func (c *RampingVUs) Describe() string {
	p := c.Plan()
	return fmt.Sprintf("Up to %d looping VUs for %s over %d stages", p.MaxVUs, p.Duration, len(c.Stages)) +
		c.extras("gracefulRampDown: "+c.gracefulRampDown().String())
}

// scaleSteps is the segment's share of a VU plan: at every offset, t's share of the whole
// test's VUs, so that the instances' VUs add up to the whole test's at every instant; a
// step that leaves the share unchanged is dropped.
func scaleSteps(steps []Step, t *Tuple) []Step {
	out := []Step{{0, int(t.Scale(int64(steps[0].VUs)))}}
	for _, s := range steps[1:] {
		if v := int(t.Scale(int64(s.VUs))); v != out[len(out)-1].VUs {
			out = append(out, Step{s.Offset, v})
		}
	}
	return out
}
