// Command pixelsim serves a reference Pixelated Empathy API on loopback; see package simulator.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pixelk6/pixelk6/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := simulator.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
