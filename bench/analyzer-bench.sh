#!/usr/bin/env bash
# analyzer-bench.sh — k6verdict throughput on k6 NDJSON, side by side with the two baselines
# of issue 3: a straightforward Go program that decodes every line with encoding/json
# (bench/naivep95) and the jq pipeline that computes one p95. Builds a file of at least
# SIZE_MB (default 200) MB from the reference samples with shifted times, runs each tool
# RUNS (default 3) times on the cached file, and prints median MB/s and ratios.
#
# Usage: bench/analyzer-bench.sh            (from the repository root or anywhere in it)
#        SIZE_MB=50 RUNS=1 SKIP_JQ=1 bench/analyzer-bench.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
size_mb=${SIZE_MB:-200}
runs=${RUNS:-3}

# The reference samples: real k6 output kept in the repository.
samples="$root/testdata/k6-reference/samples"
[ -f "$samples/rest.json" ] || { echo "no reference samples in $samples" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Generator: repeat rest.json, fail.json and ws.json with times shifted by 20 s per copy.
mkdir -p "$tmp/mkbig"
cat > "$tmp/mkbig/main.go" <<'GO'
// Command mkbig writes a large k6 NDJSON file for bench/analyzer-bench.sh by repeating the
// reference samples with their times shifted, so each copy is a later stretch of one run.
// Metric records are written once, before the first copy.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	size := flag.Int64("size", 200<<20, "minimum output size in bytes")
	out := flag.String("o", "big.json", "output file")
	flag.Parse()
	if err := run(*size, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkbig:", err)
		os.Exit(1)
	}
}

func run(size int64, out string, inputs []string) error {
	if len(inputs) == 0 {
		return fmt.Errorf("usage: mkbig [-size N] [-o FILE] sample.json...")
	}
	var srcs [][]byte
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			return err
		}
		srcs = append(srcs, b)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var written int64
	key := []byte(`"time":"`)
	for copyN := 0; written < size; copyN++ {
		shift := time.Duration(copyN) * 20 * time.Second
		for _, src := range srcs {
			for _, line := range bytes.SplitAfter(src, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if bytes.Contains(line, []byte(`"type":"Metric"`)) {
					if copyN > 0 {
						continue
					}
					n, _ := w.Write(line)
					written += int64(n)
					continue
				}
				i := bytes.Index(line, key)
				if i < 0 {
					continue
				}
				j := bytes.IndexByte(line[i+len(key):], '"')
				t, err := time.Parse(time.RFC3339Nano, string(line[i+len(key):i+len(key)+j]))
				if err != nil {
					return err
				}
				var buf [64]byte
				ts := t.Add(shift).UTC().AppendFormat(buf[:0], time.RFC3339Nano)
				n1, _ := w.Write(line[:i+len(key)])
				n2, _ := w.Write(ts)
				n3, _ := w.Write(line[i+len(key)+j:])
				written += int64(n1 + n2 + n3)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
GO
cd "$root"
go build -o "$tmp/bin/mkbig" "$tmp/mkbig/main.go"
go build -o "$tmp/bin/k6verdict" ./cmd/k6verdict
go build -o "$tmp/bin/naivep95" ./bench/naivep95
"$tmp/bin/mkbig" -size $((size_mb * 1024 * 1024)) -o "$tmp/big.json" \
  "$samples/rest.json" "$samples/fail.json" "$samples/ws.json"
bytes=$(stat -c %s "$tmp/big.json")
cat "$tmp/big.json" > /dev/null # warm the page cache
echo "input: $((bytes / 1024 / 1024)) MiB, $(wc -l < "$tmp/big.json") lines; $(nproc) CPUs; $runs run(s) each"

# median_secs CMD...: runs CMD $runs times, prints the median wall time in seconds.
median_secs() {
  local ts=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || [ $? -eq 99 ] || { echo "command failed: $*" >&2; return 1; }
    e=$(date +%s.%N)
    ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f", e - s}')")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

jq_p95() {
  jq -c 'select(.type=="Point" and .metric=="http_req_duration") | .data.value' "$1" | sort -n > /dev/null
}

t_k6v=$(median_secs "$tmp/bin/k6verdict" --no-script-thresholds --profile rest "$tmp/big.json")
t_naive=$(median_secs "$tmp/bin/naivep95" "$tmp/big.json")
# BASELINE=/path/to/old/bin: that build's k6verdict on the same file, for a before/after.
t_base=""
[ -n "${BASELINE:-}" ] && t_base=$(median_secs "$BASELINE/k6verdict" --no-script-thresholds --profile rest "$tmp/big.json")
if [ -z "${SKIP_JQ:-}" ] && command -v jq > /dev/null; then
  t_jq=$(median_secs jq_p95 "$tmp/big.json")
else
  t_jq=""
fi

mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN {printf "%.1f", b / 1e6 / t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
printf '%-28s %8s s %10s MB/s\n' "k6verdict (all metrics)" "$t_k6v" "$(mbs "$t_k6v")"
[ -n "$t_base" ] && printf '%-28s %8s s %10s MB/s\n' "baseline k6verdict" "$t_base" "$(mbs "$t_base")"
printf '%-28s %8s s %10s MB/s\n' "naive Go encoding/json p95" "$t_naive" "$(mbs "$t_naive")"
[ -n "$t_jq" ] && printf '%-28s %8s s %10s MB/s\n' "jq | sort -n p95" "$t_jq" "$(mbs "$t_jq")"
echo "k6verdict / naive Go: $(ratio "$t_naive" "$t_k6v")x"
[ -n "$t_jq" ] && echo "k6verdict / jq:       $(ratio "$t_jq" "$t_k6v")x"
exit 0
