// Command k6verdict prints threshold verdicts from k6 output; see package analyzer.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/pixelk6/pixelk6/analyzer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := analyzer.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
