package analyzer

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The mutation test feeds k6verdict's entry point (Run, in-process) thousands of mutated
// copies of the k6 reference files, NDJSON and CSV, plain and gzip-compressed, with and
// without windows, and checks that every run ends with a documented code (0, 99 or 2),
// in bounded time and memory. K6VERDICT_MUTATIONS=N sets the number of runs (default
// defaultMutations); K6VERDICT_MUTATION_SEED fixes the seed (printed on failure).
const (
	defaultMutations = 1500
	mutationLines    = 150              // lines of each reference file used as a seed
	maxRunTime       = 20 * time.Second // only a hang breaks it
	maxRunAlloc      = 768 << 20        // bytes allocated by one run: only a runaway breaks it
)

var (
	jsonTime  = regexp.MustCompile(`"time":"[^"]*"`)
	jsonValue = regexp.MustCompile(`"value":[^,}]*`)
)

var (
	hugeTimes = []string{"1970-01-01T00:00:01Z", "9999-12-31T23:59:59.999999999Z", "0001-01-01T00:00:00Z",
		"2262-04-11T23:47:17Z", "1677-09-21T00:12:43Z", "2026-11-28T02:32:40+14:00", "", "x"}
	csvTimes   = []string{"0", "1", "-1", "99999999999999999999", "9223372036854775807", "253402300799", "1e300", "1795833160000000000000", ""}
	jsonValues = []string{"NaN", `"NaN"`, "Infinity", "1e309", "-1e309", "1e308", "-0", "null", "true", "1e-400", "18446744073709551616"}
	csvValues  = []string{"NaN", "Inf", "-Inf", "+Inf", "1e400", "-1e308", "0x10", "", "nan"}
)

// mutationSeeds returns the first lines of every reference file, as plain bytes.
func mutationSeeds(t testing.TB) map[string][]byte {
	dir := filepath.Join("..", "testdata", "k6-reference", "samples")
	out := map[string][]byte{}
	for _, s := range samples {
		for _, ext := range []string{".json", ".csv"} {
			b, err := os.ReadFile(filepath.Join(dir, s+ext))
			if err != nil {
				t.Fatalf("the k6 reference samples are missing: %v", err)
			}
			lines := bytes.SplitAfter(b, []byte("\n"))
			out[s+ext] = bytes.Join(lines[:min(len(lines), mutationLines)], nil)
		}
	}
	return out
}

// mutate applies 1–4 random mutations to b.
func mutate(r *rand.Rand, b []byte, csv bool) []byte {
	b = append([]byte(nil), b...)
	for range 1 + r.IntN(4) {
		lines := bytes.SplitAfter(b, []byte("\n"))
		li := r.IntN(len(lines))
		switch r.IntN(10) {
		case 0: // byte flips
			for range 1 + r.IntN(8) {
				if len(b) > 0 {
					b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
				}
			}
		case 1: // truncation
			b = b[:r.IntN(len(b)+1)]
		case 2: // a duplicated line (or many)
			n := 1 + r.IntN(3)
			if r.IntN(8) == 0 {
				n = 200
			}
			for range n {
				lines = append(lines[:li+1], lines[li:]...)
			}
			b = bytes.Join(lines, nil)
		case 3: // a dropped line
			b = bytes.Join(append(lines[:li], lines[li+1:]...), nil)
		case 4, 5: // a far timestamp
			if csv {
				f := bytes.Split(lines[li], []byte(","))
				if len(f) > 1 {
					f[1] = []byte(csvTimes[r.IntN(len(csvTimes))])
				}
				lines[li] = bytes.Join(f, []byte(","))
			} else {
				lines[li] = jsonTime.ReplaceAll(lines[li], []byte(`"time":"`+hugeTimes[r.IntN(len(hugeTimes))]+`"`))
			}
			b = bytes.Join(lines, nil)
		case 6: // NaN, Inf and other odd values
			if csv {
				f := bytes.Split(lines[li], []byte(","))
				if len(f) > 2 {
					f[2] = []byte(csvValues[r.IntN(len(csvValues))])
				}
				lines[li] = bytes.Join(f, []byte(","))
			} else {
				lines[li] = jsonValue.ReplaceAll(lines[li], []byte(`"value":`+jsonValues[r.IntN(len(jsonValues))]))
			}
			b = bytes.Join(lines, nil)
		case 7: // bad UTF-8
			at := r.IntN(len(b) + 1)
			b = append(b[:at], append([]byte{0xff, 0xfe, 0xc3}, b[at:]...)...)
		case 8: // a long line
			at := r.IntN(len(b) + 1)
			b = append(b[:at], append(bytes.Repeat([]byte(`{"a":`), 1+r.IntN(20000)), b[at:]...)...)
		case 9: // swapped lines (out-of-order samples)
			lj := r.IntN(len(lines))
			lines[li], lines[lj] = lines[lj], lines[li]
			b = bytes.Join(lines, nil)
		}
	}
	return b
}

