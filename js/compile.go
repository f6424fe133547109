package js

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
// Only esbuild's helper block is rewritten (see helperBlock): the user's code, its strings,
// template literals, comments, regular expressions and identifiers, is never touched. The
// first unmapped lines of the output (unmapped: the number of generated lines the source
// map leaves without a mapping at the top) are esbuild's own; code without such a block
// (no helpers, or another esbuild version's layout) is left as it is and keeps esbuild's
// behaviour.
func slimInterop(code string, unmapped int) string {
	start, end, ok := helperBlock(code, unmapped)
	if !ok {
		return code
	}
	block, rest := code[start:end], code[end:]
	block = strings.Replace(block, esbuildToESM, slimToESM, 1)
	block = strings.Replace(block, esbuildExport, slimExport, 1)
	block = strings.Replace(block, esbuildToCJS, slimToCommonJS, 1)
	return code[:start] + inlineAliases(block, rest) + rest
}

// helperBlock returns the byte range [start, end) of esbuild's helper declarations in code:
// within its first unmapped lines (which the source map does not map to the user's file,
// so esbuild wrote them), after an optional hashbang and directive prologue ("use strict"),
// a run of top-level `var __name = ...;` statements whose continuation lines are indented
// or close a bracket. ok is false when those lines hold anything else: then nothing is
// rewritten.
func helperBlock(code string, unmapped int) (start, end int, ok bool) {
	inBlock := false
	pos := 0
	for line := 0; line < unmapped; line++ {
		if pos >= len(code) {
			return 0, 0, false
		}
		n := strings.IndexByte(code[pos:], '\n')
		if n < 0 {
			return 0, 0, false // the block ends with a newline before the mapped code
		}
		text := code[pos : pos+n]
		switch {
		case isHelperDecl(text):
			if !inBlock {
				inBlock, start = true, pos
			}
		case inBlock && text != "" && strings.IndexByte(" \t})]", text[0]) >= 0:
			// a continuation line of the current declaration
		case !inBlock && (strings.HasPrefix(text, "#!") || strings.HasPrefix(text, `"`) || strings.HasPrefix(text, "'")):
			// hashbang or directive before the helpers
		default:
			return 0, 0, false
		}
		pos += n + 1
	}
	return start, pos, inBlock
}

// isHelperDecl reports whether line declares an esbuild helper: `var __name = `, the name
// being letters only (esbuild's helpers are __camelCase; its renamed user symbols end in a
// digit).
func isHelperDecl(line string) bool {
	rest, ok := strings.CutPrefix(line, "var __")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z') {
		i++
	}
	return i > 0 && strings.HasPrefix(rest[i:], " = ")
}

