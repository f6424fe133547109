package simulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/pixelk6/pixelk6/internal/jsonx"
)

// Paths served by pixelsim.
const (
	PathHealth  = "/health"
	PathStats   = "/stats"
	PathMetrics = "/metrics"
	PathInfer   = "/api/ai/pixel/infer"
	PathWS      = "/ws/pixel-multimodal"
)

// Error codes of JSON error bodies {"error":{"code","message"}}.
const (
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeBadJSON          = "bad_json"
	CodeBadRequest       = "bad_request"
	CodeOverloaded       = "overloaded"
	CodeInjected         = "injected_fault"
	CodeUnavailable      = "unavailable"
)

// getBuf borrows a request/response buffer from the server's pool; return it with putBuf.
func (s *Server) getBuf() *[]byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1024)
	return &b
}

// putBuf returns a buffer to the pool unless it grew too big to keep.
func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		s.bufs.Put(b)
	}
}

// ServeHTTP routes a request. Unknown paths get 404, wrong methods 405, both as JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.c.requests.Add(1)
	if r.URL.Path == PathWS { // a session is counted in ws_sessions_active, not in_flight
		if s.allow(w, r, http.MethodGet) {
			s.serveWS(w, r)
		}
		return
	}
	s.c.inFlight.Add(1)
	defer s.c.inFlight.Add(-1)
	switch r.URL.Path {
	case PathHealth:
		if s.allow(w, r, http.MethodGet) {
			s.serveHealth(w)
		}
	case PathInfer:
		if s.allow(w, r, http.MethodPost) {
			s.serveInfer(w, r)
		}
	case PathStats:
		if s.allow(w, r, http.MethodGet) {
			b, err := json.Marshal(s.Stats())
			if err != nil {
				s.writeError(w, http.StatusInternalServerError, "internal", err.Error())
				return
			}
			s.writeJSON(w, http.StatusOK, append(b, '\n'))
		}
	case PathMetrics:
		if s.allow(w, r, http.MethodGet) {
			s.c.countStatus(http.StatusOK)
			s.metricsH.ServeHTTP(w, r)
		}
	default:
		s.writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no such path %q", r.URL.Path))
	}
}

// allow answers 405 unless r uses method (HEAD is allowed with GET).
func (s *Server) allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	s.writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		fmt.Sprintf("method %q not allowed on %s; use %s", r.Method, r.URL.Path, method))
	return false
}

func (s *Server) serveHealth(w http.ResponseWriter) {
	bp := s.getBuf()
	*bp = s.appendHealth(*bp)
	s.writeJSON(w, http.StatusOK, *bp)
	s.putBuf(bp)
}

var jsonContentType = []string{"application/json"}

func (s *Server) writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if len(body) > 2048 { // smaller bodies get their Content-Length from net/http for free
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	w.Write(body)
	s.c.countStatus(status)
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, message string) {
	bp := s.getBuf()
	*bp = appendErrorJSON(*bp, code, message)
	*bp = append(*bp, '\n')
	s.writeJSON(w, status, *bp)
	s.putBuf(bp)
}

func appendErrorJSON(b []byte, code, message string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = jsonx.AppendString(b, code)
	b = append(b, `,"message":`...)
	b = jsonx.AppendString(b, message)
	return append(b, "}}"...)
}

// InferRequest is the body of POST /api/ai/pixel/infer.
type InferRequest struct {
	Prompt     string   `json:"prompt"`
	SessionID  string   `json:"session_id,omitempty"`
	UserID     string   `json:"user_id,omitempty"`
	Modalities []string `json:"modalities,omitempty"`
	Audio      string   `json:"audio,omitempty"` // base64
	Image      string   `json:"image,omitempty"` // base64
}

