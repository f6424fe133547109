// Command fuzzall runs every fuzz target in the module for a fixed time
// each: `go run ./internal/cmd/fuzzall -fuzztime 3s`. Targets are found by
// name in the *_test.go files, so a new one is included without a list.
//
// Go 1.26's fuzz coordinator has a race at the -fuzztime boundary
// (golang/go#75804, fixed in Go 1.27): under CPU contention a target that
// found nothing can fail with a bare "context deadline exceeded". fuzzall
// tells that apart from a real failure by its exact shape (see classify)
// and reports it as a warning; anything else, a failing input above all,
// fails the run.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	fuzztime := flag.String("fuzztime", "3s", "the -fuzztime of each target")
	gocmd := flag.String("go", "go", "the go command")
	flag.Parse()
	targets, err := discover(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzall:", err)
		os.Exit(1)
	}
	failed := 0
	for _, t := range targets {
		fmt.Printf("fuzz %s %s (%s)\n", t.pkg, t.name, *fuzztime)
		var out bytes.Buffer
		cmd := exec.Command(*gocmd, "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", *fuzztime, t.pkg)
		cmd.Stdout = io.MultiWriter(os.Stdout, &out)
		cmd.Stderr = cmd.Stdout
		runErr := cmd.Run()
		switch classify(runErr == nil, out.String()) {
		case passed:
		case boundaryRace:
			fmt.Printf("fuzzall: %s %s: WARNING: a bare \"context deadline exceeded\" at the -fuzztime boundary with no failing input: Go's coordinator race golang/go#75804, not a finding; the target ran its time\n", t.pkg, t.name)
		default:
			fmt.Printf("fuzzall: %s %s: FAILED\n", t.pkg, t.name)
			failed++
		}
	}
	if failed > 0 {
		fmt.Printf("fuzzall: %d of %d targets failed\n", failed, len(targets))
		os.Exit(1)
	}
	fmt.Printf("fuzzall: %d targets passed\n", len(targets))
}

type target struct{ pkg, name string }

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz[A-Za-z0-9_]*)\(`)

// discover lists the fuzz targets of every package under root, skipping
// testdata and hidden directories as the go command does.
func discover(root string) ([]target, error) {
	var targets []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := d.Name()
			if path != root && (base == "testdata" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			targets = append(targets, target{pkg: "./" + filepath.ToSlash(filepath.Dir(path)), name: string(m[1])})
		}
		return nil
	})
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].pkg != targets[j].pkg {
			return targets[i].pkg < targets[j].pkg
		}
		return targets[i].name < targets[j].name
	})
	return targets, err
}

type outcome int

const (
	passed outcome = iota
	failedRun
	boundaryRace
)

// classify names the outcome of one `go test -fuzz` run. A failure counts
// as the coordinator's boundary race only in its exact shape: fuzzing ran
// (the "fuzz: elapsed" lines), no failing input was written, and the
// target's failure report holds "context deadline exceeded" and nothing
// else.
func classify(ok bool, output string) outcome {
	if ok {
		return passed
	}
	if !strings.Contains(output, "fuzz: elapsed:") || strings.Contains(output, "Failing input written") {
		return failedRun
	}
	var report []string
	inFail := false
	fails := 0
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--- FAIL: "):
			inFail = true
			fails++
		case inFail && strings.HasPrefix(line, "    "):
			report = append(report, strings.TrimSpace(line))
		case inFail:
			inFail = false
		}
	}
	if fails == 1 && len(report) == 1 && report[0] == "context deadline exceeded" {
		return boundaryRace
	}
	return failedRun
}