// unmappedLines returns the number of generated lines at the top of a source map (JSON)
// that map to nothing in the source: each is an empty group of its mappings.
func unmappedLines(srcMap []byte) (int, error) {
	var sm struct {
		Mappings string `json:"mappings"`
	}
	if err := json.Unmarshal(srcMap, &sm); err != nil {
		return 0, err
	}
	n := 0
	for n < len(sm.Mappings) && sm.Mappings[n] == ';' {
		n++
	}
	return n, nil
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

// inlineAliases removes esbuild's `var __create = Object.create;`-style alias lines from
// block (esbuild's helper block) and writes the method at each use in the block instead.
// Reading a method of Object makes goja build it (a function object, about 900 bytes per VU
// each), and most uses of the aliases sit in helpers a VU seldom runs (__copyProps for local
// default imports, __spreadValues for object spread), so they are now looked up only when
// called. An alias is inlined only when its declaration is in the block and its name appears
// nowhere in rest (the code after the block) as a whole word, not even inside a string: rest
// is never rewritten, so a use there needs the declaration.
func inlineAliases(block, rest string) string {
	for _, a := range inlinedAliases {
		decl := "var " + a.name + " = " + a.expr + ";\n"
		i := strings.Index(block, decl)
		if i < 0 || (i > 0 && block[i-1] != '\n') || indexIdent(rest, a.name, false) >= 0 {
			continue
		}
		block = block[:i] + "\n" + block[i+len(decl):]
		block = replaceIdent(block, a.name, a.expr)
	}
	return block
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// indexIdent returns the index of the first occurrence of name in code that is not part of
// a longer identifier (and, unless afterDot, not a property name after a dot), or -1.
func indexIdent(code, name string, afterDot bool) int {
	for off := 0; ; {
		i := strings.Index(code[off:], name)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(name)
		before := byte('\n')
		if i > 0 {
			before = code[i-1]
		}
		if !isIdentByte(before) && (afterDot || before != '.') && (end == len(code) || !isIdentByte(code[end])) {
			return i
		}
		off = end
	}
}

// replaceIdent replaces every occurrence of the JavaScript identifier name in code (not as
// part of a longer identifier or after a dot) by expr. It knows no strings or comments: it
// is for esbuild's helper block only.
func replaceIdent(code, name, expr string) string {
	var b strings.Builder
	for {
		i := indexIdent(code, name, false)
		if i < 0 {
			b.WriteString(code)
			return b.String()
		}
		b.WriteString(code[:i])
		b.WriteString(expr)
		code = code[i+len(name):]
	}
}

// compiled is one transformed and compiled file. Its program evaluates to the module
// function; the program is shared by every VU's runtime.
type compiled struct {
	path  string // absolute path
	prog  *goja.Program
	async bool // the program is an async module function (top-level await)

	// For a CommonJS module: its source and the specifiers it requires with a literal,
	// so that it can become an async module function when one of its imports (or theirs)
	// awaits at top level (see vu.asyncDeps).
	src  string
	deps []string

	// assigned are the k6 globals (setTimeout, console, ...) the source assigns by bare
	// name; see vu.ownGlobals.
	assigned []string

	mu          sync.Mutex
	depsChecked bool
	depsAsync   bool
	tlaProg     *goja.Program // prog compiled as an async module function, made on demand
	tlaErr      error
}

// asyncProgram returns c's program as an async module function (for a module whose
// imports await at top level).
func (c *compiled) asyncProgram() (*goja.Program, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tlaProg == nil && c.tlaErr == nil {
		c.tlaProg, c.tlaErr = compileTLA(c.path, c.src, loaderOf(c.path))
	}
	return c.tlaProg, c.tlaErr
}

// compiler transforms and compiles files once each and caches them by absolute path. It is
// safe for concurrent use (VUs initialise in parallel).
type compiler struct {
	readFile func(path string) ([]byte, error)
	remote   func(ctx context.Context, url string) ([]byte, error)

	mu    sync.Mutex
	cache map[string]*compileEntry
}

type compileEntry struct {
	once sync.Once
	c    *compiled
	err  error
}

func newCompiler(readFile func(string) ([]byte, error), remote func(context.Context, string) ([]byte, error)) *compiler {
	if readFile == nil {
		readFile = os.ReadFile
	}
	if remote == nil {
		remote = FetchRemote(nil)
	}
	return &compiler{readFile: readFile, remote: remote, cache: make(map[string]*compileEntry)}
}

// load returns the compiled program of the file at the absolute path abs, or of the remote
// module at the https URL abs (fetched with ctx by the first caller; its failure is the
// fetch's error, unwrapped).
func (c *compiler) load(ctx context.Context, abs string) (*compiled, error) {
	c.mu.Lock()
	e, ok := c.cache[abs]
	if !ok {
		e = &compileEntry{}
		c.cache[abs] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		var src []byte
		var err error
		if isRemote(abs) {
			if src, err = c.remote(ctx, abs); err != nil {
				e.err = &RemoteModuleError{Spec: abs, URL: abs, Err: err}
				return
			}
		} else if src, err = c.readFile(abs); err != nil {
			e.err = fmt.Errorf("reading script %q: %w", abs, err)
			return
		}
		prog, async, deps, err := compileModule(abs, string(src))
		if err != nil {
			e.err = err
			return
		}
		e.c = &compiled{path: abs, prog: prog, async: async, deps: deps, assigned: assignedGlobals(string(src))}
		if !async {
			e.c.src = string(src)
		}
	})
	return e.c, e.err
}

// transform turns an ES module or TypeScript file into CommonJS for goja, returning the code
// and its source map (JSON).
func transform(name, src string) (code string, srcMap []byte, err error) {
	res := api.Transform(src, api.TransformOptions{
		Loader:     loaderOf(name),
		Format:     api.FormatCommonJS,
		Target:     api.ES2017,
		Supported:  map[string]bool{"async-generator": false, "for-await": false},
		Sourcemap:  api.SourceMapExternal,
		Sourcefile: name,
		// Keep the user's text out of the map: goja only needs the mappings.
		SourcesContent: api.SourcesContentExclude,
		LogLevel:       api.LogLevelSilent,
	})
	if hasTopLevelAwait(res.Errors) {
		return "", nil, errTopLevelAwait
	}
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		if m.Location != nil {
			return "", nil, fmt.Errorf("%s:%d:%d: SyntaxError: %s", name, m.Location.Line, m.Location.Column+1, m.Text)
		}
		return "", nil, fmt.Errorf("%s: SyntaxError: %s", name, m.Text)
	}
	return string(res.Code), res.Map, nil
}

