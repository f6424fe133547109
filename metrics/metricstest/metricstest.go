// Package metricstest has test helpers for code that emits samples: a capturing
// metrics.Pusher and tag-set formatting for assertions.
package metricstest

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/pixelk6/pixelk6/metrics"
)

// Capture is a metrics.Pusher that records every batch. It is safe for concurrent use.
type Capture struct {
	mu      sync.Mutex
	batches [][]metrics.Sample
}

var _ metrics.Pusher = (*Capture)(nil)

// Push implements metrics.Pusher; it keeps a copy of the batch.
func (c *Capture) Push(_ context.Context, s []metrics.Sample) {
	c.mu.Lock()
	c.batches = append(c.batches, append([]metrics.Sample(nil), s...))
	c.mu.Unlock()
}

// Batches returns the batches pushed so far, in order.
func (c *Capture) Batches() [][]metrics.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]metrics.Sample(nil), c.batches...)
}

// Samples returns every sample in order.
func (c *Capture) Samples() []metrics.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []metrics.Sample
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

// Metric returns the samples of one metric.
func (c *Capture) Metric(name string) []metrics.Sample {
	var out []metrics.Sample
	for _, s := range c.Samples() {
		if s.Metric.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Reset forgets every sample.
func (c *Capture) Reset() { c.mu.Lock(); c.batches = nil; c.mu.Unlock() }

// Names returns the metric names in emission order, deduplicated.
func (c *Capture) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range c.Samples() {
		if !seen[s.Metric.Name] {
			seen[s.Metric.Name] = true
			out = append(out, s.Metric.Name)
		}
	}
	return out
}

// TagKeys returns a tag set's keys, sorted and comma-joined.
func TagKeys(ts metrics.TagSet) string {
	var keys []string
	ts.Each(func(k, _ string) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
