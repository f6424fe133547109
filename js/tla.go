package js

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"
)

// Top-level await. esbuild cannot turn an ES module that awaits at its top level into
// CommonJS, so such a file (esbuild names every top-level await in its errors) takes another
// road:
//
//  1. esbuild bundles the file alone, every import left external, into an ES module: its
//     output has esbuild's helpers, the import (and `export * from`) statements at the top,
//     the body, and one `export { local as name, ... };` clause at the end;
//  2. tlaModule rewrites that, line for line (so the source map holds), into the body of an
//     async module function: each import statement becomes an awaited import of the module
//     (which waits for a dependency that is itself still awaiting), the export clause
//     becomes getters on exports (defined first, on the wrapper's line, so a module that
//     imports this one reads live values), and the body keeps its awaits;
//  3. the module function returns the Promise of the module's evaluation; the VU settles it
//     on its event loop before the init context ends (an error in it is an init error).
//
// A module without top-level await keeps the CommonJS road and its synchronous require,
// unless one of its literal imports (or theirs) has top-level await: then it takes this road
// too, so that it waits for them (vu.asyncDeps). A require() with a computed name of a
// module still awaiting throws, saying so.

// tlaWrapperHead opens the async module function of a file with top-level await. Its
// parameter __pk6 holds the import and export helpers (see tlaHelpers); open is the
// module's own open(), which resolves relative paths against the module's directory even
// after an await (when the init context's current directory is no longer the module's).
// The getters of the module's exports follow on the same line.
const tlaWrapperHead = "(async function (exports, require, module, __filename, __dirname, __pixelk6Builtin, __pk6, open) {"

// hasTopLevelAwait reports whether esbuild refused a CommonJS transform for top-level await.
func hasTopLevelAwait(errs []api.Message) bool {
	for _, m := range errs {
		if !strings.Contains(m.Text, "Top-level await") {
			return false
		}
	}
	return len(errs) > 0
}

// bundleESM turns one file into an ES module with its imports left as they are (see step 1).
func bundleESM(name, src string, loader api.Loader) (code string, srcMap []byte, err error) {
	res := api.Build(api.BuildOptions{
		Stdin:          &api.StdinOptions{Contents: src, Sourcefile: name, Loader: loader},
		Bundle:         true,
		Format:         api.FormatESModule,
		Target:         api.ES2017,
		Supported:      map[string]bool{"async-generator": false, "for-await": false, "top-level-await": true},
		Sourcemap:      api.SourceMapExternal,
		SourcesContent: api.SourcesContentExclude,
		Outfile:        "pixelk6-module.js",
		Write:          false,
		LogLevel:       api.LogLevelSilent,
		Plugins: []api.Plugin{{Name: "pixelk6-external", Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			})
		}}},
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		if m.Location != nil {
			return "", nil, fmt.Errorf("%s:%d:%d: SyntaxError: %s", name, m.Location.Line, m.Location.Column+1, m.Text)
		}
		return "", nil, fmt.Errorf("%s: SyntaxError: %s", name, m.Text)
	}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			srcMap = f.Contents
		} else {
			code = string(f.Contents)
		}
	}
	// the map names the file as the user does, as transform's do
	var sm map[string]any
	if err := json.Unmarshal(srcMap, &sm); err != nil {
		return "", nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	sm["sources"] = []string{name}
	if srcMap, err = json.Marshal(sm); err != nil {
		return "", nil, err
	}
	return code, srcMap, nil
}

