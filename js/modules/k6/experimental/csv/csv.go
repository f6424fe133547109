// Package csv is the k6/experimental/csv module: csv.parse(file, options) resolves to a
// read-only array of a k6/experimental/fs File's records, and new csv.Parser(file, options)
// reads them one at a time with next(), as k6 documents them. Options: delimiter (one
// character, default ","), asObjects (records as objects keyed by the header line),
// skipFirstLine, fromLine and toLine (0-based line numbers, toLine included).
package csv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
	"github.com/pixelk6/pixelk6/js/modules/k6/experimental/fs"
)

func init() { modules.Register("k6/experimental/csv", Root{}) }

// Root is the k6/experimental/csv module.
type Root struct{}

var _ modules.Module = Root{}

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

func (m *instance) Exports() modules.Exports {
	named := map[string]any{"parse": m.parse, "Parser": m.newParser}
	return modules.Exports{Default: named, Named: named}
}

// options are the parsing options.
type options struct {
	delimiter        rune
	asObjects        bool
	skipFirstLine    bool
	fromLine, toLine int64
	hasFrom, hasTo   bool
}

func parseOptions(rt *goja.Runtime, v goja.Value) (options, error) {
	o := options{delimiter: ','}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return o, nil
	}
	obj := v.ToObject(rt)
	if d := obj.Get("delimiter"); d != nil && !goja.IsUndefined(d) {
		s := []rune(d.String())
		if len(s) != 1 {
			return o, fmt.Errorf("delimiter must be a single character")
		}
		o.delimiter = s[0]
	}
	if b := obj.Get("skipFirstLine"); b != nil {
		o.skipFirstLine = b.ToBoolean()
	}
	if b := obj.Get("asObjects"); b != nil {
		o.asObjects = b.ToBoolean()
	}
	if n := obj.Get("fromLine"); n != nil && !goja.IsUndefined(n) {
		o.fromLine, o.hasFrom = n.ToInteger(), true
	}
	if n := obj.Get("toLine"); n != nil && !goja.IsUndefined(n) {
		o.toLine, o.hasTo = n.ToInteger(), true
	}
	switch {
	case o.asObjects && o.skipFirstLine:
		return o, errors.New("the 'header' option cannot be enabled when 'skipFirstLine' is true")
	case o.asObjects && o.hasFrom && o.fromLine > 0:
		return o, errors.New("the 'header' option cannot be enabled when 'fromLine' is set to a value greater than 0")
	case o.hasFrom && o.fromLine < 0:
		return o, fmt.Errorf("the 'fromLine' option must be greater than or equal to 0; got %d", o.fromLine)
	case o.hasTo && o.toLine < 0:
		return o, fmt.Errorf("the 'toLine' option must be greater than or equal to 0; got %d", o.toLine)
	case o.hasFrom && o.hasTo && o.fromLine >= o.toLine:
		return o, fmt.Errorf("the 'fromLine' option must be less than the 'toLine' option; got 'fromLine': %d, 'toLine': %d", o.fromLine, o.toLine)
	}
	return o, nil
}

// reader reads records with the options applied; line counts the lines consumed.
type reader struct {
	csv     *csv.Reader
	opts    options
	line    int64
	columns []string
}

func newReader(r io.Reader, o options) (*reader, error) {
	c := csv.NewReader(r)
	c.Comma = o.delimiter
	rd := &reader{csv: c, opts: o}
	if o.asObjects {
		h, err := c.Read()
		if err != nil {
			return nil, fmt.Errorf("failed to read the first line; reason: %w", err)
		}
		rd.columns, rd.line = h, 1
	}
	if o.skipFirstLine && (!o.hasFrom || o.fromLine == 0) {
		if _, err := c.Read(); err != nil {
			return nil, fmt.Errorf("failed to skip the first line; reason: %w", err)
		}
		rd.line++
	}
	for o.hasFrom && rd.line < o.fromLine {
		if _, err := c.Read(); err != nil {
			return nil, fmt.Errorf("failed to skip lines until line %d; reason: %w", o.fromLine, err)
		}
		rd.line++
	}
	return rd, nil
}

