package executor

import "fmt"

// SharedIterations is k6's shared-iterations executor: VUs share Iterations iterations,
// within MaxDuration.
type SharedIterations struct {
	BaseConfig
	VUs         *int64    `json:"vus"`         // default 1
	Iterations  *int64    `json:"iterations"`  // default 1
	MaxDuration *Duration `json:"maxDuration"` // default 10m
}

func (c *SharedIterations) counts() (vus, iters int64) {
	vus, iters = 1, 1
	if c.VUs != nil {
		vus = *c.VUs
	}
	if c.Iterations != nil {
		iters = *c.Iterations
	}
	return vus, iters
}

func (c *SharedIterations) maxDuration() Duration {
	if c.MaxDuration == nil {
		return Duration(DefaultMaxDuration)
	}
	return *c.MaxDuration
}

// Validate implements Config. As in k6, there may not be more VUs than iterations.
func (c *SharedIterations) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if _, err := checkVUs(c.Name, "vus", c.VUs, 1, 1); err != nil {
		return err
	}
	vus, it := c.counts()
	if it < 1 {
		return fmt.Errorf("scenario %q: iterations %d must be at least 1", c.Name, it)
	}
	if vus > it {
		return fmt.Errorf("scenario %q: the number of VUs (%d) cannot be more than the number of iterations (%d)", c.Name, vus, it)
	}
	if c.maxDuration() <= 0 {
		return fmt.Errorf("scenario %q: maxDuration %q must be more than 0", c.Name, c.maxDuration())
	}
	return nil
}

// Plan implements Config.
func (c *SharedIterations) Plan() Plan {
	vus, it := c.counts()
	return Plan{
		Steps:            []Step{{0, int(vus)}},
		Duration:         c.maxDuration().D(),
		GracefulStop:     c.GracefulStopOrDefault(),
		MaxVUs:           int(vus),
		SharedIterations: it,
	}
}

// Describe implements Config: "10 iterations shared among 2 VUs (maxDuration: 10m0s, gracefulStop: 30s)".
func (c *SharedIterations) Describe() string {
	vus, it := c.counts()
	return fmt.Sprintf("%d iterations shared among %d VUs", it, vus) + c.extras("maxDuration: "+c.maxDuration().String())
}
