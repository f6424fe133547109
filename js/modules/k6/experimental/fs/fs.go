// Package fs is the k6/experimental/fs module: open(path) in the init context resolves to a
// File whose read(Uint8Array), seek(offset, whence) and stat() return Promises, as k6
// documents them. A file is read from disk (or the archive) once per test run and shared by
// every VU; each VU's File keeps its own offset.
package fs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/dop251/goja"

	"github.com/pixelk6/pixelk6/js/modules"
)

func init() { modules.Register("k6/experimental/fs", Root{}) }

// Root is the k6/experimental/fs module.
type Root struct{}

var _ modules.Module = Root{}

// SeekMode values, as k6 numbers them.
const (
	SeekModeStart   = 0
	SeekModeCurrent = 1
	SeekModeEnd     = 2
)

// NewModuleInstance implements modules.Module.
func (Root) NewModuleInstance(vu modules.VU) modules.Instance { return &instance{vu: vu} }

type instance struct{ vu modules.VU }

func (m *instance) Exports() modules.Exports {
	named := map[string]any{
		"open":     m.open,
		"SeekMode": map[string]any{"Start": SeekModeStart, "Current": SeekModeCurrent, "End": SeekModeEnd},
	}
	return modules.Exports{Named: named}
}

// Error kinds of the module's errors (an Error whose name is the kind), as k6 names them.
const (
	NotFoundError        = "NotFoundError"
	InvalidResourceError = "InvalidResourceError"
	ForbiddenError       = "ForbiddenError"
	TypeError            = "TypeError"
	EOFError             = "EOFError"
)

// Error is an error of the module, of a kind above.
type Error struct{ Kind, Message string }

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

// jsError is err as a JavaScript Error (its name the kind for an *Error).
func jsError(rt *goja.Runtime, err error) goja.Value {
	obj, nerr := rt.New(rt.Get("Error"), rt.ToValue(err.Error()))
	if nerr != nil {
		return rt.NewGoError(err)
	}
	var fe *Error
	if errors.As(err, &fe) {
		_ = obj.Set("name", fe.Kind)
		_ = obj.Set("message", fe.Message)
	}
	return obj
}

// settled returns a Promise already resolved with v, or rejected with err.
func settled(rt *goja.Runtime, v any, err error) *goja.Promise {
	p, resolve, reject := rt.NewPromise()
	if err != nil {
		_ = reject(jsError(rt, err))
	} else {
		_ = resolve(v)
	}
	return p
}

// runFile is a file's content, read once per test run.
type runFile struct{ data []byte }

// open(path) returns a Promise of a File. Only the init context may open files; a relative
// path is resolved against the importing script's directory.
func (m *instance) open(path goja.Value) *goja.Promise {
	rt := m.vu.Runtime()
	env := m.vu.InitEnv()
	switch {
	case env == nil:
		return settled(rt, nil, &Error{ForbiddenError, "open() failed; reason: opening a file is allowed only in the Init context"})
	case path == nil || goja.IsUndefined(path) || goja.IsNull(path):
		return settled(rt, nil, &Error{TypeError, "open() failed; reason: path cannot be null or undefined"})
	case path.String() == "":
		return settled(rt, nil, &Error{TypeError, "open() failed; reason: path cannot be empty"})
	}
	p := strings.TrimPrefix(path.String(), "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(env.CWD, p)
	}
	p = filepath.Clean(p)
	v, err := env.Run.Value(runFileKey(p), func() (any, error) {
		b, err := env.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &Error{NotFoundError, fmt.Sprintf("no such file or directory %q", p)}
		case errors.Is(err, syscall.EISDIR):
			return nil, &Error{InvalidResourceError, fmt.Sprintf("cannot open %q: opening a directory is not supported", p)}
		case err != nil:
			return nil, fmt.Errorf("open() failed; reason: %w", err)
		}
		return &runFile{data: b}, nil
	})
	if err != nil {
		return settled(rt, nil, err)
	}
	return settled(rt, &File{Path: p, data: v.(*runFile).data, vu: m.vu}, nil)
}

// runFileKey keys a file's content in the run.
type runFileKey string

// File is an opened file (k6's File): its path, and read, seek and stat returning
// Promises. Other modules (k6/experimental/csv) read it through Reader.
type File struct {
	Path string `js:"path"`

	data []byte
	vu   modules.VU

	mu     sync.Mutex
	offset int64
}

// FileInfo is what stat() resolves to.
type FileInfo struct {
	Name string `js:"name"`
	Size int64  `js:"size"`
}

