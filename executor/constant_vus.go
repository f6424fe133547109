package executor

import "fmt"

// ConstantVUs is k6's constant-vus executor: VUs looping VUs for Duration.
type ConstantVUs struct {
	BaseConfig
	VUs      *int64   `json:"vus"` // default 1
	Duration Duration `json:"duration"`
}

// Validate implements Config.
func (c *ConstantVUs) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if _, err := checkVUs(c.Name, "vus", c.VUs, 1, 1); err != nil {
		return err
	}
	if c.Duration <= 0 {
		return fmt.Errorf("scenario %q: duration %q must be more than 0", c.Name, c.Duration)
	}
	return nil
}

func (c *ConstantVUs) vus() int64 {
	if c.VUs == nil {
		return 1
	}
	return *c.VUs
}

// Plan implements Config: one step at 0 with all VUs (the segment's share of them).
func (c *ConstantVUs) Plan() Plan {
	n := int(c.scale(c.vus()))
	return Plan{
		Steps:           []Step{{0, n}},
		Duration:        c.Duration.D(),
		GracefulStop:    c.GracefulStopOrDefault(),
		MaxVUs:          n,
		Idle:            n == 0,
		IterationStripe: c.Segment,
	}
}

// Describe implements Config: "5 looping VUs for 5s (gracefulStop: 30s)".
func (c *ConstantVUs) Describe() string {
	return fmt.Sprintf("%d looping VUs for %s", c.scale(c.vus()), c.Duration) + c.extras()
}