// tlaModule rewrites esbuild's ES module output into the body of the async module function
// (step 2). It returns the code to put on the wrapper's line (the export getters) and the
// rewritten body, which has exactly as many lines as code.
func tlaModule(code string, unmapped int) (head, body string, err error) {
	lines := strings.SplitAfter(code, "\n")
	// the export clause: the last statement, from a line "export {" to the end
	last := len(lines) - 1
	for last >= 0 && strings.TrimSpace(lines[last]) == "" {
		last--
	}
	var exports []exportName
	if start, ok := exportClauseStart(lines, last); ok {
		clause := strings.Join(lines[start:last+1], "")
		if exports, err = parseExportClause(clause); err != nil {
			return "", "", err
		}
		for i := start; i <= last; i++ {
			lines[i] = blankLine(lines[i])
		}
	}
	// the import statements: the first of the file's own lines (after esbuild's helpers
	// and comments, which the source map leaves unmapped), up to the first other statement
	var mods, binds []string
	lastImport := -1
	for i := unmapped; i < len(lines); {
		l := lines[i]
		if !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "export ") {
			break
		}
		// a statement may span lines: it ends with `from "..."` or `import "..."` and ";"
		j := i
		stmt := l
		for !strings.HasSuffix(strings.TrimSpace(stmt), ";") && j+1 < len(lines) {
			j++
			stmt += lines[j]
		}
		start, bind, err := convertImport(strings.TrimSpace(stmt), len(mods))
		if err != nil {
			return "", "", err
		}
		mods = append(mods, fmt.Sprintf("__pk6m%d", len(mods)))
		if bind != "" {
			binds = append(binds, bind)
		}
		lines[i] = start + strings.Repeat("\n", strings.Count(stmt, "\n")-1) + "\n"
		for k := i + 1; k <= j; k++ {
			lines[k] = ""
		}
		lastImport = i
		i = j + 1
	}
	if lastImport >= 0 {
		all := strings.Join(mods, ", ")
		l := strings.TrimSuffix(lines[lastImport], "\n")
		rest := lines[lastImport][len(l):]
		lines[lastImport] = l + " [" + all + "] = await __pk6.all([" + all + "]); " + strings.Join(binds, " ") + rest
	}
	var h strings.Builder
	h.WriteString(" __pk6.exports(exports, {")
	for i, e := range exports {
		if i > 0 {
			h.WriteString(", ")
		}
		fmt.Fprintf(&h, "%s: () => %s", jsString(e.exported), e.local)
	}
	h.WriteString("});")
	return h.String(), strings.Join(lines, ""), nil
}

// exportClauseStart finds esbuild's closing export clause, which ends on line last: either
// one line `export { a, b as c };` or the lines `export {`, `  a,`, `  b as c`, `};`.
func exportClauseStart(lines []string, last int) (int, bool) {
	if last < 0 {
		return 0, false
	}
	l := strings.TrimRight(lines[last], "\n")
	if strings.HasPrefix(l, "export {") && strings.HasSuffix(l, "};") && !strings.Contains(l, " from ") {
		return last, true
	}
	if l != "};" {
		return 0, false
	}
	for i := last - 1; i >= 0; i-- {
		l := strings.TrimRight(lines[i], "\n")
		switch {
		case l == "export {":
			return i, true
		case strings.HasPrefix(l, "  ") && !strings.ContainsAny(l, ";{}()="):
		default:
			return 0, false
		}
	}
	return 0, false
}

// blankLine keeps only the line break of a line.
func blankLine(l string) string {
	if strings.HasSuffix(l, "\n") {
		return "\n"
	}
	return ""
}

type exportName struct{ local, exported string }

// parseExportClause reads `export { a, b as default, c as "str" };`.
func parseExportClause(s string) ([]exportName, error) {
	inner := strings.TrimSpace(s)
	inner = strings.TrimPrefix(inner, "export")
	inner = strings.TrimSpace(inner)
	inner = strings.TrimSuffix(inner, ";")
	inner = strings.TrimSpace(inner)
	if !strings.HasPrefix(inner, "{") || !strings.HasSuffix(inner, "}") {
		return nil, fmt.Errorf("internal error: unexpected export clause %q", s)
	}
	items, err := clauseItems(inner[1 : len(inner)-1])
	if err != nil {
		return nil, fmt.Errorf("internal error: export clause %q: %w", s, err)
	}
	out := make([]exportName, 0, len(items))
	for _, it := range items {
		out = append(out, exportName{local: it[0], exported: it[1]})
	}
	return out, nil
}

// clauseItems splits "a, b as c, \"s\" as d" into [local, exported] pairs (an item without
// `as` is its own name); string names are unquoted.
func clauseItems(s string) ([][2]string, error) {
	var out [][2]string
	for _, raw := range splitTopLevel(s) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		toks, err := tokens(raw)
		if err != nil {
			return nil, err
		}
		switch {
		case len(toks) == 1:
			out = append(out, [2]string{toks[0], toks[0]})
		case len(toks) == 3 && toks[1] == "as":
			out = append(out, [2]string{toks[0], toks[2]})
		default:
			return nil, fmt.Errorf("unexpected item %q", raw)
		}
	}
	return out, nil
}

// splitTopLevel splits on commas outside string literals.
func splitTopLevel(s string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// tokens splits an import/export item or statement into words, string literals (unquoted)
// and the punctuation { } * ; ,.
func tokens(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '{' || c == '}' || c == '*' || c == ';' || c == ',':
			out = append(out, string(c))
			i++
		case c == '"' || c == '\'':
			str, n, err := unquoteJS(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, "\x00"+str) // marked as a string
			i += n
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q in %q", c, s)
		}
	}
	for k, t := range out {
		if strings.HasPrefix(t, "\x00") {
			out[k] = t[1:]
		}
	}
	return out, nil
}

