package executor

import "fmt"

// PerVUIterations is k6's per-vu-iterations executor: each of VUs runs Iterations
// iterations, within MaxDuration.
type PerVUIterations struct {
	BaseConfig
	IterationCounts
}

// Validate implements Config.
func (c *PerVUIterations) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	return c.validateCounts(c.Name)
}

// Plan implements Config. On an execution segment, the VUs are the segment's share; each
// still runs Iterations.
func (c *PerVUIterations) Plan() Plan {
	vus, it := c.counts()
	vus = c.scale(vus)
	return Plan{
		Idle:            vus == 0,
		IterationStripe: c.Segment,
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
	return fmt.Sprintf("%d iterations for each of %d VUs", it, c.scale(vus)) + c.extras("maxDuration: "+c.maxDuration().String())
}