// errTopLevelAwait is transform's answer for a file with top-level await (see tla.go).
var errTopLevelAwait = errors.New("top-level await")

// loaderOf is esbuild's loader for a file name: TypeScript or JavaScript.
func loaderOf(name string) api.Loader {
	if isRemote(name) {
		name, _, _ = strings.Cut(name, "?") // a remote module's query string is no extension
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ts", ".mts", ".cts":
		return api.LoaderTS
	}
	return api.LoaderJS
}

// compileSource transforms src and compiles it wrapped in the CommonJS module function, with
// an inline source map so that goja reports positions in the user's file.
func compileSource(name, src string) (*goja.Program, error) {
	prog, _, _, err := compileModule(name, src)
	return prog, err
}

// compileModule is compileSource that also reports whether the file has top-level await
// (its program is then an async module function, see tla.go) and, for a CommonJS module,
// the specifiers it requires with a literal.
func compileModule(name, src string) (prog *goja.Program, async bool, deps []string, err error) {
	code, srcMap, err := transform(name, src)
	if errors.Is(err, errTopLevelAwait) {
		prog, err := compileTLA(name, src, loaderOf(name))
		return prog, true, nil, err
	}
	prog, err = compileCJS(name, code, srcMap, err)
	return prog, false, requireSpecs(code), err
}

// requireLiteral finds require("spec") and require('spec') in esbuild's output.
var requireLiteral = regexp.MustCompile(`\brequire\((?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')\)`)

// requireSpecs returns the specifiers code requires with a literal, in order, once each. A
// match inside a string or comment is harmless: it only makes the module be checked for
// imports that await.
func requireSpecs(code string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range requireLiteral.FindAllStringSubmatchIndex(code, -1) {
		start := m[2]
		if start < 0 {
			start = m[4]
		}
		spec, _, err := unquoteJS(code[start-1:])
		if err != nil || seen[spec] {
			continue
		}
		seen[spec] = true
		out = append(out, spec)
	}
	return out
}

// compileCJS compiles esbuild's CommonJS output wrapped in the module function.
func compileCJS(name, code string, srcMap []byte, err error) (*goja.Program, error) {
	if err != nil {
		return nil, err
	}
	shifted, err := shiftSourceMap(srcMap)
	if err != nil {
		return nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	unmapped, err := unmappedLines(srcMap)
	if err != nil {
		return nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	strict := wasESModule(code, unmapped)
	var b strings.Builder
	b.Grow(len(wrapperHead) + len(code) + len(shifted)*4/3 + 64)
	b.WriteString(wrapperHead)
	code = slimInterop(code, unmapped)
	if strings.HasPrefix(code, "#!") {
		// esbuild keeps a hashbang line, which is only valid at the very start of a file, not
		// inside the module wrapper: it becomes a comment (same line, so the map still holds).
		code = "//" + code[2:]
	}
	b.WriteString(code)
	b.WriteString("\n})\n//# sourceMappingURL=data:application/json;base64,")
	b.WriteString(base64.StdEncoding.EncodeToString(shifted))
	b.WriteByte('\n')
	prog, err := goja.Compile(name, b.String(), strict)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	return prog, nil
}

// esmImport is how esbuild's CommonJS output starts a converted import statement (also a
// side-effect import, `import './x.js'`, and named imports, which need no helper).
var esmImport = regexp.MustCompile(`(?m)^var import_[\w$]+ = (?:__toESM\()?require\(`)

// wasESModule reports whether esbuild's CommonJS output code came from an ES module (a file
// with import or export statements): k6 runs those as native ES modules, which are strict
// mode code (assigning an undeclared variable throws a ReferenceError, `this` in a plain
// function call is undefined), and a file without them as a CommonJS function, sloppy unless
// it says "use strict". esbuild adds no directive, so the output is read instead: an export
// puts its __export/__toCommonJS helpers in the first unmapped lines, an import becomes a
// `var import_name = require(...)` statement.
func wasESModule(code string, unmapped int) bool {
	head := code
	for i, pos := 0, 0; i < unmapped; i++ {
		n := strings.IndexByte(code[pos:], '\n')
		if n < 0 {
			break
		}
		pos += n + 1
		head = code[:pos]
	}
	if unmapped > 0 && (strings.Contains(head, "var __toCommonJS = ") || strings.Contains(head, "var __export = ")) {
		return true
	}
	return esmImport.MatchString(code)
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
