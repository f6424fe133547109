// Command pixelk6 is a k6-compatible load-testing runner; see package cli for its manual
// and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pixelk6/pixelk6/cli"

	// Extensions are linked the way an xk6 build links them: one blank import each.
	_ "github.com/pixelk6/pixelk6/extension/pixel"
)

func main() {
	// The first SIGINT/SIGTERM stops the test gracefully (exit code 105); once it has been
	// received, the signals get their default action again, so a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
