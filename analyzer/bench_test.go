package analyzer

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/pixelk6/pixelk6/k6file"
)

// benchInput is rest.json repeated to about 8 MB.
func benchInput(b *testing.B) []byte {
	b.Helper()
	src, err := os.ReadFile("testdata/rest.json")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for buf.Len() < 8<<20 {
		buf.Write(src)
	}
	return buf.Bytes()
}

func BenchmarkParsePoint(b *testing.B) {
	line := []byte(`{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T02:32:40.266820642Z","value":3.698876,"tags":{"expected_response":"true","group":"::health","method":"GET","name":"health","proto":"HTTP/1.1","scenario":"pixel_rest","status":"200","suite":"pixel","url":"health"}}}`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var p k6file.FastPoint
	for b.Loop() {
		if !p.Parse(line) {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkReader(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tt := newTypeTable()
		shards := []*shard{newShard(tt, 0), newShard(tt, 0)}
		nr := &ndjsonReader{tt: tt, shards: shards, bad: newBadLines(10), blockSize: defaultBlockSize}
		if err := nr.read(context.Background(), "bench", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderOneWorker(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		tt := newTypeTable()
		nr := &ndjsonReader{tt: tt, shards: []*shard{newShard(tt, 0)}, bad: newBadLines(10), blockSize: defaultBlockSize}
		if err := nr.read(context.Background(), "bench", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNoAllocPerLine: once metric names and tag sets are interned, parsing a block of
// Point lines allocates only when a trend's value chunk fills (amortised, not per line).
func TestNoAllocPerLine(t *testing.T) {
	raw, err := os.ReadFile("testdata/rest.json")
	if err != nil {
		t.Fatal(err)
	}
	var data []byte // Point lines only: Metric records go through encoding/json
	for _, l := range bytes.SplitAfter(raw, []byte("\n")) {
		if !bytes.Contains(l, []byte(`"type":"Metric"`)) {
			data = append(data, l...)
		}
	}
	tt := newTypeTable()
	sh := newShard(tt, 0)
	nr := &ndjsonReader{tt: tt, shards: []*shard{sh}, bad: newBadLines(0), blockSize: defaultBlockSize}
	nr.parseBlock("warm", sh, block{buf: data, firstLine: 1}) // interns names and tags
	lines := bytes.Count(data, []byte("\n"))
	allocs := testing.AllocsPerRun(5, func() {
		nr.parseBlock("x", sh, block{buf: data, firstLine: 1})
	})
	if per := allocs / float64(lines); per > 0.01 {
		t.Errorf("%.0f allocations for %d lines (%.3f per line)", allocs, lines, per)
	}
	if nr.bad.count.Load() != 0 {
		t.Errorf("bad lines: %+v", nr.bad.kept)
	}
}
