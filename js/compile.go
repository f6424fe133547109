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
// line; the source map is shifted down by one line to match (see compileSource). Its last
// parameter reports whether a value is a built-in module's exports object (see
// slimInterop).
const wrapperHead = "(function (exports, require, module, __filename, __dirname, __pixelk6Builtin) {\n"

// esbuild's CommonJS interop helpers, as the pinned esbuild emits them, and the cheaper
// versions slimInterop puts in their place. Per VU, the originals copy every export of an
// imported module onto a fresh object as a getter (an arrow function and a descriptor per
// export, and each export of a built-in module converted to a JavaScript value just to read
// its descriptor): about 20 KB per VU for `import http from 'k6/http'`.
const (
	esbuildToESM   = "var __toESM = (mod, isNodeMode, target) => (target = "
	slimToESM      = "var __toESM = (mod, isNodeMode, target) => __pixelk6Builtin(mod) ? mod : (target = "
	esbuildToCJS   = "var __toCommonJS = (mod) => __copyProps(__defProp({}, \"__esModule\", { value: true }), mod);"
	slimToCommonJS = "var __toCommonJS = (mod) => __defProp(mod, \"__esModule\", { value: true });"
	esbuildExport  = "for (var name in all)\n    __defProp(target, name,"
	slimExport     = "for (var __k = Object.keys(all), __i = 0, name; __i < __k.length && (name = __k[__i], true); __i++)\n    __defProp(target, name,"
)

// slimInterop replaces some of esbuild's helpers in code (line for line, so the source map
// still holds):
//   - __toESM (default and namespace imports) returns a built-in module's exports object
//     itself: it already has __esModule, default (itself) and every named export, resolved
//     lazily, so the copy esbuild makes would only mirror it;
//   - __toCommonJS (a file's own exports) marks the object esbuild's __export filled with
//     live-binding getters as the module's exports instead of mirroring it into another
//     object of getters;
//   - __export walks Object.keys of its object literal with an index instead of for-in,
//     which would enumerate (and so build) every lazily made method of Object.prototype (a
//     for-of would build the array iterator machinery instead);
//   - the aliases of Object's methods (see inlineAliases).
//
// Code without these helpers (no imports or exports, or another esbuild version) is left
// as it is and keeps esbuild's behaviour.
func slimInterop(code string) string {
	code = strings.Replace(code, esbuildToESM, slimToESM, 1)
	code = strings.Replace(code, esbuildExport, slimExport, 1)
	code = strings.Replace(code, esbuildToCJS, slimToCommonJS, 1)
	return inlineAliases(code)
}

// inlinedAliases are esbuild's helper aliases of Object's (and Reflect's) methods that inlineAliases
// replaces by the methods themselves. __defProp stays: __export calls it in every module.
var inlinedAliases = []struct{ name, expr string }{
	{"__create", "Object.create"},
	{"__defProps", "Object.defineProperties"},
	{"__freeze", "Object.freeze"},
	{"__getOwnPropDescs", "Object.getOwnPropertyDescriptors"},
	{"__getOwnPropDesc", "Object.getOwnPropertyDescriptor"},
	{"__getOwnPropNames", "Object.getOwnPropertyNames"},
	{"__getOwnPropSymbols", "Object.getOwnPropertySymbols"},
	{"__getProtoOf", "Object.getPrototypeOf"},
	{"__hasOwnProp", "Object.prototype.hasOwnProperty"},
	{"__propIsEnum", "Object.prototype.propertyIsEnumerable"},
	{"__reflectGet", "Reflect.get"},
	{"__reflectSet", "Reflect.set"},
}

// inlineAliases removes esbuild's `var __create = Object.create;`-style alias lines and
// writes the method at each use instead. Reading a method of Object makes goja build it (a
// function object, about 900 bytes per VU each), and most uses of the aliases sit in
// helpers a VU seldom runs (__copyProps for local default imports, __spreadValues for
// object spread), so they are now looked up only when called. An alias is inlined only
// when its declaration is present: esbuild then renamed any user symbol of the same name.
func inlineAliases(code string) string {
	for _, a := range inlinedAliases {
		decl := "var " + a.name + " = " + a.expr + ";\n"
		i := strings.Index(code, decl)
		if i < 0 || (i > 0 && code[i-1] != '\n') {
			continue
		}
		code = code[:i] + "\n" + code[i+len(decl):]
		code = replaceIdent(code, a.name, a.expr)
	}
	return code
}

// replaceIdent replaces every occurrence of the JavaScript identifier name in code (not as
// part of a longer identifier or after a dot) by expr.
func replaceIdent(code, name, expr string) string {
	isIdent := func(c byte) bool {
		return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	}
	var b strings.Builder
	var prev byte = '\n' // the byte before code
	for {
		i := strings.Index(code, name)
		if i < 0 {
			b.WriteString(code)
			return b.String()
		}
		before := prev
		if i > 0 {
			before = code[i-1]
		}
		end := i + len(name)
		whole := !isIdent(before) && before != '.' && (end == len(code) || !isIdent(code[end]))
		b.WriteString(code[:i])
		if whole {
			b.WriteString(expr)
		} else {
			b.WriteString(name)
		}
		prev = code[end-1]
		code = code[end:]
	}
}

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
	b.WriteString(slimInterop(code))
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
