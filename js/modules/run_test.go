package modules_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pixelk6/pixelk6/js/modules"
)

type closer struct {
	name string
	log  *[]string
	err  error
}

func (c *closer) Close() error { *c.log = append(*c.log, c.name); return c.err }

type runKey string

func TestRun(t *testing.T) {
	var log []string
	r := modules.NewRun()
	made := 0
	mk := func(name string, err error) func() (*closer, error) {
		return func() (*closer, error) { made++; return &closer{name: name, log: &log, err: err}, nil }
	}
	a1, err := modules.RunValue(r, runKey("a"), mk("a", nil))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := modules.RunValue(r, runKey("a"), mk("a again", nil))
	if a1 != a2 || made != 1 {
		t.Fatalf("second Value made a new value (made %d)", made)
	}
	if _, err := modules.RunValue(r, runKey("b"), mk("b", errors.New("b close failed"))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Value(runKey("bad"), func() (any, error) { return nil, errors.New("no") }); err == nil {
		t.Fatal("create's error was not returned")
	}
	if n, err := modules.RunValue(r, runKey("plain"), func() (int, error) { return 7, nil }); err != nil || n != 7 {
		t.Fatalf("a value that is not a Closer: %v, %v", n, err)
	}
	if _, err := modules.RunValue[string](r, runKey("a"), func() (string, error) { return "", nil }); err == nil {
		t.Fatal("a value of the wrong type was returned")
	}
	if err := r.Close(); err == nil || err.Error() != "b close failed" {
		t.Fatalf("Close = %v, want b's error", err)
	}
	if strings.Join(log, ",") != "b,a" {
		t.Errorf("closed %v, want the last created first", log)
	}
	if _, err := r.Value(runKey("a"), nil); !errors.Is(err, modules.ErrRunEnded) {
		t.Errorf("Value after Close: %v", err)
	}
	if err := r.Close(); err != nil || len(log) != 2 {
		t.Errorf("second Close = %v, closed %v", err, log)
	}
}
