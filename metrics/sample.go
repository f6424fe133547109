package metrics

import (
	"context"
	"time"
)

// Sample is one measurement: a value of a metric with tags at a time.
type Sample struct {
	Metric *Metric
	Tags   TagSet
	// Metadata is high-cardinality data that is written to outputs but is not part of the
	// time series (k6's "metadata": vu, iter, ...). Usually nil.
	Metadata map[string]string
	Time     time.Time
	Value    float64
}

// TimeSeries is a comparable key for one series: a metric with one tag set.
type TimeSeries struct {
	Metric *Metric
	Tags   TagSet
}

// Series returns the sample's time series key.
func (s Sample) Series() TimeSeries { return TimeSeries{s.Metric, s.Tags} }

// Pusher receives batches of samples. The engine implements it; modules push the samples of
// one measurement (one HTTP request, one check) as one batch. Push must not be called after
// ctx is done, and implementations must not block past ctx being done. Implementations must
// not keep samples after Push returns (copy what they keep): callers reuse the slice.
type Pusher interface {
	Push(ctx context.Context, samples []Sample)
}

// PusherFunc adapts a function to Pusher.
type PusherFunc func(ctx context.Context, samples []Sample)

// Push calls f.
func (f PusherFunc) Push(ctx context.Context, samples []Sample) { f(ctx, samples) }

var _ Pusher = PusherFunc(nil)
