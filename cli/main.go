package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pixelk6/pixelk6/internal/gctune"
)

// Main is the whole of a pixelk6 binary's main (cmd/pixelk6's and every `pixelk6 build`'s):
// it runs the command line in os.Args and returns the exit code for os.Exit. The first
// SIGINT/SIGTERM stops a test gracefully (exit code 105); once it has been received, the
// signals get their default action again, so a second one kills.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	// The collector gets a floor of headroom (package gctune) unless GOGC or GOMEMLIMIT is
	// set; it runs until the command returns, whatever the signals do.
	stopGC := gctune.Start(context.Background(), os.LookupEnv)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopGC()
	stop()
	return code
}
