// Command k6verdict prints threshold verdicts from k6 output; see package analyzer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pixelk6/pixelk6/analyzer"
)

func main() {
	// Ctrl-C (or SIGTERM) cancels ctx: k6verdict stops wherever it is and exits 130. Once
	// ctx is done the handler is removed, so a second Ctrl-C kills the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := analyzer.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
