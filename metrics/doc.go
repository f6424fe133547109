// Package metrics owns the semantics that the runner (pixelk6) and the analyzer (k6verdict)
// share, so the two can never disagree: metric definitions and their registry, tag sets,
// samples, the per-metric sinks (counter, gauge, rate, trend), the percentile formula, and the
// threshold grammar and its evaluation. It imports no JavaScript engine.
package metrics
