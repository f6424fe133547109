package executor

import "fmt"

// PerVUIterations is k6's per-vu-iterations executor: each of VUs runs Iterations
// iterations, within MaxDuration.
type PerVUIterations struct {
	BaseConfig
	VUs         *int64    `json:"vus"`         // default 1
	Iterations  *int64    `json:"iterations"`  // default 1
	MaxDuration *Duration `json:"maxDuration"` // default 10m
}

func (c *PerVUIterations) counts() (vus, iters int64) {
	vus, iters = 1, 1
	if c.VUs != nil {
		vus = *c.VUs
	}
	if c.Iterations != nil {
		iters = *c.Iterations
	}
	return vus, iters
}

func (c *PerVUIterations) maxDuration() Duration {
	if c.MaxDuration == nil {
		return Duration(DefaultMaxDuration)
	}
	return *c.MaxDuration
}

// Validate implements Config.
func (c *PerVUIterations) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if _, err := checkVUs(c.Name, "vus", c.VUs, 1, 1); err != nil {
		return err
	}
	if _, it := c.counts(); it < 1 {
		return fmt.Errorf("scenario %q: iterations %d must be at least 1", c.Name, it)
	}
	if c.maxDuration() <= 0 {
		return fmt.Errorf("scenario %q: maxDuration %q must be more than 0", c.Name, c.maxDuration())
	}
	return nil
}

// Plan implements Config.
func (c *PerVUIterations) Plan() Plan {
	vus, it := c.counts()
	return Plan{
		Steps:           []Step{{0, int(vus)}},
		Duration:        c.maxDuration().D(),
		GracefulStop:    c.GracefulStopOrDefault(),
		MaxVUs:          int(vus),
		PerVUIterations: it,
	}
}

// Describe implements Config: "1 iterations for each of 1 VUs (maxDuration: 10m0s, gracefulStop: 30s)".
func (c *PerVUIterations) Describe() string {
	vus, it := c.counts()
	return fmt.Sprintf("%d iterations for each of %d VUs", it, vus) + c.extras("maxDuration: "+c.maxDuration().String())
}
