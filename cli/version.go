package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pixelk6/pixelk6/js/modules"
)

// extension is one linked k6/x/ module: its import name, the Go package that registered it,
// and that package's Go module and version as the binary's build information records them.
type extension struct {
	Name    string `json:"name"`
	Package string `json:"package"`
	Module  string `json:"module"`
	Version string `json:"version"`
}

// linkedExtensions are the registered k6/x/ modules, sorted by name, with their Go modules.
func linkedExtensions() []extension {
	bi, _ := debug.ReadBuildInfo()
	var out []extension
	for _, r := range modules.Registrations() {
		if !strings.HasPrefix(r.Name, "k6/x/") {
			continue
		}
		mod, ver := moduleOf(bi, r.Package)
		out = append(out, extension{Name: r.Name, Package: r.Package, Module: mod, Version: ver})
	}
	return out
}

// zeroPseudo is the version go writes for a requirement that only a directory replacement
// satisfies.
const zeroPseudo = "v0.0.0-00010101000000-000000000000"

// moduleOf returns the Go module that holds package pkg in the build bi (the main module or
// the dependency with the longest matching path) and its version: a dependency replaced by
// another module shows the replacement's version, one replaced by a directory the version
// required, or "(devel)" when only the directory satisfies it (as go writes such a
// requirement). Unknown (no build information): pkg, "(devel)".
func moduleOf(bi *debug.BuildInfo, pkg string) (path, version string) {
	path, version = pkg, "(devel)"
	if bi == nil {
		return path, version
	}
	within := func(mod string) bool { return mod != "" && (pkg == mod || strings.HasPrefix(pkg, mod+"/")) }
	best := ""
	if within(bi.Main.Path) {
		best, version = bi.Main.Path, bi.Main.Version
	}
	for _, d := range bi.Deps {
		if !within(d.Path) || len(d.Path) <= len(best) {
			continue
		}
		best, version = d.Path, d.Version
		if r := d.Replace; r != nil {
			switch {
			case r.Version != "" && r.Version != "(devel)":
				version = r.Version // another module
			case d.Version == zeroPseudo:
				version = "(devel)" // a directory, and no real version required
			}
		}
	}
	if best == "" {
		return pkg, "(devel)"
	}
	if version == "" {
		version = "(devel)"
	}
	return best, version
}

// versionCmd is `pixelk6 version [--json]`: the version and the linked extensions, in k6's
// format: one line per module name, `  MODULE VERSION, k6/x/NAME [js]`; with --json,
// k6's object, one entry per Go module with the names it provides under "imports".
func versionCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show the version and the linked extensions",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			exts := linkedExtensions()
			if asJSON {
				type ext struct {
					Module  string   `json:"module"`
					Version string   `json:"version"`
					Imports []string `json:"imports"`
				}
				v := struct {
					Version    string `json:"version"`
					GoVersion  string `json:"go_version"`
					GoOS       string `json:"go_os"`
					GoArch     string `json:"go_arch"`
					Extensions []ext  `json:"extensions"`
				}{Version: "v" + Version, GoVersion: runtime.Version(), GoOS: runtime.GOOS, GoArch: runtime.GOARCH, Extensions: []ext{}}
				at := map[string]int{}
				for _, e := range exts {
					i, ok := at[e.Module]
					if !ok {
						i = len(v.Extensions)
						at[e.Module] = i
						v.Extensions = append(v.Extensions, ext{Module: e.Module, Version: e.Version})
					}
					v.Extensions[i].Imports = append(v.Extensions[i].Imports, e.Name)
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			fmt.Fprintln(stdout, versionLine())
			if len(exts) > 0 {
				fmt.Fprintln(stdout, "Extensions:")
				for _, e := range exts {
					fmt.Fprintf(stdout, "  %s %s, %s [js]\n", e.Module, e.Version, e.Name)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}

// extensionsCheckCmd is the hidden command `pixelk6 build` runs on the binary it built: it
// prints the linked k6/x/ modules as JSON, each with the Go package that registered it, so
// that the builder can tell which --with module provides which name. (Two extensions that
// register one name never get here: modules.Register panics at start, naming both.)
const extensionsCheckName = "__extensions"

func extensionsCheckCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:    extensionsCheckName,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			exts := linkedExtensions()
			if exts == nil {
				exts = []extension{}
			}
			return json.NewEncoder(stdout).Encode(exts)
		},
	}
}
