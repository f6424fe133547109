package http

import (
	"bytes"
	"context"
	gohttp "net/http"
	"net/http/httputil"
)

// request logs a request as k6's --http-debug does: "Request:", the request as it goes on
// the wire with LF line ends, the body only when full. The dump is made from a copy without
// the request's trace, so that the dumping does not report a connection of its own.
func (d debugLog) request(hr *gohttp.Request, full bool) {
	c := hr.Clone(context.Background())
	if hr.GetBody != nil {
		if b, err := hr.GetBody(); err == nil {
			c.Body = b
		}
	}
	dump, err := httputil.DumpRequestOut(c, full)
	if err != nil {
		d("Request: " + err.Error())
		return
	}
	d("Request:\n" + string(bytes.ReplaceAll(dump, []byte("\r\n"), []byte("\n"))) + "\n")
}

// response logs a response as k6's --http-debug does: "Response:", the status line and
// headers with LF line ends, and the body (already read) only when full.
func (d debugLog) response(resp *gohttp.Response, body []byte, full bool) {
	dump, err := httputil.DumpResponse(resp, false)
	if err != nil {
		d("Response: " + err.Error())
		return
	}
	dump = bytes.ReplaceAll(dump, []byte("\r\n"), []byte("\n"))
	if full {
		dump = append(dump, body...)
	}
	d("Response:\n" + string(dump) + "\n")
}
