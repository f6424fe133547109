package output

import (
	"io"
	"testing"
)

// The encoders' own benchmarks are k6file's (BenchmarkEncode, BenchmarkEncodeRun,
// BenchmarkCSVEncode); this one measures the whole output around them.

// BenchmarkJSONOutput measures the whole output (encode, buffer, periodic flush) per sample.
func BenchmarkJSONOutput(b *testing.B) {
	ref := loadReference(b, "rest.json")
	s := ref.samples[:1000]
	o, err := New("json", Params{Metrics: ref.params.Metrics, Stdout: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	if err := o.Start(); err != nil {
		b.Fatal(err)
	}
	o.AddSamples(s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(s)
		o.AddSamples(s[j : j+1])
	}
	b.StopTimer()
	if err := o.Stop(); err != nil {
		b.Fatal(err)
	}
}
