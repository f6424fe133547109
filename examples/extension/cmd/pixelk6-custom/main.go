// Command pixelk6-custom is pixelk6 with one more extension linked in: k6/x/sentiment.
// It is cmd/pixelk6's main plus a blank import, which is all an xk6-style build does
// (builder.Main writes it: go test ./builder -update-mains):
//
//	go build -o bin/pixelk6-custom ./examples/extension/cmd/pixelk6-custom
//	bin/pixelk6-custom run examples/extension/script.js
package main

import (
	"os"

	"github.com/pixelk6/pixelk6/cli"

	// Extensions: each package's init registers its k6/x/ module (modules.Register).
	_ "github.com/pixelk6/pixelk6/examples/extension/sentiment"
	_ "github.com/pixelk6/pixelk6/extension/pixel"
)

func main() { os.Exit(cli.Main()) }
