package executor

import "fmt"

// ConstantArrivalRate is k6's constant-arrival-rate executor: Rate iterations start every
// TimeUnit for Duration, whether or not earlier ones finished (an open model), each on a
// free VU of the pool.
type ConstantArrivalRate struct {
	BaseConfig
	ArrivalVUs
	Rate     *int64   `json:"rate"` // required
	Duration Duration `json:"duration"`
}

// Validate implements Config.
func (c *ConstantArrivalRate) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.Rate == nil {
		return fmt.Errorf("scenario %q: rate is required", c.Name)
	}
	if *c.Rate <= 0 {
		return fmt.Errorf("scenario %q: rate %d must be more than 0", c.Name, *c.Rate)
	}
	if c.Duration <= 0 {
		return fmt.Errorf("scenario %q: duration %q must be more than 0", c.Name, c.Duration)
	}
	return c.validateVUs(c.Name)
}

func (c *ConstantArrivalRate) schedule() *Schedule {
	return NewSchedule(c.timeUnit(), *c.Rate, []Stage{{Duration: c.Duration, Target: *c.Rate}})
}

// Plan implements Config.
func (c *ConstantArrivalRate) Plan() Plan { return c.plan(&c.BaseConfig, c.schedule()) }

// Describe implements Config: "30.00 iterations/s for 30s (maxVUs: 2-50, gracefulStop: 30s)".
func (c *ConstantArrivalRate) Describe() string {
	s := c.schedule()
	return fmt.Sprintf("%.2f iterations/s for %s", s.PerSecond(float64(*c.Rate))*c.segmentShare(), c.Duration) + c.extras(c.vusRange(&c.BaseConfig))
}
