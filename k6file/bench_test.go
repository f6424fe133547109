package k6file

import (
	"bytes"
	"testing"
)

func benchRecords(b *testing.B) []Record {
	recs, _ := scanAll(b, readTestdata(b, "rest.json"), NDJSON)
	return recs
}

// BenchmarkEncode is the json output's per-sample cost.
func BenchmarkEncode(b *testing.B) {
	recs := benchRecords(b)
	s, info := samplesOf(b, recs)
	s = s[:1000]
	enc := NewEncoder(info)
	buf := enc.AppendSamples(nil, s) // Metric records and buffer growth out of the way
	b.SetBytes(int64(len(buf)) / int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(s)
		buf = enc.AppendSamples(buf[:0], s[j:j+1])
	}
}

// BenchmarkCSVEncode is the csv output's per-sample cost.
func BenchmarkCSVEncode(b *testing.B) {
	recs := benchRecords(b)
	s, _ := samplesOf(b, recs)
	s = s[:1000]
	var enc CSVEncoder
	buf := enc.AppendSamples(nil, s)
	b.SetBytes(int64(len(buf)) / int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(s)
		buf = enc.AppendSamples(buf[:0], s[j:j+1])
	}
}

func benchScan(b *testing.B, data []byte, f Format) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := NewScanner(bytes.NewReader(data), f)
		for sc.Scan() {
		}
		if sc.Err() != nil || sc.BadLines() != 0 {
			b.Fatal(sc.Err(), sc.SyntaxErrors())
		}
	}
}

func BenchmarkScanNDJSON(b *testing.B) { benchScan(b, readTestdata(b, "rest.json"), NDJSON) }
func BenchmarkScanCSV(b *testing.B)    { benchScan(b, readTestdata(b, "rest.csv"), CSV) }