// Stat returns a Promise of the file's FileInfo: its base name and size in bytes.
func (f *File) Stat() *goja.Promise {
	return settled(f.vu.Runtime(), &FileInfo{Name: filepath.Base(f.Path), Size: int64(len(f.data))}, nil)
}

// Read reads up to into.byteLength bytes at the offset into the Uint8Array into. It
// resolves to the number of bytes read, or null at the end of the file.
func (f *File) Read(into goja.Value) *goja.Promise {
	rt := f.vu.Runtime()
	if into == nil || goja.IsUndefined(into) || goja.IsNull(into) {
		return settled(rt, nil, &Error{TypeError, "read() failed; reason: into argument cannot be null or undefined"})
	}
	obj := into.ToObject(rt)
	buf, ok := uint8View(rt, obj)
	if !ok {
		return settled(rt, nil, &Error{TypeError, "read() failed; reason: into argument must be a Uint8Array"})
	}
	n, err := f.read(buf)
	if errors.Is(err, io.EOF) && n == 0 {
		return settled(rt, goja.Null(), nil)
	}
	return settled(rt, n, nil)
}

// uint8View returns the bytes a Uint8Array views (its own window of its buffer).
func uint8View(rt *goja.Runtime, obj *goja.Object) ([]byte, bool) {
	if !obj.Get("constructor").SameAs(rt.Get("Uint8Array")) {
		return nil, false
	}
	ab, ok := obj.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil, false
	}
	off, n := obj.Get("byteOffset").ToInteger(), obj.Get("byteLength").ToInteger()
	b := ab.Bytes()
	if off < 0 || n < 0 || off+n > int64(len(b)) {
		return nil, false
	}
	return b[off : off+n], true
}

// read copies from the offset into p and advances; io.EOF when the end is reached.
func (f *File) read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	size := int64(len(f.data))
	if f.offset >= size {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.offset:])
	f.offset += int64(n)
	if f.offset >= size && n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Seek moves the offset by offset bytes from the start, the current offset or the end
// (whence, a SeekMode) and resolves to the new offset. As in k6, seeking from the end
// counts from the last byte (seek(0, SeekMode.End) is at size-1), a negative offset from
// the start or a positive one from the end is a TypeError, and so is any position
// outside [0, size].
func (f *File) Seek(offset, whence goja.Value) *goja.Promise {
	rt := f.vu.Runtime()
	off, err := exportInt(offset)
	if err != nil {
		return settled(rt, nil, &Error{TypeError, "seek() failed; reason: the offset argument " + err.Error()})
	}
	wh, err := exportInt(whence)
	if err != nil {
		return settled(rt, nil, &Error{TypeError, "seek() failed; reason: the whence argument " + err.Error()})
	}
	n, err := f.seek(off, wh)
	if err != nil {
		return settled(rt, nil, err)
	}
	return settled(rt, n, nil)
}

func (f *File) seek(off, whence int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	size := int64(len(f.data))
	pos := f.offset
	switch whence {
	case SeekModeStart:
		if off < 0 {
			return 0, &Error{TypeError, "offset cannot be negative when using SeekModeStart"}
		}
		pos = off
	case SeekModeCurrent:
		pos += off
	case SeekModeEnd:
		if off > 0 {
			return 0, &Error{TypeError, "offset cannot be positive when using SeekModeEnd"}
		}
		pos = size - 1 + off
	default:
		return 0, &Error{TypeError, "seek() failed; reason: the whence argument must be a SeekMode"}
	}
	if pos < 0 {
		return 0, &Error{TypeError, "seeking before start of file"}
	}
	if pos > size {
		return 0, &Error{TypeError, "seeking beyond end of file"}
	}
	f.offset = pos
	return pos, nil
}

// exportInt is a JavaScript number that is an integer.
func exportInt(v goja.Value) (int64, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0, errors.New("cannot be null or undefined")
	}
	if _, ok := v.Export().(int64); !ok {
		return 0, errors.New("must be a number")
	}
	return v.ToInteger(), nil
}

// NewReader returns an io.Reader of f from its offset, advancing it (for the csv module).
func NewReader(f *File) io.Reader { return fileReader{f} }

type fileReader struct{ f *File }

func (r fileReader) Read(p []byte) (int, error) { return r.f.read(p) }

// FromValue returns the File a JavaScript value wraps, if it is one.
func FromValue(v goja.Value) (*File, bool) {
	if v == nil {
		return nil, false
	}
	f, ok := v.Export().(*File)
	return f, ok
}
