package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestClassify(t *testing.T) {
	race := `fuzz: elapsed: 0s, gathering baseline coverage: 96/96 completed, now fuzzing with 2 workers
fuzz: elapsed: 3s, execs: 112612 (37535/sec), new interesting: 3 (total: 99)
--- FAIL: FuzzFastPoint (3.05s)
    context deadline exceeded
FAIL
exit status 1
FAIL	github.com/pixelk6/pixelk6/k6file	3.065s
`
	finding := `fuzz: elapsed: 0s, gathering baseline coverage: 4/4 completed, now fuzzing with 2 workers
fuzz: elapsed: 1s, execs: 9000 (9000/sec), new interesting: 1 (total: 5)
--- FAIL: FuzzX (1.20s)
    --- FAIL: FuzzX (0.00s)
        x_test.go:12: round trip: got "a", want "b"

    Failing input written to testdata/fuzz/FuzzX/0123
    To re-run:
    go test -run=FuzzX/0123
FAIL
`
	panicked := `fuzz: elapsed: 0s, gathering baseline coverage: 4/4 completed, now fuzzing with 2 workers
--- FAIL: FuzzX (0.40s)
    context deadline exceeded
    panic: runtime error: index out of range
FAIL
`
	buildError := `# github.com/pixelk6/pixelk6/k6file
k6file/x_test.go:3:1: syntax error
FAIL	github.com/pixelk6/pixelk6/k6file [build failed]
`
	seedFailure := `--- FAIL: FuzzX (0.00s)
    --- FAIL: FuzzX/seed#0 (0.00s)
        x_test.go:12: context deadline exceeded
FAIL
`
	for _, c := range []struct {
		name string
		ok   bool
		out  string
		want outcome
	}{
		{"pass", true, "PASS\n", passed},
		{"boundary race", false, race, boundaryRace},
		{"failing input", false, finding, failedRun},
		{"more than the bare message", false, panicked, failedRun},
		{"build error", false, buildError, failedRun},
		{"seed corpus failure before fuzzing", false, seedFailure, failedRun},
	} {
		if got := classify(c.ok, c.out); got != c.want {
			t.Errorf("%s: classify = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/a_test.go", "package a\nfunc FuzzB(f *testing.F) {}\nfunc FuzzA(f *testing.F) {}\n// func FuzzComment(\n")
	write("a/a.go", "package a\nfunc FuzzNotATest(f int) {}\n")
	write("a/testdata/t_test.go", "package t\nfunc FuzzInTestdata(f *testing.F) {}\n")
	write("b/b_test.go", "package b\nfunc FuzzC(f *testing.F) {}\n")
	got, err := discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range got {
		names = append(names, filepath.Base(tg.pkg)+"."+tg.name)
	}
	want := []string{"a.FuzzA", "a.FuzzB", "b.FuzzC"}
	if len(names) != len(want) {
		t.Fatalf("discover = %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("discover = %v, want %v", names, want)
		}
	}
}
