package http

import (
	"time"

	"github.com/pixelk6/pixelk6/js/modules"
)

// UseNetHTTPOnly gives st a VU client whose every request goes through net/http (the fast
// path is off), for the differential test of the two paths.
func UseNetHTTPOnly(st *modules.State) {
	c := NewClient(st)
	c.Transport = c.Transport.(*vuTransport).transport(true)
	st.HTTPClient = c
}

// NewRateLimiter exposes the rps option's limiter to the tests.
func NewRateLimiter(rps int) *rateLimiter { return newRateLimiter(rps) }

// Limiter exposes the limiter a VU of st's run uses.
func Limiter(st *modules.State) *rateLimiter { return limiter(st) }

// Reserve exposes rateLimiter.reserve.
func (l *rateLimiter) Reserve(now time.Time) time.Duration { return l.reserve(now) }

// MD4 is md4Sum, for the test NTLM server (the standard library has no MD4).
var MD4 = md4Sum
