package output

import (
	"io"
	"testing"

	"github.com/pixelk6/pixelk6/k6file"
)

func BenchmarkJSONEncode(b *testing.B) {
	ref := loadReference(b, "rest.json")
	s := ref.samples[:1000]
	enc := k6file.NewEncoder(ref.params.Metrics)
	buf := enc.AppendSamples(nil, s) // Metric records and buffer growth out of the way
	b.SetBytes(int64(len(buf)) / int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(s)
		buf = enc.AppendSamples(buf[:0], s[j:j+1])
	}
}

func BenchmarkCSVEncode(b *testing.B) {
	ref := loadReference(b, "rest.json")
	s := ref.samples[:1000]
	enc := &k6file.CSVEncoder{}
	buf := enc.AppendSamples(nil, s)
	b.SetBytes(int64(len(buf)) / int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(s)
		buf = enc.AppendSamples(buf[:0], s[j:j+1])
	}
}

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