var mutationArgs = [][]string{
	nil, {"--windows"}, {"--window", "1s"}, {"--window", "7s"}, {"--strict", "--windows"},
	{"--format", "json", "--window", "2s"}, {"--instances", "--windows"}, {"--profile", "rest"},
	{"report", "-o", os.DevNull}, {"report", "--window", "3s", "--profile", "rest", "-o", os.DevNull},
}

// runMutated runs k6verdict on one input and checks the exit code, time and memory.
func runMutated(t testing.TB, dir string, i int, data []byte, args []string) {
	p := filepath.Join(dir, "in-"+strconv.Itoa(i%4))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	args = append([]string{}, args...)
	if len(args) == 0 || args[0] != "report" {
		args = append(args, "--color", "never")
	}
	code := Run(context.Background(), append(args, p), nil, &o, &e)
	took := time.Since(start)
	runtime.ReadMemStats(&ms1)
	if code != ExitOK && code != ExitThresholds && code != ExitUsage {
		t.Fatalf("run %d %v: exit %d\nstderr:\n%s", i, args, code, e.String())
	}
	if took > maxRunTime {
		t.Fatalf("run %d %v: took %s", i, args, took)
	}
	if a := ms1.TotalAlloc - ms0.TotalAlloc; a > maxRunAlloc {
		t.Fatalf("run %d %v: allocated %d MiB", i, args, a>>20)
	}
}

func TestMutations(t *testing.T) {
	n := defaultMutations
	if s := os.Getenv("K6VERDICT_MUTATIONS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("K6VERDICT_MUTATIONS: %v", err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("K6VERDICT_MUTATION_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 17))
	seeds := mutationSeeds(t)
	names := sortedKeys(seeds)
	dir := t.TempDir()
	for i := range n {
		name := names[r.IntN(len(names))]
		data := mutate(r, seeds[name], strings.HasSuffix(name, ".csv"))
		if r.IntN(3) == 0 {
			data = gz(t, data)
			if r.IntN(2) == 0 {
				data = data[:r.IntN(len(data)+1)]
			}
		}
		args := mutationArgs[r.IntN(len(mutationArgs))]
		t.Run("", func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d (K6VERDICT_MUTATION_SEED=%d), input %s", seed, seed, name)
				}
			}()
			runMutated(t, dir, i, data, args)
		})
		if t.Failed() {
			return
		}
	}
	t.Logf("%d mutated runs, seed %d", n, seed)
}

// FuzzRun is the fuzzing form of TestMutations (make fuzz): any input, any flags among
// mutationArgs, only exit codes 0, 99 and 2.
func FuzzRun(f *testing.F) {
	for name, b := range mutationSeeds(f) {
		f.Add(b, uint8(len(name)))
	}
	dir := f.TempDir()
	var n int
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		n++
		runMutated(t, dir, n, data, mutationArgs[int(flags)%len(mutationArgs)])
	})
}