// next returns the next record ([]string, or map[string]string with asObjects), or io.EOF.
func (r *reader) next() (any, error) {
	if r.opts.hasTo && r.opts.toLine > 0 && r.line > r.opts.toLine {
		return nil, io.EOF
	}
	rec, err := r.csv.Read()
	if err != nil {
		return nil, err
	}
	r.line++
	if !r.opts.asObjects {
		return rec, nil
	}
	if len(rec) != len(r.columns) {
		return nil, fmt.Errorf("record length (%d) doesn't match header length (%d)", len(rec), len(r.columns))
	}
	return ordered{r.columns, rec}, nil
}

// ordered is a record as an object whose keys keep the header's order.
type ordered struct {
	columns, values []string
}

// toJS turns a record into a JavaScript array or object (frozen when frozen is set, as
// csv.parse's SharedArray elements are).
func toJS(rt *goja.Runtime, rec any, frozen bool) goja.Value {
	var obj *goja.Object
	switch r := rec.(type) {
	case []string:
		vals := make([]any, len(r))
		for i, s := range r {
			vals[i] = s
		}
		obj = rt.NewArray(vals...)
	case ordered:
		obj = rt.NewObject()
		for i, c := range r.columns {
			_ = obj.Set(c, r.values[i])
		}
	default:
		return rt.ToValue(rec)
	}
	if frozen {
		freeze(rt, obj)
	}
	return obj
}

func freeze(rt *goja.Runtime, v goja.Value) {
	f, _ := goja.AssertFunction(rt.Get("Object").ToObject(rt).Get("freeze"))
	_, _ = f(goja.Undefined(), v)
}

func jsError(rt *goja.Runtime, err error) goja.Value {
	if e, nerr := rt.New(rt.Get("Error"), rt.ToValue(err.Error())); nerr == nil {
		return e
	}
	return rt.NewGoError(err)
}

// parse(file, options) resolves to a read-only array of the file's records, read from its
// offset to the end (or toLine).
func (m *instance) parse(file, opts goja.Value) *goja.Promise {
	rt := m.vu.Runtime()
	p, resolve, reject := rt.NewPromise()
	f, ok := fs.FromValue(file)
	if !ok {
		_ = reject(jsError(rt, fmt.Errorf("first argument expected to be a fs.File instance")))
		return p
	}
	o, err := parseOptions(rt, opts)
	if err != nil {
		_ = reject(jsError(rt, fmt.Errorf("failed to interpret the provided Parser options; reason: %w", err)))
		return p
	}
	r, err := newReader(fs.NewReader(f), o)
	if err != nil {
		_ = reject(jsError(rt, fmt.Errorf("failed to create a new parser; reason: %w", err)))
		return p
	}
	var recs []any
	for {
		rec, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = reject(jsError(rt, err))
			return p
		}
		recs = append(recs, toJS(rt, rec, true))
	}
	arr := rt.NewArray(recs...)
	freeze(rt, arr)
	_ = resolve(arr)
	return p
}

// newParser is `new csv.Parser(file, options)`, in the init context only.
func (m *instance) newParser(call goja.ConstructorCall) *goja.Object {
	rt := m.vu.Runtime()
	if m.vu.InitEnv() == nil {
		panic(jsError(rt, errors.New("csv Parser constructor must be called in the init context")))
	}
	arg := call.Argument(0)
	if goja.IsUndefined(arg) || goja.IsNull(arg) {
		panic(jsError(rt, errors.New("csv Parser constructor takes at least one non-nil source argument")))
	}
	f, ok := fs.FromValue(arg)
	if !ok {
		panic(jsError(rt, errors.New("first argument expected to be a fs.File instance")))
	}
	o, err := parseOptions(rt, call.Argument(1))
	if err != nil {
		panic(jsError(rt, fmt.Errorf("encountered an error while interpreting Parser options; reason: %w", err)))
	}
	r, err := newReader(fs.NewReader(f), o)
	if err != nil {
		panic(jsError(rt, fmt.Errorf("failed to create a new parser; reason: %w", err)))
	}
	obj := call.This
	_ = obj.Set("next", func(goja.FunctionCall) goja.Value {
		p, resolve, reject := rt.NewPromise()
		res := rt.NewObject()
		rec, err := r.next()
		switch {
		case errors.Is(err, io.EOF):
			_ = res.Set("done", true)
			_ = res.Set("value", rt.NewArray())
			_ = resolve(res)
		case err != nil:
			_ = reject(jsError(rt, err))
		default:
			_ = res.Set("done", false)
			_ = res.Set("value", toJS(rt, rec, false))
			_ = resolve(res)
		}
		return rt.ToValue(p)
	})
	return nil
}
