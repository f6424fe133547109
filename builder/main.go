package builder

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"strings"
	"text/template"
)

// ModulePath is pixelk6's Go module.
const ModulePath = "github.com/pixelk6/pixelk6"

// DefaultExtensions are the extension packages every pixelk6 binary links: cmd/pixelk6's and
// every `pixelk6 build`'s.
var DefaultExtensions = []string{ModulePath + "/extension/pixel"}

var mainTemplate = template.Must(template.New("main").Parse(`{{.Doc}}package main

import (
	"os"

	"github.com/pixelk6/pixelk6/cli"

	// Extensions: each package's init registers its k6/x/ module (modules.Register).
{{range .Imports}}	_ "{{.}}"
{{end}})

func main() { os.Exit(cli.Main()) }
`))

// Main returns the source of a pixelk6 main package (gofmt-formatted): doc (comment lines
// without a trailing newline, or "") as its package comment, and a blank import of each
// extension package, sorted, duplicates dropped. cmd/pixelk6/main.go is Main's output
// (TestCommandMainsAreGenerated keeps it so), and `pixelk6 build` writes Main's output with
// DefaultExtensions and the --with packages.
func Main(doc string, imports []string) ([]byte, error) {
	imports = slices.Clone(imports)
	slices.Sort(imports)
	imports = slices.Compact(imports)
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	var b bytes.Buffer
	if err := mainTemplate.Execute(&b, struct {
		Doc     string
		Imports []string
	}{doc, imports}); err != nil {
		return nil, err
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("generated main: %w", err)
	}
	return src, nil
}
