package executor

import "fmt"

// RampingArrivalRate is k6's ramping-arrival-rate executor: from StartRate iterations per
// TimeUnit, each stage moves the rate linearly to its target over its duration (a
// zero-duration stage jumps); iterations start on that schedule on free VUs of the pool.
type RampingArrivalRate struct {
	BaseConfig
	ArrivalVUs
	StartRate int64   `json:"startRate"` // default 0
	Stages    []Stage `json:"stages"`
}

// Validate implements Config.
func (c *RampingArrivalRate) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.StartRate < 0 {
		return fmt.Errorf("scenario %q: startRate %d must not be negative", c.Name, c.StartRate)
	}
	if len(c.Stages) == 0 {
		return fmt.Errorf("scenario %q: ramping-arrival-rate needs at least one stage", c.Name)
	}
	var total Duration
	for i, s := range c.Stages {
		if s.Duration < 0 {
			return fmt.Errorf("scenario %q: stage %d duration %q must not be negative", c.Name, i+1, s.Duration)
		}
		if s.Target < 0 {
			return fmt.Errorf("scenario %q: stage %d target %d must not be negative", c.Name, i+1, s.Target)
		}
		total += s.Duration
	}
	if total <= 0 {
		return fmt.Errorf("scenario %q: the stages' total duration %q must be more than 0", c.Name, total)
	}
	return c.validateVUs(c.Name)
}

func (c *RampingArrivalRate) schedule() *Schedule {
	return NewSchedule(c.timeUnit(), c.StartRate, c.Stages)
}

// Plan implements Config.
func (c *RampingArrivalRate) Plan() Plan { return c.plan(&c.BaseConfig, c.schedule()) }

// Describe implements Config: "Up to 10.00 iterations/s for 9m0s over 4 stages (maxVUs:
// 2-50, gracefulStop: 30s)".
func (c *RampingArrivalRate) Describe() string {
	s := c.schedule()
	return fmt.Sprintf("Up to %.2f iterations/s for %s over %d stages", s.PerSecond(float64(max(s.MaxRate(), c.StartRate)))*c.segmentShare(), s.Duration(), len(c.Stages)) +
		c.extras(c.vusRange(&c.BaseConfig))
}
