// Command pixelk6 is a k6-compatible load-testing runner; see package cli for its manual
// and exit codes. This file is builder.Main's output (go test ./builder -update-mains), the
// main that `pixelk6 build` writes for a custom binary too.
package main

import (
	"os"

	"github.com/pixelk6/pixelk6/cli"

	// Extensions: each package's init registers its k6/x/ module (modules.Register).
	_ "github.com/pixelk6/pixelk6/extension/pixel"
)

func main() { os.Exit(cli.Main()) }
