package analyzer

import (
	"context"
	"io"

	"github.com/pixelk6/pixelk6/k6file"
)

// readCSV reads k6 CSV output into sh with k6file's Scanner. A bad last row without its
// newline is a warning (a crashed run); other bad rows are counted in bad.
func readCSV(ctx context.Context, file string, r io.Reader, tt *typeTable, sh *shard, bad *badLines, warn func(string, ...any)) (lines int64, err error) {
	sc := k6file.NewScanner(r, k6file.CSV)
	sc.OnSyntaxError = func(e *k6file.SyntaxError) error {
		if e.Truncated {
			warn("%s:%d: last row is truncated or invalid (a crashed run?) and was ignored: %v", file, e.Line, e.Err)
			return nil
		}
		bad.add(file, e.Line, e.Err)
		if bad.tooMany() {
			return ErrTooManyBadLines
		}
		return nil
	}
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return sc.Lines(), ctx.Err()
		}
		foldRecord(tt, sh, sc.Record())
	}
	return sc.Lines(), sc.Err()
}
