package http

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// FileData is what http.file returns: a file for a multipart body. Scripts read data,
// filename and content_type as k6's FileData has them.
type FileData struct {
	Data        goja.Value `js:"data"`
	Filename    string     `js:"filename"`
	ContentType string     `js:"content_type"`
	bytes       []byte
}

// file(data, [filename], [contentType]): data is a string, an ArrayBuffer or an array of
// byte numbers; the filename defaults to the current Unix time in nanoseconds and the
// content type to application/octet-stream, as in k6.
func (m *instance) file(call goja.FunctionCall) goja.Value {
	rt := m.vu.Runtime()
	d := call.Argument(0)
	b, err := bytesOf(d)
	if err != nil {
		m.throw(fmt.Errorf("http.file: %w", err))
	}
	f := &FileData{Data: d, bytes: b, Filename: strconv.FormatInt(time.Now().UnixNano(), 10), ContentType: "application/octet-stream"}
	if v := call.Argument(1); !isNullish(v) && v.String() != "" {
		f.Filename = v.String()
	}
	if v := call.Argument(2); !isNullish(v) && v.String() != "" {
		f.ContentType = v.String()
	}
	return rt.ToValue(f)
}

// bytesOf reads file data: a string, an ArrayBuffer (or a typed array's bytes) or an array
// of numbers.
func bytesOf(v goja.Value) ([]byte, error) {
	switch x := v.Export().(type) {
	case string:
		return []byte(x), nil
	case goja.ArrayBuffer:
		return x.Bytes(), nil
	case []byte:
		return x, nil
	case []any:
		b := make([]byte, len(x))
		for i, e := range x {
			switch n := e.(type) {
			case int64:
				b[i] = byte(n)
			case float64:
				b[i] = byte(n)
			default:
				return nil, fmt.Errorf("element %d of the data array is %v, not a byte", i, e)
			}
		}
		return b, nil
	}
	if isNullish(v) {
		return nil, fmt.Errorf("no data")
	}
	return []byte(v.String()), nil
}

// hasFile reports whether an object body holds a file (then it goes as multipart).
func hasFile(m map[string]any) bool {
	for _, v := range m {
		if _, ok := v.(*FileData); ok {
			return true
		}
	}
	return false
}

// multipartBody encodes an object body holding files as multipart/form-data: the plain
// fields first, then the files, each group in key order (k6 walks a Go map, in no set
// order). A file part has Content-Disposition form-data with name and filename and the
// file's Content-Type. It returns the body and its Content-Type header.
func multipartBody(m map[string]any) ([]byte, string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, k := range keys {
		if _, ok := m[k].(*FileData); ok {
			continue
		}
		if err := w.WriteField(k, fmt.Sprint(m[k])); err != nil {
			return nil, "", err
		}
	}
	for _, k := range keys {
		f, ok := m[k].(*FileData)
		if !ok {
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(k), quoteEscaper.Replace(f.Filename)))
		h.Set("Content-Type", f.ContentType)
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(f.bytes); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")
