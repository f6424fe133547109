package engine

import (
	"sync"
	"time"
)

// progressLoop is the goroutine that reports a Progress snapshot to the observer every
// period while the scenarios run. Run owns it: startProgress starts it, stop ends it and
// reports the final snapshot.
type progressLoop struct {
	r    *run
	done chan struct{}
	exit sync.WaitGroup
}

func (r *run) startProgress(every time.Duration) *progressLoop {
	p := &progressLoop{r: r, done: make(chan struct{})}
	p.exit.Add(1)
	go func() {
		defer p.exit.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				r.obs.emit(ProgressEvent{r.progress(now, false)})
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// stop ends the goroutine and reports the final snapshot.
func (p *progressLoop) stop() {
	close(p.done)
	p.exit.Wait()
	p.r.obs.emit(ProgressEvent{p.r.progress(time.Now(), true)})
}

// progress is a snapshot of the run at now.
func (r *run) progress(now time.Time, final bool) Progress {
	pr := Progress{
		Elapsed: now.Sub(r.start), ActiveVUs: r.active.Load(), InitializedVUs: r.inited.Load(),
		Scenarios: make([]ScenarioProgress, 0, len(r.scens)), Final: final,
	}
	for _, sc := range r.scens {
		st := ScenarioProgress{
			Name: sc.name, Executor: sc.cfg.Base().Executor, Active: sc.active.Load(), MaxVUs: int64(sc.plan.MaxVUs),
			Complete: sc.complete.Load(), Interrupted: sc.interrupted.Load(), Duration: sc.plan.Duration,
			PerVU: sc.plan.PerVUIterations, Shared: sc.plan.SharedIterations, Aborted: sc.stoppedEarly.Load(),
		}
		if a := sc.plan.Arrival; a != nil {
			st.Allocated = sc.arrival.allocated.Load()
			st.Dropped = sc.arrival.dropped.Load()
		}
		if s := sc.startedAt.Load(); s != 0 {
			st.Started = true
			end := now
			if e := sc.endedAt.Load(); e != 0 {
				st.Ended = true
				end = time.Unix(0, e)
			}
			st.Elapsed = end.Sub(time.Unix(0, s))
			if a := sc.plan.Arrival; a != nil {
				// An execution segment runs its share of the schedule.
				st.Rate = a.RateAt(min(st.Elapsed, sc.plan.Duration-1)) * sc.cfg.Base().Segment.Percent() / 100
			}
		}
		pr.Complete += st.Complete
		pr.Interrupted += st.Interrupted
		pr.Scenarios = append(pr.Scenarios, st)
	}
	return pr
}
