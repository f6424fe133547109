// Command naivep95 [FILE] is the baseline of bench/analyzer-bench.sh: the straightforward Go
// program a user would write — decode every NDJSON line with encoding/json, keep the
// http_req_duration values, sort, and print p(95).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

type record struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Value float64           `json:"value"`
		Tags  map[string]string `json:"tags"`
	} `json:"data"`
}

func main() {
	in := os.Stdin
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "naivep95:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	if err := run(in, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "naivep95:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var vals []float64
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		if r.Type == "Point" && r.Metric == "http_req_duration" {
			vals = append(vals, r.Data.Value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(vals) == 0 {
		return fmt.Errorf("no http_req_duration samples")
	}
	sort.Float64s(vals)
	i := 0.95 * float64(len(vals)-1)
	lo, hi := vals[int(math.Floor(i))], vals[int(math.Ceil(i))]
	_, err := fmt.Fprintf(out, "p(95)=%g over %d values\n", lo+(hi-lo)*(i-math.Floor(i)), len(vals))
	return err
}
