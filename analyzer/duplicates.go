package analyzer

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"sort"
	"time"
)

// fingerprint summarises the samples of one metric in one input: enough to recognise the
// same samples written twice (the same file, a copy, or the same run's NDJSON and CSV,
// whose timestamps may be whole seconds and values rounded), cheap enough for every sample.
type fingerprint struct {
	n          uint64
	sum        float64
	minT, maxT int64
}

func (f *fingerprint) add(t int64, v float64) {
	if f.n == 0 || t < f.minT {
		f.minT = t
	}
	if f.n == 0 || t > f.maxT {
		f.maxT = t
	}
	f.n++
	f.sum += v
}

func (f *fingerprint) merge(o fingerprint) {
	if o.n == 0 {
		return
	}
	if f.n == 0 || o.minT < f.minT {
		f.minT = o.minT
	}
	if f.n == 0 || o.maxT > f.maxT {
		f.maxT = o.maxT
	}
	f.n += o.n
	f.sum += o.sum
}

// same reports whether f and o look like the same samples: same count, same first and last
// second, and sums equal up to CSV's rounding.
func (f fingerprint) same(o fingerprint) bool {
	sec := int64(time.Second)
	if f.n != o.n || floorDiv(f.minT, sec) != floorDiv(o.minT, sec) || floorDiv(f.maxT, sec) != floorDiv(o.maxT, sec) {
		return false
	}
	if f.sum == o.sum {
		return true
	}
	return math.Abs(f.sum-o.sum) <= 1e-6*float64(f.n)+1e-9*math.Max(math.Abs(f.sum), math.Abs(o.sum))
}

// inputPrint identifies one input: its content hash and its samples' fingerprints.
type inputPrint struct {
	path    string
	hash    [sha256.Size]byte
	metrics map[string]fingerprint
}

// takeFingerprints collects the fingerprints of the input just read from every shard, and
// resets them for the next input.
func takeFingerprints(shards []*shard) map[string]fingerprint {
	out := map[string]fingerprint{}
	for _, sh := range shards {
		for i := range sh.metrics {
			lm := &sh.metrics[i]
			if lm.fp.n == 0 {
				continue
			}
			f := out[lm.name]
			f.merge(lm.fp)
			out[lm.name] = f
			lm.fp = fingerprint{}
		}
	}
	return out
}

// duplicateOf returns an error naming the earlier input that p duplicates, if any.
func (p inputPrint) duplicateOf(earlier []inputPrint) error {
	for _, e := range earlier {
		why := ""
		switch {
		case bytes.Equal(p.hash[:], e.hash[:]) && len(p.metrics) > 0:
			why = "have the same content"
		case p.sameSamples(e):
			why = "hold the same samples (the same run in two files or formats?)"
		default:
			continue
		}
		return fmt.Errorf("inputs %q and %q %s: their samples would be counted twice; pass --allow-duplicate-inputs if they are different parts of one run", e.path, p.path, why)
	}
	return nil
}

func (p inputPrint) sameSamples(o inputPrint) bool {
	if len(p.metrics) == 0 || len(p.metrics) != len(o.metrics) || p.idle() {
		return false
	}
	names := make([]string, 0, len(p.metrics))
	for n := range p.metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		of, ok := o.metrics[n]
		if !ok || !p.metrics[n].same(of) {
			return false
		}
	}
	return true
}

// idle reports whether the input holds nothing but zero vus and vus_max gauges: what an
// instance writes when its execution segment leaves it no work (1 VU split in three). Two
// such instances started in the same second look alike, but counting their zeros twice
// changes nothing, so they are not duplicates.
func (p inputPrint) idle() bool {
	for n, f := range p.metrics {
		if n != "vus" && n != "vus_max" || f.sum != 0 {
			return false
		}
	}
	return true
}