// unquoteJS reads the JavaScript string literal at the start of s and returns its value and
// length.
func unquoteJS(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'u', 'x':
				return "", 0, fmt.Errorf("escapes in module names are not supported: %q", s)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string in %q", s)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// convertImport turns one of esbuild's import or re-export statements into code of the async
// module function: start begins the import of module n (the imports of a module all start
// before any is awaited, so that a dependency that awaits does not hold up its siblings, as
// in ES modules), and bind, which runs once they have all settled, binds its names.
func convertImport(stmt string, n int) (start, bind string, err error) {
	m := fmt.Sprintf("__pk6m%d", n)
	toks, err := tokens(strings.TrimSuffix(stmt, ";"))
	if err != nil {
		return "", "", fmt.Errorf("internal error: %w", err)
	}
	bad := func() (string, string, error) {
		return "", "", fmt.Errorf("internal error: unexpected import statement %q", stmt)
	}
	if len(toks) < 2 {
		return bad()
	}
	start = "var " + m + " = __pk6.import(" + jsString(toks[len(toks)-1]) + ");"
	switch toks[0] {
	case "import":
		if len(toks) == 2 { // import "x"
			return start, "", nil
		}
		if toks[len(toks)-2] != "from" {
			return bad()
		}
		clause := toks[1 : len(toks)-2]
		var decls []string
		for len(clause) > 0 {
			switch {
			case clause[0] == ",":
				clause = clause[1:]
			case clause[0] == "*" && len(clause) >= 3 && clause[1] == "as":
				decls = append(decls, clause[2]+" = __pk6.namespace("+m+")")
				clause = clause[3:]
			case clause[0] == "{":
				end := indexOf(clause, "}")
				if end < 0 {
					return bad()
				}
				for _, it := range clauseNames(clause[1:end]) {
					decls = append(decls, it[1]+" = "+m+"["+jsString(it[0])+"]")
				}
				clause = clause[end+1:]
			default: // a default import
				decls = append(decls, clause[0]+" = __pk6.default("+m+")")
				clause = clause[1:]
			}
		}
		if len(decls) == 0 {
			return start, "", nil
		}
		return start, "var " + strings.Join(decls, ", ") + ";", nil
	case "export":
		if len(toks) < 4 || toks[len(toks)-2] != "from" {
			return bad()
		}
		clause := toks[1 : len(toks)-2]
		switch {
		case len(clause) == 1 && clause[0] == "*":
			return start, "__pk6.reexport(exports, " + m + ");", nil
		case len(clause) == 3 && clause[0] == "*" && clause[1] == "as":
			return start, "__pk6.exports(exports, {" + jsString(clause[2]) + ": () => __pk6.namespace(" + m + ")});", nil
		case len(clause) >= 2 && clause[0] == "{" && clause[len(clause)-1] == "}":
			var getters []string
			for _, it := range clauseNames(clause[1 : len(clause)-1]) {
				getters = append(getters, jsString(it[1])+": () => "+m+"["+jsString(it[0])+"]")
			}
			return start, "__pk6.exports(exports, {" + strings.Join(getters, ", ") + "});", nil
		}
	}
	return bad()
}

// clauseNames reads the tokens inside { } of an import or export: [imported, local] pairs.
func clauseNames(items []string) [][2]string {
	var out [][2]string
	for k := 0; k < len(items); {
		switch {
		case items[k] == ",":
			k++
		case k+2 < len(items) && items[k+1] == "as":
			out = append(out, [2]string{items[k], items[k+2]})
			k += 3
		default:
			out = append(out, [2]string{items[k], items[k]})
			k++
		}
	}
	return out
}

func indexOf(toks []string, t string) int {
	for i, s := range toks {
		if s == t {
			return i
		}
	}
	return -1
}

// compileTLA compiles a file with top-level await into its async module function.
func compileTLA(name, src string, loader api.Loader) (*goja.Program, error) {
	code, srcMap, err := bundleESM(name, src, loader)
	if err != nil {
		return nil, err
	}
	unmapped, err := unmappedLines(srcMap)
	if err != nil {
		return nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	head, body, err := tlaModule(code, unmapped)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	shifted, err := shiftSourceMap(srcMap)
	if err != nil {
		return nil, fmt.Errorf("%s: source map: %w", name, err)
	}
	if strings.HasPrefix(body, "#!") {
		body = "//" + body[2:] // a hashbang is valid only at the very start of a file (see compileCJS)
	}
	var b strings.Builder
	b.WriteString(tlaWrapperHead)
	b.WriteString(head)
	b.WriteString("\n")
	b.WriteString(body)
	b.WriteString("\n})\n//# sourceMappingURL=data:application/json;base64,")
	b.WriteString(base64.StdEncoding.EncodeToString(shifted))
	b.WriteByte('\n')
	// A module with top-level await is an ES module: strict mode code, as in k6 (see
	// wasESModule).
	prog, err := goja.Compile(name, b.String(), true)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	return prog, nil
}

// tlaHelpers is the __pk6 object of a module with top-level await whose imports resolve
// from base (see convertImport): import, exports, default, namespace and reexport.
func (v *vu) tlaHelpers(base string) goja.Value {
	rt := v.rt
	h := rt.NewObject()
	_ = h.Set("import", func(call goja.FunctionCall) goja.Value {
		spec := call.Argument(0).String()
		val, err := v.importAsync(base, spec)
		if err != nil {
			var ex *goja.Exception
			if errors.As(err, &ex) {
				panic(ex)
			}
			panic(rt.NewGoError(err))
		}
		return val
	})
	_ = h.Set("exports", func(call goja.FunctionCall) goja.Value {
		target, getters := call.Argument(0).ToObject(rt), call.Argument(1).ToObject(rt)
		for _, k := range getters.Keys() {
			if err := target.DefineAccessorProperty(k, getters.Get(k), nil, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				panic(err)
			}
		}
		if target.Get("__esModule") == nil {
			_ = target.DefineDataProperty("__esModule", rt.ToValue(true), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		}
		return goja.Undefined()
	})
	promiseCtor := rt.Get("Promise")
	promiseAll, _ := goja.AssertFunction(promiseCtor.ToObject(rt).Get("all"))
	_ = h.Set("all", func(call goja.FunctionCall) goja.Value {
		p, err := promiseAll(promiseCtor, call.Argument(0))
		if err != nil {
			panic(err)
		}
		return p
	})
	_ = h.Set("default", func(call goja.FunctionCall) goja.Value {
		m := call.Argument(0)
		if o, ok := m.(*goja.Object); ok && o.Get("__esModule") != nil && o.Get("__esModule").ToBoolean() {
			return o.Get("default")
		}
		return m
	})
	_ = h.Set("namespace", func(call goja.FunctionCall) goja.Value {
		m := call.Argument(0)
		o, ok := m.(*goja.Object)
		if !ok || (o.Get("__esModule") != nil && o.Get("__esModule").ToBoolean()) {
			return m
		}
		ns := rt.NewObject()
		for _, k := range o.Keys() {
			_ = ns.Set(k, o.Get(k))
		}
		_ = ns.Set("default", m)
		return ns
	})
	_ = h.Set("reexport", func(call goja.FunctionCall) goja.Value {
		target := call.Argument(0).ToObject(rt)
		m, ok := call.Argument(1).(*goja.Object)
		if !ok {
			return goja.Undefined()
		}
		for _, k := range m.Keys() {
			if k == "default" || k == "__esModule" || target.Get(k) != nil {
				continue
			}
			key := k
			get := rt.ToValue(func(goja.FunctionCall) goja.Value { return m.Get(key) })
			_ = target.DefineAccessorProperty(key, get, nil, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
		return goja.Undefined()
	})
	return h
}

// openFrom is open() for the async module in directory dir.
func (v *vu) openFrom(dir string) goja.Value {
	return v.rt.ToValue(func(call goja.FunctionCall) goja.Value {
		if v.initEnv == nil {
			return v.open(call) // its error
		}
		prev := v.initEnv.CWD
		v.initEnv.CWD = dir
		defer func() { v.initEnv.CWD = prev }()
		return v.open(call)
	})
}

// settleMain checks the main module's top-level await once the init context's event loop
// has run: a rejection is the init context's error, and an await that never settled is one
// too.
func (v *vu) settleMain() error {
	p := v.pending[v.b.path]
	if p == nil {
		return nil
	}
	switch p.State() {
	case goja.PromiseStateRejected:
		return rejectionError(p.Result(), false)
	case goja.PromiseStatePending:
		return fmt.Errorf("%s: the script's top-level await never settled (it awaits a Promise that is never resolved)", v.b.path)
	}
	return nil
}

// rejectionError turns a rejected Promise's reason into a ScriptException, with the stack of
// an Error. uncaught keeps the "Uncaught (in promise) " prefix on an Error's message too
// (k6's wording for a Promise rejected with no handler).
func rejectionError(reason goja.Value, uncaught bool) error {
	msg := "Uncaught (in promise) " + reason.String()
	stack := ""
	if o, ok := reason.(*goja.Object); ok {
		if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
			if first, rest, ok := strings.Cut(s.String(), "\n"); ok {
				msg, stack = first, userFrames(rest)
				if uncaught {
					msg = "Uncaught (in promise) " + first
				}
			}
		}
	}
	return &ScriptException{Message: msg, Stack: stack}
}
