package executor

import "fmt"

// SharedIterations is k6's shared-iterations executor: VUs share Iterations iterations,
// within MaxDuration.
type SharedIterations struct {
	BaseConfig
	IterationCounts
}

// Validate implements Config. As in k6, there may not be more VUs than iterations.
func (c *SharedIterations) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if err := c.validateCounts(c.Name); err != nil {
		return err
	}
	if vus, it := c.counts(); vus > it {
		return fmt.Errorf("scenario %q: the number of VUs (%d) cannot be more than the number of iterations (%d)", c.Name, vus, it)
	}
	return nil
}

// Plan implements Config.
func (c *SharedIterations) Plan() Plan {
	vus, it, stripe := c.segmentCounts()
	return Plan{
		Idle:             vus == 0 || it == 0,
		IterationStripe:  stripe,
		Steps:            []Step{{0, int(vus)}},
		Duration:         c.maxDuration().D(),
		GracefulStop:     c.GracefulStopOrDefault(),
		MaxVUs:           int(vus),
		SharedIterations: it,
	}
}

// Describe implements Config: "10 iterations shared among 2 VUs (maxDuration: 10m0s, gracefulStop: 30s)".
func (c *SharedIterations) Describe() string {
	vus, it, _ := c.segmentCounts()
	return fmt.Sprintf("%d iterations shared among %d VUs", it, vus) + c.extras("maxDuration: "+c.maxDuration().String())
}

// segmentCounts are the segment's VUs and iterations. As in k6, the iterations are shared
// out by the sequence re-cut by the VUs (Tuple.Resegment), so that an instance's share of
// the iterations follows its share of the VUs; an instance with no VU has no iteration.
// The re-cut sequence also numbers the iterations in the whole test.
func (c *SharedIterations) segmentCounts() (vus, iters int64, stripe *Tuple) {
	vus, iters = c.counts()
	if c.Segment.Whole() {
		return vus, iters, nil
	}
	t, ok := c.Segment.Resegment(vus)
	if !ok {
		return c.scale(vus), 0, nil
	}
	return c.scale(vus), t.Scale(iters), t
}
