package js

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"
)

// wrapperHead opens the CommonJS function every file is compiled into. It sits on its own
// line; the source map is shifted down by one line to match (see compileSource).
const wrapperHead = "(function (exports, require, module, __filename, __dirname) {\n"

// compiled is one transformed and compiled file. Its program evaluates to the module
// function; the program is shared by every VU's runtime.
type compiled struct {
	path string // absolute path
	prog *goja.Program
}

// compiler transforms and compiles files once each and caches them by absolute path. It is
// safe for concurrent use (VUs initialise in parallel).
type compiler struct {
	readFile func(path string) ([]byte, error)

	mu    sync.Mutex
	cache map[string]*compileEntry
}

type compileEntry struct {
	once sync.Once
	c    *compiled
	err  error
}

func newCompiler(readFile func(string) ([]byte, error)) *compiler {
	if readFile == nil {
		readFile = os.ReadFile
	}
	return &compiler{readFile: readFile, cache: make(map[string]*compileEntry)}
}

// load returns the compiled program of the file at the absolute path abs.
func (c *compiler) load(abs string) (*compiled, error) {
	c.mu.Lock()
	e, ok := c.cache[abs]
	if !ok {
		e = &compileEntry{}
		c.cache[abs] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		src, err := c.readFile(abs)
		if err != nil {
			e.err = fmt.Errorf("reading script %q: %w", abs, err)
			return
		}
		prog, err := compileSource(abs, string(src))
		if err != nil {
			e.err = err
			return
		}
		e.c = &compiled{path: abs, prog: prog}
	})
	return e.c, e.err
}

// transform turns an ES module or TypeScript file into CommonJS for goja, returning the code
// and its source map (JSON).
func transform(name, src string) (code string, srcMap []byte, err error) {
	loader := api.LoaderJS
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ts", ".mts", ".cts":
		loader = api.LoaderTS
	}
	res := api.Transform(src, api.TransformOptions{
		Loader:     loader,
		Format:     api.FormatCommonJS,
		Target:     api.ES2017,
		Supported:  map[string]bool{"async-generator": false, "for-await": false},
		Sourcemap:  api.SourceMapExternal,
		Sourcefile: name,
		// Keep the user's text out of the map: goja only needs the mappings.
		SourcesContent: api.SourcesContentExclude,
		LogLevel:       api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		if m.Location != nil {
			return "", nil, fmt.Errorf("%s:%d:%d: SyntaxError: %s", name, m.Location.Line, m.Location.Column+1, m.Text)
		}
		return "", nil, fmt.Errorf("%s: SyntaxError: %s", name, m.Text)
	}
	return string(res.Code), res.Map, nil
}

// compileSource transforms src and compiles it wrapped in the CommonJS module function, with
// an inline source map so that goja reports positions in the user's file.
func compileSource(name, src string) (*goja.Program, error) {
	code, srcMap, err := transform(name, src)
	if err != nil {
		return nil, err
	}
	shifted, err := shiftSourceMap(srcMap)
	if err != nil {
		return nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	var b strings.Builder
	b.Grow(len(wrapperHead) + len(code) + len(shifted)*4/3 + 64)
	b.WriteString(wrapperHead)
	b.WriteString(code)
	b.WriteString("\n})\n//# sourceMappingURL=data:application/json;base64,")
	b.WriteString(base64.StdEncoding.EncodeToString(shifted))
	b.WriteByte('\n')
	prog, err := goja.Compile(name, b.String(), false)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	return prog, nil
}

// shiftSourceMap moves every mapping one generated line down, for the wrapper's first line.
func shiftSourceMap(m []byte) ([]byte, error) {
	var sm map[string]any
	if err := json.Unmarshal(m, &sm); err != nil {
		return nil, err
	}
	mappings, _ := sm["mappings"].(string)
	sm["mappings"] = ";" + mappings
	return json.Marshal(sm)
}

// resolvePath resolves a local import specifier relative to the importing file's directory,
// trying the bare path, then .js and .ts extensions and index files.
func resolvePath(fromDir, spec string, exists func(string) bool) (string, error) {
	p := spec
	if !filepath.IsAbs(p) {
		p = filepath.Join(fromDir, spec)
	}
	p = filepath.Clean(p)
	candidates := []string{p, p + ".js", p + ".ts", filepath.Join(p, "index.js"), filepath.Join(p, "index.ts")}
	for _, c := range candidates {
		if exists(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("cannot find module %q (resolved to %q)", spec, p)
}

// isLocalSpec reports whether an import specifier names a file rather than a built-in module.
func isLocalSpec(spec string) bool {
	return strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/") ||
		strings.HasPrefix(spec, "file://")
}
