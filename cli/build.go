package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/builder"
	"github.com/pixelk6/pixelk6/engine"
)

// buildCmd is `pixelk6 build [VERSION] [--pixelk6-version VERSION] --with MODULE[@VERSION][=REPLACEMENT]...
// [--replace MODULE[@VERSION]=REPLACEMENT]... [-o FILE]`: xk6 build's command line for a
// custom pixelk6 binary (package builder). It prints the binary's path on stdout and the
// steps on stderr; a failure exits with 255 and go's own message.
func buildCmd(ctx context.Context, code *int, stdout, stderr io.Writer) *cobra.Command {
	var version, output string
	var with, replace []string
	cmd := &cobra.Command{
		Use:   "build [VERSION] --with MODULE[@VERSION][=REPLACEMENT]... [-o FILE]",
		Short: "Build a custom pixelk6 binary with extensions, as xk6 build does for k6",
		Long: `Build a pixelk6 binary with extensions linked in (needs a Go toolchain on PATH).

  --with github.com/acme/xk6-foo                the latest version
  --with github.com/acme/xk6-foo@v1.2.0         that version
  --with github.com/acme/xk6-foo=../xk6-foo     a local checkout
  --with github.com/acme/xk6-foo@v1.2.0=../fork required at v1.2.0, built from ../fork
  --replace MODULE[@VERSION]=PATH|MODULE@VERSION  any other module replacement

pixelk6 itself is required at this binary's own version, or at --pixelk6-version (also the
optional VERSION argument), or replaced: --replace github.com/pixelk6/pixelk6=../pixelk6.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			fail := func(err error) error {
				*code = engine.ExitGeneric
				fmt.Fprintf(stderr, "error: %v\n", err)
				return nil
			}
			if len(args) == 1 {
				if version != "" && version != args[0] {
					return fail(fmt.Errorf("two pixelk6 versions: %q and --pixelk6-version %q", args[0], version))
				}
				version = args[0]
			}
			o := builder.Options{PixelK6Version: version, Output: output, Log: stderr}
			for _, s := range with {
				w, err := builder.ParseWith(s)
				if err != nil {
					return fail(err)
				}
				o.With = append(o.With, w)
			}
			for _, s := range replace {
				r, err := builder.ParseReplace(s)
				if err != nil {
					return fail(err)
				}
				o.Replace = append(o.Replace, r)
			}
			bin, err := builder.Build(ctx, o)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintln(stdout, bin)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&version, "pixelk6-version", "", "the pixelk6 module version to build on (default: this binary's own)")
	f.StringArrayVar(&with, "with", nil, "link in the extension `MODULE[@VERSION][=REPLACEMENT]` (repeatable)")
	f.StringArrayVar(&replace, "replace", nil, "replace a module: `MODULE[@VERSION]=PATH|MODULE@VERSION` (repeatable)")
	f.StringVarP(&output, "output", "o", "", "write the binary to `FILE` (default ./pixelk6)")
	return cmd
}
