package executor

import (
	"fmt"
	"time"
)

// DefaultTimeUnit is the period arrival rates are per when timeUnit is unset.
const DefaultTimeUnit = time.Second

// ArrivalVUs are the fields the two arrival-rate executors share: the time unit and the VU
// pool (preAllocatedVUs initialised before the start, more up to maxVUs during the test).
type ArrivalVUs struct {
	TimeUnit        *Duration `json:"timeUnit"`        // default 1s
	PreAllocatedVUs *int64    `json:"preAllocatedVUs"` // required
	MaxVUs          *int64    `json:"maxVUs"`          // default preAllocatedVUs
}

func (a *ArrivalVUs) timeUnit() time.Duration {
	if a.TimeUnit == nil {
		return DefaultTimeUnit
	}
	return a.TimeUnit.D()
}

// vus returns preAllocatedVUs and maxVUs (maxVUs defaults to preAllocatedVUs).
func (a *ArrivalVUs) vus() (pre, maxV int64) {
	if a.PreAllocatedVUs != nil {
		pre = *a.PreAllocatedVUs
	}
	maxV = pre
	if a.MaxVUs != nil {
		maxV = *a.MaxVUs
	}
	return pre, maxV
}

func (a *ArrivalVUs) validateVUs(name string) error {
	if a.TimeUnit != nil && *a.TimeUnit <= 0 {
		return fmt.Errorf("scenario %q: timeUnit %q must be more than 0", name, *a.TimeUnit)
	}
	if a.PreAllocatedVUs == nil {
		return fmt.Errorf("scenario %q: preAllocatedVUs is required", name)
	}
	pre, maxV := a.vus()
	if pre < 0 || pre > maxVUs {
		return fmt.Errorf("scenario %q: preAllocatedVUs %d must be in [0, %d]", name, pre, maxVUs)
	}
	if maxV > maxVUs {
		return fmt.Errorf("scenario %q: maxVUs %d must be at most %d", name, maxV, maxVUs)
	}
	if maxV < pre {
		return fmt.Errorf("scenario %q: maxVUs (%d) must not be less than preAllocatedVUs (%d)", name, maxV, pre)
	}
	if maxV < 1 {
		return fmt.Errorf("scenario %q: maxVUs must be at least 1 (preAllocatedVUs %d, maxVUs %d)", name, pre, maxV)
	}
	return nil
}

// vusRange is the banner's "maxVUs: 2-50" (or "maxVUs: 10" when both are equal), the
// segment's share.
func (a *ArrivalVUs) vusRange(b *BaseConfig) string {
	pre, maxV := a.vus()
	pre, maxV = b.scale(pre), b.scale(maxV)
	s := fmt.Sprintf("maxVUs: %d", pre)
	if maxV > pre {
		s += fmt.Sprintf("-%d", maxV)
	}
	return s
}

// plan is the arrival-rate plan over schedule s. On an execution segment, as in k6, the
// VU pool is the segment's share of preAllocatedVUs and maxVUs, and the starts are the
// whole schedule's striped by the sequence re-cut by maxVUs (Tuple.Resegment): every
// start of the schedule is made by exactly one instance, at its time in the schedule.
func (a *ArrivalVUs) plan(b *BaseConfig, s *Schedule) Plan {
	pre, maxV := a.vus()
	p := Plan{
		Duration:        s.Duration(),
		GracefulStop:    b.GracefulStopOrDefault(),
		MaxVUs:          int(b.scale(maxV)),
		PreAllocatedVUs: int(b.scale(pre)),
		Arrival:         s,
	}
	if !b.Segment.Whole() {
		t, ok := b.Segment.Resegment(maxV)
		p.Stripe, p.IterationStripe = t, t
		p.Idle = !ok || p.MaxVUs == 0
	}
	return p
}

// segmentShare is the segment's length, for the banner's scaled rates (1 for the whole).
func (b *BaseConfig) segmentShare() float64 { return b.Segment.Percent() / 100 }