// InferResponse is the body of a successful inference.
type InferResponse struct {
	ID        string  `json:"id"`
	Response  string  `json:"response"`
	LatencyMS float64 `json:"latency_ms"` // server-side processing time, queueing included
	Model     string  `json:"model"`
	Crisis    Crisis  `json:"crisis"`
	Bias      Bias    `json:"bias"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// requestError is a client error with its JSON error code.
type requestError struct {
	code string
	msg  string
}

func (e *requestError) Error() string { return e.code + ": " + e.msg }

// parseInfer validates an inference request body; errors are *requestError.
func parseInfer(body []byte) (InferRequest, error) {
	var req InferRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, &requestError{CodeBadJSON, fmt.Sprintf("request body is not a valid inference request: %v", err)}
	}
	if req.Prompt == "" && req.Audio == "" && req.Image == "" {
		return req, &requestError{CodeBadRequest, `field "prompt" is required (or "audio"/"image")`}
	}
	for _, m := range []struct{ name, v string }{{"audio", req.Audio}, {"image", req.Image}} {
		if m.v == "" {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(m.v); err != nil {
			return req, &requestError{CodeBadRequest, fmt.Sprintf("field %q is not base64: %v", m.name, err)}
		}
	}
	if err := checkModalities(req.Modalities); err != nil {
		return req, err
	}
	return req, nil
}

// checkModalities refuses a modality other than text, audio or image (a *requestError).
func checkModalities(ms []string) error {
	for _, m := range ms {
		switch m {
		case "text", "audio", "image":
		default:
			return &requestError{CodeBadRequest, fmt.Sprintf("unknown modality %q (want text, audio or image)", m)}
		}
	}
	return nil
}

func (s *Server) serveInfer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	bp := s.getBuf()
	defer s.putBuf(bp)
	body, err := readBody(*bp, r.Body, s.cfg.MaxBodyBytes)
	*bp = body[:0]
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		s.writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("reading body: %v", err))
		return
	}
	req, err := parseInfer(body)
	if err != nil {
		re := err.(*requestError)
		s.writeError(w, http.StatusBadRequest, re.code, re.msg)
		return
	}
	p := s.draw(true)
	// Only a stall without end watches the request's context: see infer.
	if err := s.infer(context.WithoutCancel(r.Context()), r.Context(), p); err != nil {
		switch {
		case errors.Is(err, errOverloaded):
			s.writeError(w, s.cfg.RejectStatus, CodeOverloaded, err.Error())
		case errors.Is(err, errClosed):
			s.writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "server is shutting down")
		default:
			// The client left (or half-closed its connection) during a stall without end:
			// no answer at all, rather than the empty 200 net/http would send for a
			// handler that writes nothing.
			s.c.countStatus(499)
			panic(http.ErrAbortHandler)
		}
		return
	}
	if p.fail {
		s.c.injected.Add(1)
		s.writeError(w, s.cfg.Faults.ErrorStatus, CodeInjected, "injected failure (--error-rate)")
		return
	}
	v := judge(req.Prompt)
	s.c.record(v)
	s.c.infer.Add(1)
	elapsed := time.Since(start)
	s.latHist.Observe(elapsed.Seconds())
	out := (*bp)[:0]
	out = append(out, `{"id":"`...)
	out = appendInferID(out, s.c.infer.Load(), start)
	out = append(out, `","response":`...)
	out = append(out, responseText[v.risk]...)
	out = append(out, `,"latency_ms":`...)
	out = appendMillis(out, elapsed)
	out = append(out, `,"model":`...)
	out = append(out, s.modelJSON...)
	out = appendVerdict(out, v)
	out = append(out, "}\n"...)
	*bp = out
	s.writeJSON(w, http.StatusOK, out)
}

// readBody reads at most limit bytes of body into buf, returning *http.MaxBytesError if
// there is more.
func readBody(buf []byte, body io.Reader, limit int64) ([]byte, error) {
	buf = buf[:0]
	for {
		if int64(len(buf)) > limit {
			return buf, &http.MaxBytesError{Limit: limit}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > limit {
				return buf, &http.MaxBytesError{Limit: limit}
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// appendInferID appends an inference's id: "inf-", the count n and the start time's low
// bits, both in base 36.
func appendInferID(b []byte, n uint64, start time.Time) []byte {
	b = append(b, "inf-"...)
	b = strconv.AppendUint(b, n, 36)
	b = append(b, '-')
	return strconv.AppendInt(b, start.UnixNano()&0xffffff, 36)
}

// responseTexts is the model's answer per risk level.
var responseTexts = [len(riskLevels)]string{
	"Thank you for sharing. I'm here to listen; tell me more about what is on your mind.",
	"It sounds like things feel heavy right now. That is understandable, and you are not alone in it.",
	"I'm concerned about how you are feeling. Would you like to talk about some support options together?",
	"I'm really worried about your safety. Please consider reaching out to a crisis line or someone you trust right now.",
	"Your safety matters most. Please contact emergency services or a crisis hotline immediately; you do not have to face this alone.",
}

// responseText is the pre-encoded "response" string per risk level.
var responseText = func() [len(riskLevels)][]byte {
	var out [len(riskLevels)][]byte
	for i, t := range responseTexts {
		out[i] = jsonx.AppendString(nil, t)
	}
	return out
}()

// appendVerdict appends the ,"crisis":{...},"bias":{...} members.
func appendVerdict(b []byte, v verdict) []byte {
	c := v.crisis()
	b = append(b, `,"crisis":{"detected":`...)
	b = strconv.AppendBool(b, c.Detected)
	b = append(b, `,"risk_level":"`...)
	b = append(b, c.RiskLevel...)
	b = append(b, `","confidence":`...)
	b = strconv.AppendFloat(b, c.Confidence, 'f', -1, 64)
	b = append(b, `},"bias":{"detected":`...)
	if v.biasMask == 0 {
		return append(b, `false,"categories":[],"score":0}`...)
	}
	b = append(b, `true,"categories":[`...)
	n := 0
	for i, cat := range biasCategories {
		if v.biasMask&(1<<i) != 0 {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, '"')
			b = append(b, cat...)
			b = append(b, '"')
		}
	}
	b = append(b, `],"score":`...)
	b = strconv.AppendFloat(b, v.biasScore(), 'f', -1, 64)
	return append(b, '}')
}

// appendMillis appends d in milliseconds with microsecond precision.
func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
}
