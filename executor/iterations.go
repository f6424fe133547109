package executor

import "fmt"

// IterationCounts are the fields the two iteration-based executors share.
type IterationCounts struct {
	VUs         *int64    `json:"vus"`         // default 1
	Iterations  *int64    `json:"iterations"`  // default 1
	MaxDuration *Duration `json:"maxDuration"` // default 10m
}

func (c *IterationCounts) counts() (vus, iters int64) {
	vus, iters = 1, 1
	if c.VUs != nil {
		vus = *c.VUs
	}
	if c.Iterations != nil {
		iters = *c.Iterations
	}
	return vus, iters
}

func (c *IterationCounts) maxDuration() Duration {
	if c.MaxDuration == nil {
		return Duration(DefaultMaxDuration)
	}
	return *c.MaxDuration
}

// validateCounts checks the fields of scenario name: at least one VU and one iteration, and a
// positive maxDuration.
func (c *IterationCounts) validateCounts(name string) error {
	if _, err := checkVUs(name, "vus", c.VUs, 1, 1); err != nil {
		return err
	}
	if _, it := c.counts(); it < 1 {
		return fmt.Errorf("scenario %q: iterations %d must be at least 1", name, it)
	}
	if c.maxDuration() <= 0 {
		return fmt.Errorf("scenario %q: maxDuration %q must be more than 0", name, c.maxDuration())
	}
	return nil
}
